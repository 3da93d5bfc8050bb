/**
 * The traffic-switch decisions, pure: which rules on the listener are a service's (by priority), what
 * they forward to, and which of them need new weights or a new pin.
 */
import {
  type GatewayMode,
  PIN_PINNED,
  PIN_RELEASED,
  parsePinRegex,
  pinRegex,
  priorityRange,
} from '../../lib/gateway/alb-rules';

export interface ForwardTarget {
  readonly targetGroupArn: string;
  readonly weight: number;
}

/** A listener rule as the hook needs it, read from DescribeRules. */
export interface ObservedRule {
  readonly ruleArn: string;
  /** Undefined for the default rule. */
  readonly priority?: number;
  readonly targets: readonly ForwardTarget[];
  /** The regex values of its path-pattern condition. */
  readonly pathRegexes: readonly string[];
}

export interface Weights {
  readonly legacy: number;
  readonly gateway: number;
}

/** The ALB weights for a gateway document weight (0-100): the shares of legacy and gateway. */
export function weightsFor(gatewayWeight: number): Weights {
  return { legacy: 100 - gatewayWeight, gateway: gatewayWeight };
}

/** The rules of a service in its block and mode, in priority order. */
export function rulesOfService(
  observed: readonly ObservedRule[],
  mode: GatewayMode,
  block: number,
): ObservedRule[] {
  const { first, last } = priorityRange(mode, block);
  return observed
    .filter((r) => r.priority !== undefined && r.priority >= first && r.priority <= last)
    .sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
}

export interface WeightedRules {
  readonly ruleArns: readonly string[];
  readonly legacyTargetGroupArn: string;
  readonly gatewayTargetGroupArn: string;
}

/**
 * A krakend-mode service's weighted rules: each forwards to exactly two target groups, one of them the
 * monolith's (the listener's default), the other the gateway's, the same in every rule. Anything else in
 * the block is not the app's rule: refuse rather than guess.
 */
export function weightedRules(
  service: string,
  rules: readonly ObservedRule[],
  legacyTargetGroupArn: string,
): WeightedRules | { readonly problem: string } {
  if (rules.length === 0)
    return {
      problem: `${service}: no rule in its krakend block on the listener; is its service stack deployed at phase 3?`,
    };
  const gateways = new Set<string>();
  for (const rule of rules) {
    const arns = rule.targets.map((t) => t.targetGroupArn);
    if (arns.length !== 2 || !arns.includes(legacyTargetGroupArn))
      return {
        problem: `${service}: rule ${rule.ruleArn} (priority ${rule.priority}) is not a weighted forward between the monolith and the gateway; leave the block to the app`,
      };
    for (const arn of arns) if (arn !== legacyTargetGroupArn) gateways.add(arn);
  }
  if (gateways.size !== 1)
    return {
      problem: `${service}: its rules forward to ${gateways.size} different gateway target groups; expected one`,
    };
  return {
    ruleArns: rules.map((r) => r.ruleArn),
    legacyTargetGroupArn,
    gatewayTargetGroupArn: [...gateways][0],
  };
}

/** The weighted rules whose forward weights differ from the wanted ones (compared per target group). */
export function rulesToModify(
  observed: readonly ObservedRule[],
  targets: WeightedRules,
  wanted: Weights,
): string[] {
  return observed
    .filter((rule) => targets.ruleArns.includes(rule.ruleArn))
    .filter((rule) => {
      const weightOf = (arn: string) => rule.targets.find((t) => t.targetGroupArn === arn)?.weight;
      return (
        weightOf(targets.legacyTargetGroupArn) !== wanted.legacy ||
        weightOf(targets.gatewayTargetGroupArn) !== wanted.gateway
      );
    })
    .map((rule) => rule.ruleArn);
}

export interface PinPlan {
  readonly ruleArn: string;
  readonly pin: string;
  /** The regex the pin rule must have. */
  readonly regex: string;
  readonly change: boolean;
}

/**
 * An alb-mode service's pin rule is the first of its alb block; weight 0 pins the routes to the monolith,
 * 100 releases them (the guard allows only those). The route alternation is read from the live rule, so
 * the hook needs nothing from the deploy but the block.
 */
export function pinPlan(
  service: string,
  rules: readonly ObservedRule[],
  block: number,
  wanted: Weights,
): PinPlan | { readonly problem: string } {
  const { first } = priorityRange('alb', block);
  const rule = rules.find((r) => r.priority === first);
  const parsed = rule && rule.pathRegexes.length === 1 ? parsePinRegex(rule.pathRegexes[0]) : undefined;
  if (!rule || !parsed)
    return {
      problem: `${service}: no pin rule at priority ${first} (^/?(...)$ or ^#(...)$) on the listener; is its service stack deployed at phase 3 in alb mode?`,
    };
  const pin = wanted.gateway === 0 ? PIN_PINNED : PIN_RELEASED;
  const regex = pinRegex(pin, parsed.body);
  return { ruleArn: rule.ruleArn, pin, regex, change: rule.pathRegexes[0] !== regex };
}

/**
 * Why a run has nothing to apply for a service or a listener, or undefined when it has: after a deploy
 * that moved them (a mode switch, a service leaving phase 3, a certificate that moved the rules to a new
 * listener) the events of that deploy reach this function before the operations stack gives it its new
 * configuration; that run finds nothing of its own and must not fail (a retry, then a page).
 */
export function nothingOwned(
  target: { readonly service: string; readonly mode: GatewayMode; readonly block: number },
  rules: readonly ObservedRule[],
): string | undefined {
  if (rules.length > 0) return undefined;
  const { first, last } = priorityRange(target.mode, target.block);
  return `${target.service}: no rule in its ${target.mode} block (priorities ${first}-${last}) on the listener: its stack no longer routes it in this mode (phase or mode changed, the new configuration comes with the operations stack)`;
}

/**
 * The parameters to write: those whose current value differs from the wanted one (a missing parameter
 * has none). SSM keeps 100 versions of a parameter: a write every few minutes that changes nothing would
 * push every useful version out of its history within hours.
 */
export function writesNeeded(
  current: ReadonlyMap<string, string | undefined>,
  wanted: Readonly<Record<string, string>>,
): [string, string][] {
  return Object.entries(wanted).filter(([name, value]) => current.get(name) !== value);
}
