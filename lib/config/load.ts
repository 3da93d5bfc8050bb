import { readFileSync } from 'node:fs';
import { DEMO_CONFIG_INPUT } from './demo';
import { ConfigError, parseConfigOrThrow } from './parse-config';
import type { MigrationConfig } from './types';

/** The embedded default environment, validated. */
export function demoConfig(): MigrationConfig {
  return parseConfigOrThrow(DEMO_CONFIG_INPUT, '(embedded demo)');
}

/**
 * Loads and validates a JSON environment file. Throws a `ConfigError` listing every problem,
 * or naming the file when it cannot be read or is not JSON.
 */
export function loadConfigFile(path: string): MigrationConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [
      {
        path: '(file)',
        message: `cannot read it (${(e as Error).message}); check the path (given with --config or MIGRATE_CONFIG to the CLI, or -c config=<path> to cdk)`,
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
export function selectConfig(configContext: unknown): MigrationConfig {
  if (configContext === undefined || configContext === 'demo') return demoConfig();
  if (typeof configContext !== 'string' || configContext === '') {
    throw new ConfigError('(context)', [
      { path: 'config', message: 'pass a file path: -c config=envs/prod.json' },
    ]);
  }
  return loadConfigFile(configContext);
}
