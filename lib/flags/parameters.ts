import { FLAG_KINDS, type FlagKind } from './documents';

/** The SSM parameter names of one service's flags: `<prefix>/<service>/<kind>`. A contract: never rename. */
export type FlagParameterNames = { readonly [K in FlagKind]: string };

export function flagParameterNames(prefix: string, service: string): FlagParameterNames {
  return Object.fromEntries(
    FLAG_KINDS.map((kind) => [kind, `${prefix}/${service}/${kind}`]),
  ) as FlagParameterNames;
}

/** The label the flag guard moves to each version it has checked. Readers read `<name>:last-good`. */
export const LAST_GOOD_LABEL = 'last-good';

/** The name a reader reads: the checked version of a parameter. */
export function checkedName(name: string): string {
  return `${name}:${LAST_GOOD_LABEL}`;
}

/**
 * The flag guard's own durable record of the last checked text of each flag, `<prefix>/<service>/guard/<kind>`.
 * `DeleteParameter` removes every version and label of a flag; the record is what the guard restores
 * from. Written only by the guard (the operator policy denies it to people).
 */
export function guardRecordNames(prefix: string, service: string): FlagParameterNames {
  return Object.fromEntries(
    FLAG_KINDS.map((kind) => [kind, `${prefix}/${service}/guard/${kind}`]),
  ) as FlagParameterNames;
}

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
