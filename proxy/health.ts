/**
 * The load balancer's health check (`legacy.healthCheckPath`): the monolith's answer, unless the task
 * cannot decide a service's requests yet (lib/proxy/readiness.ts: from phase 2, no marker, no cutover
 * document loaded yet), in which case the proxy answers 503 itself and the task takes no traffic while
 * other tasks can (a target group whose targets are all unhealthy fails open). Once a task can decide,
 * it stays healthy through later SSM outages: what it loaded is never unloaded (the cutover is a latch,
 * a failed read keeps the last document), so the check is asked until it first passes, then never again.
 */
import type { FlagState, ServiceContext } from '../lib/flags/evaluate';
import { undecided } from '../lib/proxy/readiness';
import type { Logger } from './log';

export class Readiness {
  private ready: boolean;

  constructor(
    private readonly services: readonly ServiceContext[],
    private readonly stateOf: (service: string) => FlagState,
    private readonly logger: Logger,
  ) {
    this.ready = services.length === 0;
  }

  /** The services the task cannot decide yet; empty once it can decide all (and from then on). */
  waitingFor(now: Date): readonly string[] {
    if (this.ready) return [];
    const waiting = undecided(this.services, this.stateOf, now);
    if (waiting.length === 0) {
      this.ready = true;
      this.logger.log('info', 'ready', { reason: 'every service can be decided: the health check passes' });
    }
    return waiting;
  }
}
