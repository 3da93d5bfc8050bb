/**
 * The proxy's decision for one request on a service route: the flag contract's `destinationOf`, and
 * nothing of its own. Pure.
 */
import type { AnonymousPolicy } from '../config/types';
import { type Destination, destinationOf, type FlagState, type ServiceContext } from '../flags/evaluate';
import type { ProxyService } from './contract';

/** What the deploy says about a service, as the evaluator takes it. */
export function serviceContext(service: ProxyService): ServiceContext {
  return { service: service.name, phase: service.phase, cutoverRecorded: service.cutoverRecorded };
}

/**
 * The destination when it does not depend on who the user is, else undefined. Finding the user can cost
 * (a body read, a signature check), so the proxy asks this first. It asks the evaluator itself, twice,
 * with an anonymous user of each policy: a decision that names the user's policy is the only kind that
 * can depend on the user (the evaluator consults the user only through the routing document's users and
 * percent), so when both answers agree no user can change it.
 */
export function destinationWithoutUser(
  context: ServiceContext,
  state: FlagState,
  now: Date,
): Destination | undefined {
  const toLegacy = destinationOf(context, state, { anonymous: 'legacy' }, now);
  const toService = destinationOf(context, state, { anonymous: 'service' }, now);
  return toLegacy === toService ? toLegacy : undefined;
}

/** The destination of a request of `userId` (absent: anonymous, sent where `anonymous` says). */
export function destinationFor(
  context: ServiceContext,
  state: FlagState,
  userId: string | undefined,
  anonymous: AnonymousPolicy,
  now: Date,
): Destination {
  return destinationOf(context, state, userId === undefined ? { anonymous } : { userId, anonymous }, now);
}
