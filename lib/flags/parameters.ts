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

/**
 * Why a flag parameter's name must not change, and the way out: the deploy's custom resource refuses the
 * update with it, and `npm run guard` reports it before the deploy. A parameter cannot be renamed, and
 * its value, history and `last-good` label are the running system's (a new name starts from the initial
 * value: a completed cutover or a routing decision would be forgotten). The names end alike
 * (`<service>/<flag>`); what differs before that is the prefix.
 */
export function flagRenameProblem(oldName: string, newName: string): string {
  const a = oldName.split('/');
  const b = newName.split('/');
  let common = 0;
  while (common < Math.min(a.length, b.length) - 1 && a[a.length - 1 - common] === b[b.length - 1 - common])
    common++;
  const oldPrefix = a.slice(0, a.length - common).join('/');
  const newPrefix = b.slice(0, b.length - common).join('/');
  return (
    `${oldName} would move to ${newName}: a flag parameter cannot be renamed, and its value, history and last-good label belong to the running system. ` +
    `Set flags.parameterPrefix back to "${oldPrefix}" in the environment file (it is now "${newPrefix}"; or the service was renamed: keep its name) and deploy again. ` +
    'A new prefix needs a new environment (new data stacks).'
  );
}
