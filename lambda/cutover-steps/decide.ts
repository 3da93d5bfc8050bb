/**
 * The checks of a cutover run, pure: before the bulk migration (may it start?) and after it, right before
 * the point of no return is recorded (did anything change while it ran?). Each failure says what
 * happened and what to do; docs/runbook.md ("When a cutover run fails") has the same words.
 */
import type { FlagSet } from '../../lib/flags/invariants';

export type StepOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: string; readonly cause: string };

export interface PreconditionInput {
  readonly service: string;
  readonly flags: FlagSet;
  /** The service's alarms that are in ALARM now. */
  readonly inAlarm: readonly string[];
}

export function preconditions({ service, flags, inAlarm }: PreconditionInput): StepOutcome {
  if (flags.cutover.completed) {
    return {
      ok: false,
      error: 'AlreadyRecorded',
      cause: `The cutover of ${service} is already recorded (run ${flags.cutover.runId} at ${flags.cutover.completedAt}); nothing to do.`,
    };
  }
  if (flags.routing.mode !== 'all') {
    return {
      ok: false,
      error: 'RoutingNotAll',
      cause: `Routing of ${service} is "${flags.routing.mode}"; the cutover needs "all": npm run migrate -- route ${service} all, watch the service, then run the cutover again.`,
    };
  }
  if (inAlarm.length > 0) {
    return {
      ok: false,
      error: 'AlarmInAlarm',
      cause: `${inAlarm.join(', ')} ${inAlarm.length === 1 ? 'is' : 'are'} in ALARM: fix the service first, then run the cutover again.`,
    };
  }
  return { ok: true };
}

export interface PostconditionInput extends PreconditionInput {
  /** The service's alarms that went to ALARM at any time since the run started (alarm history). */
  readonly alarmedSinceStart: readonly string[];
}

export function postconditions(input: PostconditionInput): StepOutcome {
  const { service, flags } = input;
  const nothing = 'Nothing was recorded: the monolith still has every write, so the way back is open.';
  if (flags.cutover.completed) {
    return {
      ok: false,
      error: 'AlreadyRecorded',
      cause: `A cutover of ${service} was recorded by run ${flags.cutover.runId} while this run migrated; this run records nothing.`,
    };
  }
  if (flags.routing.mode !== 'all') {
    return {
      ok: false,
      error: 'RoutingChanged',
      cause: `Routing of ${service} changed to "${flags.routing.mode}" during the bulk migration (an operator or the automatic rollback). ${nothing} Find out why (npm run migrate -- history ${service}), fix the service, route all and run the cutover again.`,
    };
  }
  const alarmed = [...new Set([...input.alarmedSinceStart, ...input.inAlarm])];
  if (alarmed.length > 0) {
    return {
      ok: false,
      error: 'AlarmDuringMigration',
      cause: `${alarmed.join(', ')} went to ALARM during the bulk migration. ${nothing} Fix the service, then run the cutover again (the migration copies what is not copied yet).`,
    };
  }
  return { ok: true };
}

/** The state of the lock item, as the acquire step found it. */
export type LockState =
  | { readonly held: false }
  | { readonly held: true; readonly holder: string; readonly holderStatus?: string };

/** Whether a run may take the service's cutover lock from its holder (only from one that no longer runs). */
export function lockDecision(
  service: string,
  me: string,
  lock: LockState,
): { readonly take: true; readonly from?: string } | { readonly take: false; readonly outcome: StepOutcome } {
  if (!lock.held || lock.holder === me) return { take: true };
  if (lock.holderStatus === 'RUNNING') {
    return {
      take: false,
      outcome: {
        ok: false,
        error: 'CutoverAlreadyRunning',
        cause: `Another cutover of ${service} is running (${lock.holder}); at most one runs at a time. Follow it with npm run migrate -- status ${service}.`,
      },
    };
  }
  // Its execution ended without releasing the lock (stopped by hand, or the release failed).
  return { take: true, from: lock.holder };
}
