import type { ExtractedServiceConfig, MigrationConfig } from '../config/types';
import { type FlagParameterNames, flagParameterNames } from './parameters';

/** What the monolith is told about the services it proxies to. */
export interface LegacyMigrationWiring {
  readonly environment: Readonly<Record<string, string>>;
  /** The flag parameters it may read: exactly these. */
  readonly readableParameters: readonly string[];
}

/**
 * Environment for the monolith's proxy: for each service from phase 1, its Service Connect URL, its
 * flag parameter names and the routes it owns; and the flag cache TTL. See docs/flag-contract.md.
 */
export function legacyMigrationWiring(
  config: MigrationConfig,
  services: readonly ExtractedServiceConfig[],
): LegacyMigrationWiring {
  const environment: Record<string, string> = {};
  const readableParameters: string[] = [];
  if (services.length > 0) {
    environment.MIGRATION_SERVICES = services.map((s) => s.name).join(',');
    environment.MIGRATION_FLAG_CACHE_TTL_SECONDS = String(config.flags.cacheTtlSeconds);
  }
  for (const s of services) {
    const names: FlagParameterNames = flagParameterNames(config.flags.parameterPrefix, s.name);
    const key = `MIGRATION_${s.name.toUpperCase()}`;
    environment[`${key}_URL`] = `http://${s.name}:${s.port}`;
    environment[`${key}_ROUTING_PARAMETER`] = names.routing;
    environment[`${key}_CUTOVER_PARAMETER`] = names.cutover;
    environment[`${key}_ROUTES`] = JSON.stringify(s.routes);
    readableParameters.push(names.routing, names.cutover);
  }
  return { environment, readableParameters };
}
