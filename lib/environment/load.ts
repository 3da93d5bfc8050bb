import { readFileSync } from 'node:fs';
import { DEMO_CONFIG_INPUT } from '../config/demo';
import { ConfigError } from '../config/parse';
import type { MigrationConfig } from '../config/types';
import { parseConfigOrThrow } from './parse';

/** The embedded default environment, validated. */
export function demoConfig(): MigrationConfig {
  return parseConfigOrThrow(DEMO_CONFIG_INPUT, '(embedded demo)');
}

/**
 * How the user gave the file's path, so that a message names what to change: the CDK app's context
 * value by default; the operator CLI passes its own (`--config <path>`, `MIGRATE_CONFIG`).
 */
export interface ConfigPathSource {
  /** Completes "check the path ...", e.g. `given with -c config=<path> to cdk`. */
  readonly where: string;
  /** A correct way to give a path, e.g. `-c config=envs/prod.json`. */
  readonly example: string;
}

export const CDK_CONFIG_SOURCE: ConfigPathSource = {
  where: 'given with -c config=<path> to cdk',
  example: '-c config=envs/prod.json',
};

/**
 * Loads and validates a JSON environment file. Throws a `ConfigError` listing every problem,
 * or naming the file when it cannot be read or is not JSON.
 */
export function loadConfigFile(path: string, source = CDK_CONFIG_SOURCE): MigrationConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [
      {
        path: '(file)',
        message: `cannot read it (${(e as Error).message}); check the path ${source.where}`,
      },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(path, [{ path: '(file)', message: `is not valid JSON (${(e as Error).message})` }]);
  }
  return parseConfigOrThrow(json, path);
}

/** The configuration chosen by the `config` context value: a file path, or the embedded demo when absent. */
export function selectConfig(configContext: unknown, source = CDK_CONFIG_SOURCE): MigrationConfig {
  if (configContext === undefined || configContext === 'demo') return demoConfig();
  if (typeof configContext !== 'string' || configContext === '') {
    throw new ConfigError('(context)', [{ path: 'config', message: `pass a file path: ${source.example}` }]);
  }
  return loadConfigFile(configContext, source);
}
