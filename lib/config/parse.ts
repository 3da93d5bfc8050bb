/**
 * Parses an environment document with the environment schema (schema/environment.ts) and turns zod's
 * issues into the config's problems: the dotted path of the value and what to do about it, every problem
 * of the file's shape at once.
 *
 * This is the shape only. The app and the CLI parse through lib/environment, which adds the checks that
 * need the domain's planning (listener rules, overlapping routes) once the shape is valid.
 */
import type { z } from 'zod';
import { type ConfigProblem, join } from '../validation/reader';
import { environmentSchema } from './schema/environment';
import type { MigrationConfig } from './types';

export type ParseResult =
  | { readonly ok: true; readonly config: MigrationConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Thrown by `parseConfigOrThrow` and the loaders; lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `Invalid configuration ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** `services[0].cpu` from `['services', 0, 'cpu']`; the document itself is `(root)`. */
export function dotted(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.reduce<string>((acc, key) => join(acc, typeof key === 'number' ? key : String(key)), '');
}

/** One problem per issue, and per key of an unknown-keys issue. */
export function problemsOf(error: z.ZodError): ConfigProblem[] {
  return error.issues.flatMap((iss) =>
    iss.code === 'unrecognized_keys'
      ? iss.keys.map((key) => ({ path: dotted([...iss.path, key]), message: iss.message }))
      : [{ path: dotted(iss.path), message: iss.message }],
  );
}

/**
 * Validates the shape of an untrusted configuration document and applies the documented defaults.
 * Never throws: every problem is returned with its path and the fix.
 */
export function parseShape(input: unknown): ParseResult {
  const result = environmentSchema.safeParse(input);
  if (!result.success) return { ok: false, problems: problemsOf(result.error) };
  return { ok: true, config: result.data };
}
