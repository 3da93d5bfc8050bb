/**
 * The proxy's view of the flags: every service's routing, cutover and override, read together (at
 * `:last-good`, in as few GetParameters calls as the API allows) in the background, every TTL with
 * jitter. The request path only reads the in-memory state, so SSM throttling or an outage never reaches
 * it. Each load goes through the contract's `nextFlagState`: last good values kept, the cutover latched,
 * an invalid override dropped.
 */
import type { FlagState } from '../lib/flags/evaluate';
import { type LoadOutcome, nextFlagState } from '../lib/flags/loaded-flags';
import type { ProxyService } from '../lib/proxy/contract';
import type { Logger } from './log';

/** Reads the checked version of each name (lib/flags/ssm-store.ts `readChecked`, or a stand-in). */
export type ReadChecked = (names: readonly string[]) => Promise<Map<string, LoadOutcome>>;

export interface FlagSource {
  state(service: string): FlagState;
}

/** Phase 0: no service, no flags, no SSM. */
export const NO_FLAGS: FlagSource = { state: () => ({}) };

export interface RefreshOptions {
  readonly refreshMs: number;
  readonly jitterPercent: number;
  /** First retry after a failed read while a service has loaded nothing; doubles up to `refreshMs`. */
  readonly firstRetryMs?: number;
  readonly random?: () => number;
}

type Health = 'ok' | 'error' | 'missing';

export class FlagRefresher implements FlagSource {
  private readonly states = new Map<string, FlagState>();
  private readonly health = new Map<string, string>();
  private readonly loaded = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private retryMs: number;
  /** Completed refreshes (for tests and the log). */
  refreshes = 0;

  constructor(
    private readonly services: readonly ProxyService[],
    private readonly read: ReadChecked,
    private readonly options: RefreshOptions,
    private readonly logger: Logger,
  ) {
    this.retryMs = options.firstRetryMs ?? Math.min(1000, options.refreshMs);
  }

  state(service: string): FlagState {
    return this.states.get(service) ?? {};
  }

  /** Starts the loop: a first read at once, then one per TTL. Never rejects. */
  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    await this.refresh();
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.loop(), this.nextDelay());
    this.timer.unref();
  }

  private nextDelay(): number {
    const { refreshMs, jitterPercent } = this.options;
    if (this.loaded.size < this.services.length) {
      // Something has never loaded: retry sooner, backing off up to the TTL.
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, refreshMs);
      return delay;
    }
    const random = this.options.random ?? Math.random;
    return Math.max(1, Math.round(refreshMs * (1 + ((random() * 2 - 1) * jitterPercent) / 100)));
  }

  /** One batched read of every service's flags. Never rejects. */
  async refresh(): Promise<void> {
    const names = this.services.flatMap((s) => [
      s.parameters.routing,
      s.parameters.cutover,
      s.parameters.override,
    ]);
    let outcomes: Map<string, LoadOutcome>;
    try {
      outcomes = await this.read(names);
    } catch (e) {
      outcomes = new Map(names.map((n) => [n, { status: 'error' } as const]));
      this.logger.log('warn', 'flag read failed', { error: (e as Error).message });
    }
    const of = (name: string): LoadOutcome => outcomes.get(name) ?? { status: 'error' };
    for (const s of this.services) {
      const load = {
        routing: of(s.parameters.routing),
        cutover: of(s.parameters.cutover),
        override: of(s.parameters.override),
      };
      const { state, problems } = nextFlagState(this.state(s.name), load);
      this.states.set(s.name, state);
      if (state.routing !== undefined || state.cutover !== undefined) this.loaded.add(s.name);
      this.report(s.name, load, state, problems);
    }
    this.refreshes++;
  }

  /** Logs a service's flag health when it changes (not on every refresh: an outage would flood the log). */
  private report(
    service: string,
    load: { routing: LoadOutcome; cutover: LoadOutcome; override: LoadOutcome },
    state: FlagState,
    problems: readonly string[],
  ): void {
    const status = (o: LoadOutcome): Health => o.status;
    const summary = {
      routing: status(load.routing),
      cutover: status(load.cutover),
      override: status(load.override),
      mode: state.routing?.mode ?? null,
      cutoverCompleted: state.cutover?.completed ?? null,
      problems,
    };
    const key = JSON.stringify(summary);
    if (this.health.get(service) === key) return;
    this.health.set(service, key);
    const failed = load.routing.status === 'error' || load.cutover.status === 'error' || problems.length > 0;
    this.logger.log(failed ? 'warn' : 'info', 'flags', { service, ...summary });
  }
}
