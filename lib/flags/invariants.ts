/**
 * The rules every write to a service's flags must respect, shared by the flag guard (which undoes a bad
 * write, however it was made) and the CLI (which refuses it before writing). Pure: no SDK, no env.
 */
import {
  type CutoverDocument,
  type FlagDocument,
  type FlagKind,
  type GatewayDocument,
  type OverrideDocument,
  overrideInForce,
  type RoutingDocument,
} from './documents';

/** The documents of one service as last validated. */
export interface FlagSet {
  readonly routing: RoutingDocument;
  readonly cutover: CutoverDocument;
  readonly gateway: GatewayDocument;
}

/** What else a rule may depend on. */
export interface RuleContext {
  /** The override as validated (its `last-good` version), if there is one. */
  readonly override?: OverrideDocument;
  /** When the write is made: an override is in force until its `expiresAt`. */
  readonly now: Date;
  /** How the service is routed at phase 3: the native ALB rewrite switches all or nothing. */
  readonly gatewayMode?: 'krakend' | 'alb';
  /** The service the flags belong to, for the messages (`<service>` when absent). */
  readonly service?: string;
}

type Rule<K extends FlagKind> = (
  proposed: FlagDocument<K>,
  current: FlagSet,
  context: RuleContext,
) => string[];

/**
 * The gateway weight and routing must agree, or one user's data is split: the ALB sends the weight's share
 * of ALL users to the service (by request, not by user), while the monolith's proxy sends the rest by
 * routing. Only when routing sends everyone to the service (or the cutover moved every user's data to it)
 * do both paths end at the same database. So a weight above 0 needs routing "all" or a completed cutover,
 * and routing narrows only once the weight is 0 again (before and after the cutover, override included).
 */
function splitByWeight(routing: RoutingDocument, { gateway }: FlagSet, context: RuleContext): string[] {
  if (routing.mode === 'all' || gateway.weight === 0) return [];
  const service = context.service ?? '<service>';
  return [
    `routing narrows only once the gateway weight is 0: the ALB sends ${gateway.weight} % of all users to the service whatever routing says, so routing "${routing.mode}" would send the rest of those users to the monolith and split their writes between the two databases. Run npm run migrate -- gateway ${service} 0 first`,
  ];
}

const RULES: { readonly [K in FlagKind]: Rule<K> } = {
  routing: (routing, current, context) => {
    const split = splitByWeight(routing, current, context);
    const { cutover } = current;
    if (!cutover.completed) {
      return routing.override
        ? ['routing.override only applies after the point of no return; remove it', ...split]
        : split;
    }
    if (routing.mode === 'all') return [];
    if (overrideInForce(routing, context.override, context.now)) return split;
    const passed = `the bulk migration completed at ${cutover.completedAt} (run ${cutover.runId}): routing must stay "all", because the monolith's database no longer has the data written since. Routing "${routing.mode}" would lose it.`;
    if (!routing.override) {
      return [
        `${passed} Fix forward, or see the emergency override in docs/runbook.md (it takes both keys: the override parameter and routing.override).`,
        ...split,
      ];
    }
    return [
      ...split,
      `${passed} routing.override names the override expiring at ${routing.override.expiresAt}, but no checked, unexpired override parameter with that expiresAt exists: key one is missing (docs/runbook.md, "Emergency override").`,
    ];
  },
  cutover: (next, current) => {
    const { cutover } = current;
    if (cutover.completed && !next.completed) {
      return [
        `the point of no return was passed at ${cutover.completedAt} (run ${cutover.runId}) and cannot be undone by a flag write`,
      ];
    }
    if (
      cutover.completed &&
      next.completed &&
      (next.runId !== cutover.runId || next.completedAt !== cutover.completedAt)
    ) {
      return [`the cutover is already recorded (run ${cutover.runId}); it is written once`];
    }
    if (!cutover.completed && next.completed && current.routing.mode !== 'all') {
      return [`the cutover can only be recorded while routing is "all" (it is "${current.routing.mode}")`];
    }
    return [];
  },
  gateway: ({ weight }, { routing, cutover }, context) => {
    const problems: string[] = [];
    if (context.gatewayMode === 'alb' && weight !== 0 && weight !== 100) {
      problems.push(
        `the service is routed by the native ALB rewrite, which switches all or nothing: use weight 0 or 100, not ${weight}`,
      );
    }
    // Whatever the cutover: after it, routing is "all" unless the emergency override sent users back.
    if (weight > 0 && routing.mode !== 'all') {
      const service = context.service ?? '<service>';
      const state = cutover.completed
        ? 'the emergency override has sent users back to the monolith'
        : 'no cutover is recorded';
      problems.push(
        `the gateway weight moves only once every user is on the service: routing is "${routing.mode}" and ${state}, so the ALB would send ${weight} % of all users to the service while the proxy sends the rest to the monolith, splitting users' writes between the two databases. Route everyone first: npm run migrate -- route ${service} all`,
      );
    }
    return problems;
  },
};

/** Why a write breaks the rules, with what to do instead. Empty when the write is allowed. */
export function violations<K extends FlagKind>(
  kind: K,
  proposed: FlagDocument<K>,
  current: FlagSet,
  context: RuleContext,
): string[] {
  return (RULES[kind] as Rule<K>)(proposed, current, context);
}
