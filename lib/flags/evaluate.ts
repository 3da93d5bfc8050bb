/**
 * Does this request go to the new service? The one evaluator, used by the CDK app's tests, the hooks,
 * the CLI and the routing proxy; PHP and Go readers implement the same rules and prove it against
 * lib/flags/vectors.json (see docs/flag-contract.md).
 */
import type { Phase } from '../config/types';
import { fnv1a32 } from '../hash';
import { capabilitiesOf } from '../phases';
import {
  type CutoverDocument,
  type OverrideDocument,
  overrideInForce,
  type RoutingDocument,
} from './documents';

/**
 * The user's sticky bucket, 0-99: FNV-1a-32 of the UTF-8 bytes of `<service>:<userId>`, modulo 100.
 * A user is in at `percent` when bucket < percent, so a user in at 10 stays in at 20. The service
 * name in the key gives each service an independent sample.
 */
export function bucketOf(service: string, userId: string): number {
  return fnv1a32(`${service}:${userId}`) % 100;
}

// A parsed document is immutable: its allowlist is turned into a set once, on first use.
const allowlists = new WeakMap<RoutingDocument, ReadonlySet<string>>();
function listed(doc: RoutingDocument, userId: string): boolean {
  let set = allowlists.get(doc);
  if (!set) {
    set = new Set(doc.users);
    allowlists.set(doc, set);
  }
  return set.has(userId);
}

/** Whether requests of `userId` for `service` go to the new service under the routing document alone. */
export function routesToService(doc: RoutingDocument, service: string, userId: string): boolean {
  switch (doc.mode) {
    case 'off':
      return false;
    case 'all':
      return true;
    case 'users':
      return listed(doc, userId);
    case 'percent':
      return listed(doc, userId) || bucketOf(service, userId) < doc.percent;
  }
}

/**
 * Where a request goes. `unavailable`: the reader cannot know yet whether the point of no return has
 * passed, so the request must wait (the proxy answers 503 on that service's routes only).
 */
export type Destination = 'service' | 'legacy' | 'unavailable';

/** What the deploy tells a reader about a service. */
export interface ServiceContext {
  readonly service: string;
  readonly phase: Phase;
  /** The deploy-time marker: the environment config records that the cutover is completed. */
  readonly cutoverRecorded: boolean;
}

/**
 * A reader's view of a service's flags: the last good documents it loaded (absent: never loaded).
 * Readers keep the cutover as a latch (see `nextFlagState` in loaded-flags.ts).
 */
export interface FlagState {
  readonly routing?: RoutingDocument;
  readonly cutover?: CutoverDocument;
  readonly override?: OverrideDocument;
}

/** Who sent the request: an id, or none (`anonymous` says where such a request goes when it matters). */
export interface RequestUser {
  readonly userId?: string;
  readonly anonymous: 'legacy' | 'service';
}

/**
 * The decision, from routing, cutover and override together:
 * 1. once the cutover is completed (the marker, or the latched document), the request goes to the new
 *    service, unless both keys of the emergency override are in force, when the routing document decides;
 * 2. otherwise, from phase 2 (a cutover could have happened) a reader that has no cutover document yet
 *    cannot decide: `unavailable`;
 * 3. otherwise the routing document decides; with none loaded yet, the monolith.
 */
export function destinationOf(
  context: ServiceContext,
  state: FlagState,
  user: RequestUser,
  now: Date,
): Destination {
  const routed = (doc: RoutingDocument): Destination => {
    if (doc.mode === 'off') return 'legacy';
    if (doc.mode === 'all') return 'service';
    if (user.userId === undefined) return user.anonymous;
    return routesToService(doc, context.service, user.userId) ? 'service' : 'legacy';
  };
  if (context.cutoverRecorded || state.cutover?.completed) {
    return state.routing && overrideInForce(state.routing, state.override, now)
      ? routed(state.routing)
      : 'service';
  }
  if (state.cutover === undefined && capabilitiesOf(context).cutover) return 'unavailable';
  return state.routing ? routed(state.routing) : 'legacy';
}
