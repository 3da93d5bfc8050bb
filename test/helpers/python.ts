import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Python interpreter of an installed Python command (`aws`, `moto_server`): the first line of its
 * script, found on PATH (through pyenv's shim when it is one). Undefined when the command is missing or
 * is not a Python script; the caller then runs the command itself.
 */
export function scriptInterpreter(command: string): string | undefined {
  const onPath = (process.env.PATH ?? '')
    .split(':')
    .map((d) => join(d, command))
    .find((f) => existsSync(f));
  if (!onPath) return undefined;
  let script = onPath;
  if (readFileSync(onPath, 'utf8').includes('pyenv')) {
    const real = spawnSync('pyenv', ['which', command], { encoding: 'utf8' });
    if (real.status !== 0) return undefined;
    script = real.stdout.trim();
  }
  const first = readFileSync(script, 'utf8').split('\n')[0];
  return /^#!\s*(\S*python[0-9.]*)\s*$/.exec(first)?.[1];
}
