/** Valid Fargate task sizes (AWS ECS developer guide, "Task CPU and memory"). */

function range(fromMiB: number, toMiB: number, stepMiB: number): number[] {
  const out: number[] = [];
  for (let m = fromMiB; m <= toMiB; m += stepMiB) out.push(m);
  return out;
}

/** CPU units mapped to the memory sizes (MiB) Fargate accepts with them. */
export const FARGATE_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

export const FARGATE_CPUS: readonly number[] = [...FARGATE_SIZES.keys()];

/** A short description of the memory sizes valid for `cpu`, for error messages. */
export function describeMemoryFor(cpu: number): string {
  const sizes = FARGATE_SIZES.get(cpu) ?? [];
  if (sizes.length <= 4) return sizes.join(', ');
  const step = sizes[1] - sizes[0];
  return `${sizes[0]} to ${sizes[sizes.length - 1]} in steps of ${step}`;
}
