/**
 * The proxy's view of the flags: every service's routing, cutover and override, read together (at
 * `:last-good`, in as few GetParameters calls as the API allows) in the background, every TTL with
 * jitter. The request path only reads the in-memory state, so SSM throttling or an outage never reaches
 * it. Each load goes through the contract's `nextFlagState`: last good values kept, the cutover latched,
 * an invalid override dropped.
 *
 * Every read has a hard deadline of its own (an SDK timeout may only warn, and a connection that SSM
 * accepts and never answers would otherwise hold the loop for good), and the loop schedules its next
 * read whatever the last one did. The age of each service's last successful load is published on a
 * timer of its own, so that a loop that stopped anyway shows as a growing age, not as missing data.
 */
import type { FlagState } from '../lib/flags/evaluate';
import { type LoadOutcome, nextFlagState } from '../lib/flags/loaded-flags';
import type { ProxyService } from '../lib/proxy/contract';
import type { Logger } from './log';

/**
 * Reads the checked version of each name (lib/flags/ssm-store.ts `readChecked`, or a stand-in); `signal`
 * aborts the read when its deadline has passed.
 */
export type ReadChecked = (
  names: readonly string[],
  signal: AbortSignal,
) => Promise<Map<string, LoadOutcome>>;

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
  /** A read that has not answered by then has failed (default: `flagReadDeadlineMs(refreshMs)`). */
  readonly deadlineMs?: number;
  /** Called every `ageEveryMs` per service with the seconds since its last successful load. */
  readonly onAge?: (service: string, ageSeconds: number) => void;
  /** Default: `flagAgeEveryMs(refreshMs)`. */
  readonly ageEveryMs?: number;
  readonly random?: () => number;
  /** Epoch milliseconds (tests move time). */
  readonly now?: () => number;
}

/** A read's hard deadline: the TTL, at least half a second, at most 5 s. */
export function flagReadDeadlineMs(refreshMs: number): number {
  return Math.min(5000, Math.max(500, refreshMs));
}

/** How often the age of the last load is published: every TTL, at least every 30 s, at most every second. */
export function flagAgeEveryMs(refreshMs: number): number {
  return Math.min(30_000, Math.max(1000, refreshMs));
}

class DeadlinePassed extends Error {
  override readonly name = 'FlagReadDeadline';
}

type Health = 'ok' | 'error' | 'missing';

export class FlagRefresher implements FlagSource {
  private readonly states = new Map<string, FlagState>();
  private readonly health = new Map<string, string>();
  private readonly loaded = new Set<string>();
  /** Per service: when its last load without a failed read ended (epoch ms); the start before the first. */
  private readonly lastSuccess = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private retryMs: number;
  private readonly now: () => number;
  private readonly started: number;
  /** Completed refreshes (for tests and the log). */
  refreshes = 0;

  constructor(
    private readonly services: readonly ProxyService[],
    private readonly read: ReadChecked,
    private readonly options: RefreshOptions,
    private readonly logger: Logger,
  ) {
    this.retryMs = options.firstRetryMs ?? Math.min(1000, options.refreshMs);
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  state(service: string): FlagState {
    return this.states.get(service) ?? {};
  }

  /** Seconds since the service's last successful load (since the start when it has none yet). */
  ageSeconds(service: string): number {
    return Math.max(0, (this.now() - (this.lastSuccess.get(service) ?? this.started)) / 1000);
  }

  /** Starts the loop (a first read at once, then one per TTL) and the age reports. Never rejects. */
  start(): void {
    void this.loop();
    const { onAge } = this.options;
    if (onAge) {
      this.ageTimer = setInterval(() => {
        for (const s of this.services) onAge(s.name, this.ageSeconds(s.name));
      }, this.options.ageEveryMs ?? flagAgeEveryMs(this.options.refreshMs));
      this.ageTimer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ageTimer) clearInterval(this.ageTimer);
  }

  /** One refresh, then the next one scheduled, whatever happened in this one. */
  private async loop(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.refresh();
    } catch (e) {
      try {
        this.logger.log('error', 'flag refresh failed', { error: (e as Error)?.message ?? String(e) });
      } catch {
        // Not even a log line: the next refresh is scheduled all the same.
      }
    } finally {
      if (!this.stopped) {
        let delay: number;
        try {
          delay = this.nextDelay();
        } catch {
          delay = this.options.refreshMs;
        }
        this.timer = setTimeout(() => void this.loop(), delay);
        this.timer.unref();
      }
    }
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
      outcomes = await this.readWithDeadline(names);
    } catch (e) {
      outcomes = new Map(names.map((n) => [n, { status: 'error' } as const]));
      this.logger.log('warn', 'flag read failed', { error: (e as Error)?.message ?? String(e) });
    }
    const of = (name: string): LoadOutcome => outcomes.get(name) ?? { status: 'error' };
    const at = this.now();
    for (const s of this.services) {
      const load = {
        routing: of(s.parameters.routing),
        cutover: of(s.parameters.cutover),
        override: of(s.parameters.override),
      };
      const { state, problems } = nextFlagState(this.state(s.name), load);
      this.states.set(s.name, state);
      if (state.routing !== undefined || state.cutover !== undefined) this.loaded.add(s.name);
      if (Object.values(load).every((o) => o.status !== 'error')) this.lastSuccess.set(s.name, at);
      this.report(s.name, load, state, problems);
    }
    this.refreshes++;
  }

  /** The read, failed at its deadline whatever the SDK does (and aborted, so that its socket goes). */
  private readWithDeadline(names: readonly string[]): Promise<Map<string, LoadOutcome>> {
    const deadlineMs = this.options.deadlineMs ?? flagReadDeadlineMs(this.options.refreshMs);
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new DeadlinePassed(`no answer from SSM within ${deadlineMs} ms`);
        abort.abort(err);
        reject(err);
      }, deadlineMs);
    });
    // A read that throws at once is a failed read like any other.
    const read = Promise.resolve().then(() => this.read(names, abort.signal));
    read.catch(() => undefined); // after the deadline, its own failure is no longer anyone's concern
    return Promise.race([read, deadline]).finally(() => clearTimeout(timer));
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
