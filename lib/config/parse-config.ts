/**
 * Parses an environment document with the environment schema (schema.ts) and turns zod's issues into
 * the config's problems: the dotted path of the value and what to do about it, every problem at once.
 */
import type { z } from 'zod';
import { type ConfigProblem, join } from '../validation/reader';
import { environmentSchema } from './schema';
import type { MigrationConfig } from './types';

export { hasPinnedTag, LOG_RETENTION_DAYS, placeholders, RESERVED_ENV_PREFIXES } from './schema';

export type ParseResult =
  | { readonly ok: true; readonly config: MigrationConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Thrown by `loadConfig` and friends; lists every problem, one per line. */
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
function dotted(path: readonly PropertyKey[]): string {
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
 * Validates an untrusted configuration document and applies the documented defaults.
 * Never throws: every problem is returned with its path and the fix.
 */
export function parseConfig(input: unknown): ParseResult {
  const result = environmentSchema.safeParse(input);
  if (!result.success) return { ok: false, problems: problemsOf(result.error) };
  return { ok: true, config: result.data };
}

/** Like `parseConfig` but throws a `ConfigError` naming `source`. */
export function parseConfigOrThrow(input: unknown, source: string): MigrationConfig {
  const result = parseConfig(input);
  if (!result.ok) throw new ConfigError(source, result.problems);
  return result.config;
}
