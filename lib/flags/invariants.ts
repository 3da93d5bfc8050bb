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
}

type Rule<K extends FlagKind> = (
  proposed: FlagDocument<K>,
  current: FlagSet,
  context: RuleContext,
) => string[];

const RULES: { readonly [K in FlagKind]: Rule<K> } = {
  routing: (routing, { cutover }, context) => {
    if (!cutover.completed) {
      return routing.override
        ? ['routing.override only applies after the point of no return; remove it']
        : [];
    }
    if (routing.mode === 'all' || overrideInForce(routing, context.override, context.now)) return [];
    const passed = `the bulk migration completed at ${cutover.completedAt} (run ${cutover.runId}): routing must stay "all", because the monolith's database no longer has the data written since. Routing "${routing.mode}" would lose it.`;
    if (!routing.override) {
      return [
        `${passed} Fix forward, or see the emergency override in docs/runbook.md (it takes both keys: the override parameter and routing.override).`,
      ];
    }
    return [
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
  gateway: ({ weight }, _current, context) => {
    if (context.gatewayMode === 'alb' && weight !== 0 && weight !== 100) {
      return [
        `the service is routed by the native ALB rewrite, which switches all or nothing: use weight 0 or 100, not ${weight}`,
      ];
    }
    return [];
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
