/**
 * Whether a proxy task can decide every service's requests yet: the one case where the load balancer's
 * health check depends on the flags (docs/flag-contract.md, "Reading the flags", rule 4). From phase 2,
 * a task that has not loaded a service's cutover document (and has no deploy-time marker) cannot know
 * whether the point of no return has passed, and answers that service's routes 503; behind a load
 * balancer it should not take traffic while other tasks can. Asked of the evaluator itself: a service
 * is undecided exactly when the evaluator answers `unavailable` for it. Pure.
 */
import { destinationOf, type FlagState, type ServiceContext } from '../flags/evaluate';

/** The services whose requests a task cannot decide with what it holds now (empty: it can decide all). */
export function undecided(
  services: readonly ServiceContext[],
  stateOf: (service: string) => FlagState,
  now: Date,
): string[] {
  return services
    .filter((s) => destinationOf(s, stateOf(s.service), { anonymous: 'legacy' }, now) === 'unavailable')
    .map((s) => s.service);
}
