/**
 * The rules every write to a service's flags must respect, shared by the flag guard (which undoes a bad
 * write, however it was made) and the CLI (which refuses it before writing). Pure: no SDK, no env.
 */
import type {
  CutoverDocument,
  FlagDocument,
  FlagKind,
  GatewayDocument,
  OverrideDocument,
  RoutingDocument,
} from './documents';

/** The documents of one service as last validated. */
export interface FlagSet {
  readonly routing: RoutingDocument;
  readonly cutover: CutoverDocument;
  readonly gateway: GatewayDocument;
}

/** What else a rule may depend on. */
export interface RuleContext {
  /** A valid, unexpired emergency override (see `parseOverride`): the only way away from "all" after the cutover. */
  readonly override?: OverrideDocument;
  /** How the service is routed at phase 3: the native ALB rewrite switches all or nothing. */
  readonly gatewayMode?: 'krakend' | 'alb';
}

/** Why a write breaks the rules, with what to do instead. Empty when the write is allowed. */
export function violations<K extends FlagKind>(
  kind: K,
  proposed: FlagDocument<K>,
  current: FlagSet,
  context: RuleContext = {},
): string[] {
  const cutover = current.cutover;
  switch (kind) {
    case 'routing': {
      const routing = proposed as RoutingDocument;
      if (cutover.completed && routing.mode !== 'all' && !context.override) {
        return [
          `the bulk migration completed at ${cutover.completedAt} (run ${cutover.runId}): routing must stay "all", ` +
            `because the monolith's database no longer has the data written since. Routing "${routing.mode}" would lose it. ` +
            'Fix forward, or see the emergency override in docs/runbook.md.',
        ];
      }
      return [];
    }
    case 'cutover': {
      const next = proposed as CutoverDocument;
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
    }
    default: {
      const { weight } = proposed as GatewayDocument;
      if (context.gatewayMode === 'alb' && weight !== 0 && weight !== 100) {
        return [
          `the service is routed by the native ALB rewrite, which switches all or nothing: use weight 0 or 100, not ${weight}`,
        ];
      }
      return [];
    }
  }
}
