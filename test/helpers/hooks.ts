import type { HookServiceConfig } from '../../lambda/shared/environment';
import { TIER_MAX_BYTES } from '../../lib/flags/documents';
import { flagParameterNames, overrideParameterName } from '../../lib/flags/parameters';

/** What the operations stack tells the hooks about a service, for hook tests. */
export function hookService(
  prefix: string,
  options: { phase?: number; alarmNames?: string[]; gatewayMode?: 'krakend' | 'alb' } = {},
): HookServiceConfig {
  return {
    service: 'users',
    phase: options.phase ?? 1,
    names: flagParameterNames(prefix, 'users'),
    overrideName: overrideParameterName(prefix, 'users'),
    routingMaxBytes: TIER_MAX_BYTES.standard,
    gatewayMode: options.gatewayMode ?? 'krakend',
    alarmNames: options.alarmNames ?? [],
  };
}
