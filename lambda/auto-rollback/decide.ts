/**
 * The automatic rollback's decision, pure: a service's alarm went to ALARM; what may be switched back
 * without losing data?
 * - before the point of no return: routing to "off" (everyone back on the monolith and its data);
 * - at phase 3: gateway weight to 0 (the monolith's proxy still routes to the service, so no data moves);
 * - after the point of no return and below phase 3: nothing may be switched; alert only.
 */
import type { GatewayDocument, RoutingDocument } from '../../lib/flags/documents';
import type { FlagSet } from '../../lib/flags/invariants';
import { capabilitiesOf } from '../../lib/phases';
import { AUTO_ROLLBACK_REASON_PREFIX } from '../../lib/write-back/leaving';

export interface RollbackInput {
  readonly service: string;
  readonly phase: number;
  readonly alarmName: string;
  /** An alarm of the gateway itself: only the gateway weight moves (the service behind it is fine). */
  readonly gatewayOnly?: boolean;
  readonly flags: FlagSet;
}

export interface RollbackPlan {
  /** The routing document to write, when routing is switched off. */
  readonly routing?: RoutingDocument;
  /** The gateway document to write, when the gateway weight is shifted to 0. */
  readonly gateway?: GatewayDocument;
  /** What was decided and why, for the log and the alert. */
  readonly summary: string;
}

export function planRollback(input: RollbackInput): RollbackPlan {
  const { flags, alarmName } = input;
  const reason = `${AUTO_ROLLBACK_REASON_PREFIX}${alarmName}`.slice(0, 200);
  const atAlb = capabilitiesOf(input).atAlb;
  const gateway = atAlb && flags.gateway.weight > 0 ? { weight: 0, reason } : undefined;
  const routing =
    !input.gatewayOnly && !flags.cutover.completed && flags.routing.mode !== 'off'
      ? { ...flags.routing, mode: 'off' as const, reason }
      : undefined;

  const actions = [
    ...(gateway ? [`gateway weight ${flags.gateway.weight} -> 0`] : []),
    ...(routing ? [`routing ${flags.routing.mode} -> off`] : []),
  ];
  if (actions.length > 0) return { routing, gateway, summary: `${input.service}: ${actions.join(', ')}` };
  if (flags.cutover.completed) {
    return {
      summary:
        `${input.service}: past the point of no return (run ${flags.cutover.runId}); routing stays "all"` +
        (atAlb ? ' and the gateway weight is already 0' : '') +
        '. Alert only: fix forward.',
    };
  }
  return {
    summary: `${input.service}: routing is already off${atAlb ? ' and the gateway weight is 0' : ''}; nothing to switch`,
  };
}
