/**
 * What the legacy task is told about the migration, by where routing happens (`routing.mode`): the
 * routing proxy's runtime configuration, or the monolith's own environment wiring (docs/flag-contract.md).
 * Pure: the platform stack turns it into containers and a policy.
 */
import type { ExtractedServiceConfig, MigrationConfig } from '../config/types';
import { type LegacyMigrationWiring, legacyMigrationWiring } from '../flags/legacy-wiring';
import { type ProxyRuntimeConfig, proxyReadableParameters, proxyRuntimeConfig } from './contract';

export type RoutingWiring =
  /** The monolith routes itself: its environment and the flag parameters it may read. */
  | { readonly mode: 'in-app'; readonly inApp: LegacyMigrationWiring }
  /** The routing proxy in front of the monolith: its configuration and the parameters it may read. */
  | {
      readonly mode: 'proxy';
      readonly proxy: ProxyRuntimeConfig;
      /** Container memory limit of the proxy, MiB. */
      readonly memoryMiB: number;
      readonly readableParameters: readonly string[];
    };

/** The wiring for `services` (those at phase 1 or later; at phase 0 the proxy passes everything through). */
export function routingWiring(
  config: MigrationConfig,
  services: readonly ExtractedServiceConfig[],
): RoutingWiring {
  if (config.routing.mode === 'in-app')
    return { mode: 'in-app', inApp: legacyMigrationWiring(config, services) };
  const proxy = proxyRuntimeConfig(config, config.routing.proxy, services);
  return {
    mode: 'proxy',
    proxy,
    memoryMiB: config.routing.proxy.memoryMiB,
    readableParameters: proxyReadableParameters(proxy),
  };
}
