/**
 * gateway-gate decisions, pure: whether a deploy may change how the ALB routes a service's paths, and
 * the pin its `alb`-mode pin rule is created or updated with.
 *
 * A deploy that takes a service's routes out of a mode (phase 3 -> 2, `alb` <-> `krakend`) deletes the
 * rules or the target group that mode sends traffic to, and CloudFormation deletes them only in its
 * cleanup, after the rest of the update: while the gateway weight is above 0, those requests fail (503,
 * or 404 from a gateway rebuilt without the service's endpoints). At weight 0 nothing goes there: the
 * weighted rules send everything to the monolith, the pin rule holds every route on the monolith. So the
 * gate refuses the update, before any rule or target group changes, unless the checked gateway document
 * says 0 and the traffic switch has applied it (the live values say so).
 */
import { PIN_PINNED, PIN_RELEASED } from '../../lib/gateway/alb-rules';
import type { AlbRouting, GateProperties } from '../../lib/hooks/gate-contract';

export type { AlbRouting, GateProperties };

/** What the gate read: the checked gateway weight, and the live values the switch wrote. */
export interface GateReading {
  /**
   * The stack is rolling back (its status ends in ROLLBACK_IN_PROGRESS): the previous routing comes
   * back, and a refusal would leave the stack in UPDATE_ROLLBACK_FAILED.
   */
  readonly rollingBack: boolean;
  readonly weight: number;
  readonly liveGatewayWeight?: string;
  readonly livePin?: string;
}

export type GateDecision =
  | { readonly allow: true; readonly pin: string; readonly why: string }
  | { readonly allow: false; readonly reason: string };

/**
 * Whether the decision needs the reading (SSM and the stack's status): when the routes leave a mode, or
 * the alb pin rule needs its pin. Nothing else reads, so nothing else can fail on a read.
 */
export function needsReading(
  requestType: 'Create' | 'Update' | 'Delete',
  props: GateProperties,
  old?: GateProperties,
): boolean {
  if (requestType === 'Delete') return false;
  if (props.Routing === 'alb') return true;
  return requestType === 'Update' && old !== undefined && leaves(old.Routing, props.Routing);
}

/** The routes leave a phase-3 mode: to phase 1-2, or to the other mode. */
function leaves(from: AlbRouting, to: AlbRouting): from is Exclude<AlbRouting, 'none'> {
  return from !== 'none' && from !== to;
}

const MODE_LEFT: Readonly<Record<Exclude<AlbRouting, 'none'>, string>> = {
  krakend:
    'the weighted rules that send that share to the KrakenD gateway, which drops its endpoints once the service is gone from it (404)',
  alb: "the service's target group, which the released pin rule lets the routes reach (503 once it is drained)",
};

export function gateDecision(
  requestType: 'Create' | 'Update' | 'Delete',
  props: GateProperties,
  old: GateProperties | undefined,
  reading: GateReading | undefined,
): GateDecision {
  if (requestType === 'Delete') return { allow: true, pin: PIN_PINNED, why: 'the stack is going away' };
  if (!reading)
    return {
      allow: true,
      pin: PIN_PINNED,
      why: `routing ${old?.Routing ?? 'created'} -> ${props.Routing}: nothing to hold`,
    };
  const livePin = reading.livePin === PIN_RELEASED ? PIN_RELEASED : PIN_PINNED;
  const from = requestType === 'Update' ? old?.Routing : undefined;
  const to = props.Routing;
  // A rollback restores what ran before: the pin as the switch last applied it, never a refusal.
  if (reading.rollingBack) return { allow: true, pin: livePin, why: `rollback to ${to}: nothing held` };
  if (from && leaves(from, to)) {
    const transition = to === 'none' ? `phase 3 -> 2 (out of ${from} mode)` : `${from} -> ${to} mode`;
    const applied = from === 'krakend' ? reading.liveGatewayWeight === '0' : reading.livePin === PIN_PINNED;
    if (reading.weight > 0 || !applied) {
      const why =
        reading.weight > 0
          ? `its gateway weight is ${reading.weight} (checked ${props.GatewayParameter})`
          : `the traffic switch has not applied weight 0 yet (${from === 'krakend' ? `${props.LiveGatewayWeightParameter} says ${reading.liveGatewayWeight ?? 'nothing'}` : `${props.LivePinParameter} says ${reading.livePin ?? 'nothing'}`})`;
      return {
        allow: false,
        reason: `${props.Service}: this deploy takes its routes ${transition} while ${why}: requests would keep going to ${MODE_LEFT[from]}. Run \`npm run migrate -- gateway ${props.Service} 0\` first, wait until \`npm run migrate -- status ${props.Service}\` shows weight 0 applied, then deploy again (docs/runbook.md, "Before each transition"). Nothing was changed: the stack rolls back.`,
      };
    }
  }
  if (to !== 'alb') return { allow: true, pin: PIN_PINNED, why: `routing ${from ?? 'created'} -> ${to}` };
  // Entering alb mode: the pin rule is created pinned, whatever an earlier alb period left in the live
  // pin (the target group is new and empty); the traffic switch releases it when the weight says so,
  // after the deploy. Staying in alb mode, or a stack created in alb mode: the pin as last applied.
  if (from !== undefined && from !== 'alb')
    return {
      allow: true,
      pin: PIN_PINNED,
      why: `entering alb mode from ${from}: the pin rule starts pinned`,
    };
  return { allow: true, pin: livePin, why: `alb mode: the pin as last applied (${livePin})` };
}
