/**
 * The whole check of an environment document, as the app and the CLI run it: its shape (the schema,
 * lib/config/parse.ts), then, once the shape is valid, the checks that need the domain's planning
 * (checks.ts). Never throws; `parseConfigOrThrow` does, with every problem.
 */
import { ConfigError, type ParseResult, parseShape } from '../config/parse';
import type { MigrationConfig } from '../config/types';
import { domainProblems } from './checks';

export type { ParseResult };

/** Validates an untrusted configuration document and applies the documented defaults. */
export function parseConfig(input: unknown): ParseResult {
  const shaped = parseShape(input);
  if (!shaped.ok) return shaped;
  const problems = domainProblems(shaped.config);
  return problems.length === 0 ? shaped : { ok: false, problems };
}

/** Like `parseConfig` but throws a `ConfigError` naming `source`. */
export function parseConfigOrThrow(input: unknown, source: string): MigrationConfig {
  const result = parseConfig(input);
  if (!result.ok) throw new ConfigError(source, result.problems);
  return result.config;
}
