import type { ExtractedServiceConfig, MigrationConfig } from '../config/types';
import { serviceUrl } from '../naming';
import {
  type FlagParameterNames,
  flagParameterNames,
  LAST_GOOD_LABEL,
  overrideParameterName,
} from './parameters';

/** What the monolith is told about the services it proxies to. */
export interface LegacyMigrationWiring {
  readonly environment: Readonly<Record<string, string>>;
  /** The flag parameters it may read: exactly these. */
  readonly readableParameters: readonly string[];
}

/**
 * Environment for a monolith that routes itself (`in-app`): for each service from phase 1, its Service
 * Connect URL, its phase, its flag and override parameter names (read at `:last-good`), the deploy-time
 * marker of a recorded cutover, and the routes it owns; and the flag cache TTL. See docs/flag-contract.md.
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
    environment.MIGRATION_FLAG_LABEL = LAST_GOOD_LABEL;
  }
  for (const s of services) {
    const names: FlagParameterNames = flagParameterNames(config.flags.parameterPrefix, s.name);
    const key = `MIGRATION_${s.name.toUpperCase()}`;
    environment[`${key}_URL`] = serviceUrl(s.name);
    environment[`${key}_ROUTING_PARAMETER`] = names.routing;
    environment[`${key}_CUTOVER_PARAMETER`] = names.cutover;
    environment[`${key}_OVERRIDE_PARAMETER`] = overrideParameterName(config.flags.parameterPrefix, s.name);
    environment[`${key}_PHASE`] = String(s.phase);
    // Empty until the cutover is recorded in the environment file; then the run id.
    environment[`${key}_CUTOVER_RECORDED`] = s.cutoverRecorded?.runId ?? '';
    environment[`${key}_ROUTES`] = JSON.stringify(s.routes);
    readableParameters.push(
      names.routing,
      names.cutover,
      overrideParameterName(config.flags.parameterPrefix, s.name),
    );
  }
  return { environment, readableParameters };
}
