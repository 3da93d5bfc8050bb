import { FLAG_KINDS, type FlagKind } from './documents';

/** The SSM parameter names of one service's flags: `<prefix>/<service>/<kind>`. A contract: never rename. */
export type FlagParameterNames = { readonly [K in FlagKind]: string };

export function flagParameterNames(prefix: string, service: string): FlagParameterNames {
  return Object.fromEntries(
    FLAG_KINDS.map((kind) => [kind, `${prefix}/${service}/${kind}`]),
  ) as FlagParameterNames;
}

/** The label the flag guard moves to each version it has checked. */
export const LAST_GOOD_LABEL = 'last-good';

/** The emergency override parameter of a service: never created by a deploy (see OverrideDocument). */
export function overrideParameterName(prefix: string, service: string): string {
  return `${prefix}/${service}/override`;
}

/**
 * The ALB weights as last applied by the traffic-switch hook (plain numbers). The listener rules read
 * them with CloudFormation dynamic references, so a deploy re-creates a rule with the live weights,
 * never with the template's. Written only by the hook.
 */
export function liveWeightParameterNames(prefix: string, service: string) {
  return {
    legacy: `${prefix}/${service}/live/legacy-weight`,
    gateway: `${prefix}/${service}/live/gateway-weight`,
  } as const;
}

/** For `alb`-mode services: the pin value of the pin rule (see lib/gateway/alb-rules.ts), written only by the traffic-switch hook. */
export function livePinParameterName(prefix: string, service: string): string {
  return `${prefix}/${service}/live/alb-pin`;
}
