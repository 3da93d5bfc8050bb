/**
 * The flag guard's decision, pure: given what a flag parameter holds now, the guard's own record of
 * the last checked text and the service's validated documents, accept its newest version (label it
 * `last-good` and record it), leave it, or restore the recorded text.
 */
import {
  type FlagDocument,
  type FlagKind,
  type OverrideDocument,
  overrideWriteProblems,
  parseFlag,
  type RoutingDocument,
  serializeFlag,
} from '../../lib/flags/documents';
import { type FlagSet, violations } from '../../lib/flags/invariants';
import { LAST_GOOD_LABEL } from '../../lib/flags/parameters';
import type { FlagVersion } from '../../lib/flags/ssm-store';
import { BULK_MIGRATION_STATE, VERIFICATION_STATE } from '../../lib/hooks/contract';
import type { PendingUser } from '../../lib/write-back/contract';
import {
  anyoneLeaves,
  isAutoRollbackWrite,
  nameUsers,
  safeCommand,
  whoLeaves,
} from '../../lib/write-back/leaving';

/** What the parameter holds: nothing (deleted), or its newest version and the one labelled last-good. */
export type ParameterState =
  | { readonly exists: false }
  | { readonly exists: true; readonly latest: FlagVersion; readonly labelled?: FlagVersion };

/**
 * What the service's write-back function said about the users a routing write sends back: those of them
 * whose writes are not yet in the legacy database (and whose loss nobody accepted), or why it could not say.
 */
export type LeavingCheck =
  | { readonly ok: true; readonly stranded: readonly PendingUser[] }
  | { readonly ok: false; readonly problem: string };

/** Whether the run a new cutover document names completed its migration (see verifyRun in the handler). */
export type RunCheck = { readonly ok: true } | { readonly ok: false; readonly problem: string };

export interface GuardInput {
  /** The service the flag belongs to (for the messages). */
  readonly service?: string;
  readonly kind: FlagKind;
  readonly parameter: ParameterState;
  /** The guard's record of this flag: the text it last accepted; absent before the first. */
  readonly recordText?: string;
  /**
   * The service's validated documents: each kind's record, else its labelled version (a label is only
   * ever placed by the guard or, on the version it created, by the deploy), else the safe fallback.
   */
  readonly validated: FlagSet;
  /** The override as validated (its last-good version), when one exists. */
  readonly override?: OverrideDocument;
  readonly now: Date;
  /** The byte limit of the parameter's tier. */
  readonly maxBytes: number;
  readonly gatewayMode?: 'krakend' | 'alb';
  /** For a cutover document that records a completion the validated set does not have (see needsRunCheck): the run's check. */
  readonly runCheck?: RunCheck;
  /**
   * Why the guard cannot know whether the cutover happened (from phase 2: no record of its own, no
   * deploy-time marker, and the cutover parameter gone or holding a completed cutover it cannot
   * verify); absent when it knows. See `unknownCutoverDecision`.
   */
  readonly cutoverUnknown?: string;
  /** For a routing write that sends users back while a rollback is possible (see needsLeavingCheck). */
  readonly leavingCheck?: LeavingCheck;
}

export type GuardDecision =
  | { readonly action: 'none'; readonly reason: string }
  | {
      readonly action: 'accept';
      readonly version: number;
      readonly text: string;
      /** False when the version already carries the label (only the record is missing or behind). */
      readonly label: boolean;
      /** Accepted, but a check could not be made: the alert says which. */
      readonly unchecked?: string;
    }
  | {
      readonly action: 'restore';
      /** The version that broke a rule; absent when the parameter was deleted. */
      readonly badVersion?: number;
      readonly problems: readonly string[];
      /** The exact text to write back (and label). */
      readonly restoreValue: string;
    }
  /** A bad write the guard cannot undo (the override, which no role of the app may write): alert only. */
  | { readonly action: 'reject'; readonly badVersion: number; readonly problems: readonly string[] }
  /**
   * The guard cannot know whether the cutover happened, and what is there (or restoring it) could send
   * users to the monolith: it writes and labels nothing, and alerts (see `unknownCutoverDecision`).
   */
  | { readonly action: 'hold'; readonly version?: number; readonly problems: readonly string[] };

/** Whether a cutover document would record a completion that is not validated yet. */
export function needsRunCheck(kind: FlagKind, text: string, validated: FlagSet): string | undefined {
  if (kind !== 'cutover') return undefined;
  const parsed = parseFlag('cutover', text);
  if (!parsed.ok || !parsed.value.completed) return undefined;
  const known = validated.cutover;
  if (known.completed && known.runId === parsed.value.runId) return undefined;
  return parsed.value.runId;
}

/**
 * The routing change a write makes, when it sends users back to the monolith while a rollback is possible
 * and the service has a write-back: the guard then asks who of them has writes not yet written back. A
 * write of the automatic rollback (its reason, written by its role: isAutoRollbackWrite) is left to it:
 * it must act when the service fails, and names the users whose writes did not make it back itself.
 */
export function needsLeavingCheck(
  service: string,
  kind: FlagKind,
  version: Pick<FlagVersion, 'value' | 'modifiedBy'>,
  validated: FlagSet,
  autoRollbackRole?: string,
): { readonly from: RoutingDocument; readonly to: RoutingDocument } | undefined {
  if (kind !== 'routing' || validated.cutover.completed) return undefined;
  const parsed = parseFlag('routing', version.value);
  if (!parsed.ok || isAutoRollbackWrite(parsed.value.reason, version.modifiedBy, autoRollbackRole))
    return undefined;
  const leaving = { from: validated.routing, to: parsed.value };
  return anyoneLeaves(whoLeaves(service, leaving.from, leaving.to)) ? leaving : undefined;
}

export function decide(input: GuardInput): GuardDecision {
  const unknown = input.cutoverUnknown;
  if (unknown === undefined) return decideKnowing(input);
  const held = unknownCutoverDecision(input, unknown);
  if (held) return held;
  const decision = decideKnowing(input);
  // Restoring would write the fallback (the initial documents): never while the cutover is unknown.
  if (decision.action === 'restore' && (input.kind === 'routing' || input.kind === 'cutover'))
    return { action: 'hold', version: decision.badVersion, problems: [...decision.problems, unknown] };
  return decision;
}

/** The decision when the guard knows whether the cutover happened (or the flag does not depend on it). */
function decideKnowing(input: GuardInput): GuardDecision {
  const { kind, parameter, validated } = input;
  const baseline = input.recordText ?? serializeFlag(kind, validated[kind]);
  if (!parameter.exists) {
    return {
      action: 'restore',
      problems: ['the parameter was deleted; every version and label went with it'],
      restoreValue: baseline,
    };
  }
  const { latest } = parameter;
  const labelled = latest.labels.includes(LAST_GOOD_LABEL);
  if (labelled && latest.value === input.recordText) {
    return { action: 'none', reason: `version ${latest.version} is checked and recorded` };
  }

  const parsed = parseFlag(kind, latest.value, input.maxBytes);
  const problems = parsed.ok
    ? violations(kind, parsed.value, validated, {
        override: input.override,
        now: input.now,
        gatewayMode: input.gatewayMode,
        service: input.service,
      })
    : [...parsed.errors];
  const runId = problems.length === 0 ? needsRunCheck(kind, latest.value, validated) : undefined;
  if (runId !== undefined) {
    const check = input.runCheck ?? { ok: false, problem: `run ${runId} was not checked` };
    if (!check.ok) problems.push(check.problem);
  }
  const leaving = input.leavingCheck;
  if (problems.length === 0 && leaving?.ok && leaving.stranded.length > 0 && parsed.ok) {
    const n = leaving.stranded.length;
    problems.push(
      `it sends ${n} user${n === 1 ? '' : 's'} back to the monolith whose writes on the service are not yet in the legacy database (${nameUsers(leaving.stranded)}): the monolith would not see them. Make the change with ${safeCommand(input.service ?? 'the service', parsed.value as RoutingDocument)}: it writes them back first, or names them (docs/runbook.md).`,
    );
  }
  if (problems.length === 0)
    return {
      action: 'accept',
      version: latest.version,
      text: latest.value,
      label: !labelled,
      ...(leaving && !leaving.ok ? { unchecked: leaving.problem } : {}),
    };
  return { action: 'restore', badVersion: latest.version, problems, restoreValue: baseline };
}

/**
 * From phase 2, when the guard cannot know whether the cutover happened (its records deleted, no
 * marker, the cutover parameter gone or holding a completed cutover it cannot verify), it must never
 * write, restore or label a routing or cutover document that can send users to the monolith: the
 * initial `{"completed":false}` and routing `off` it would fall back on are exactly such documents. It
 * keeps what is there and alerts; only what cannot route anyone to the monolith passes (routing `all`,
 * a completed cutover whose run checks out, a version it already recorded). Undefined: decide as usual.
 */
export function unknownCutoverDecision(input: GuardInput, why: string): GuardDecision | undefined {
  const { kind, parameter } = input;
  if (kind !== 'routing' && kind !== 'cutover') return undefined;
  const hold = (problem: string, version?: number): GuardDecision => ({
    action: 'hold',
    ...(version !== undefined ? { version } : {}),
    problems: [problem, why],
  });
  if (!parameter.exists)
    return hold(`the ${kind} parameter was deleted; it is not re-created with its initial document`);
  const { latest } = parameter;
  if (latest.labels.includes(LAST_GOOD_LABEL) && latest.value === input.recordText) return undefined;
  const parsed = parseFlag(kind, latest.value, input.maxBytes);
  const harmless = parsed.ok
    ? kind === 'routing'
      ? (parsed.value as FlagDocument<'routing'>).mode === 'all'
      : (parsed.value as FlagDocument<'cutover'>).completed && input.runCheck?.ok === true
    : false;
  if (harmless) return undefined;
  const unverified =
    parsed.ok && kind === 'cutover' && (parsed.value as FlagDocument<'cutover'>).completed
      ? input.runCheck && !input.runCheck.ok
        ? `${input.runCheck.problem}; `
        : 'its run was not checked; '
      : '';
  return hold(
    `version ${latest.version} of the ${kind} flag is neither checked nor restored (${unverified}it, or the initial document the guard would write back, could send users to the monolith)`,
    latest.version,
  );
}

/** The override parameter is written by a person with the break-glass policy; the guard checks it, never writes it. */
export function decideOverride(latest: FlagVersion, now: Date): GuardDecision {
  if (latest.labels.includes(LAST_GOOD_LABEL))
    return { action: 'none', reason: `version ${latest.version} is checked` };
  const parsed = parseFlag('override', latest.value);
  const problems = parsed.ok
    ? overrideWriteProblems(parsed.value, latest.modifiedAt ?? now)
    : [...parsed.errors];
  if (problems.length === 0)
    return { action: 'accept', version: latest.version, text: latest.value, label: true };
  return { action: 'reject', badVersion: latest.version, problems };
}

/** The part of a Step Functions history event the run check reads. */
export interface RunHistoryEvent {
  readonly type?: string;
  readonly stateExitedEventDetails?: { readonly name?: string; readonly output?: string };
}

/** The exit code a task state left in its output at `path` (`task.exitCode`), if it exited. */
function exitCodeOf(
  events: readonly RunHistoryEvent[],
  state: string,
  path: readonly string[],
): { exited: boolean; exitCode?: unknown } {
  const exit = events.find((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === state);
  if (!exit) return { exited: false };
  try {
    let v: unknown = JSON.parse(exit.stateExitedEventDetails?.output ?? '{}');
    for (const key of path) v = (v as Record<string, unknown> | undefined)?.[key];
    return { exited: true, exitCode: v };
  } catch {
    return { exited: true };
  }
}

/**
 * A cutover document may name only a running execution of the service's cutover state machine whose
 * bulk migration and verification states both exited with code 0 (the state machine writes the document
 * after them, once the verification's verdict passed too).
 */
export function runCheckOf(
  runId: string,
  executionArn: string,
  status: string | undefined,
  events: readonly RunHistoryEvent[],
): RunCheck {
  const rule =
    'a cutover is recorded only by its state machine, after the bulk migration and its verification exited 0';
  if (status === undefined)
    return {
      ok: false,
      problem: `run ${runId} is not an execution of the cutover state machine (${executionArn}): ${rule}`,
    };
  if (status !== 'RUNNING')
    return {
      ok: false,
      problem: `run ${runId} is ${status}, not running: ${rule}, while its execution runs`,
    };
  for (const [state, path, what] of [
    [BULK_MIGRATION_STATE, ['task', 'exitCode'], 'bulk migration'],
    [VERIFICATION_STATE, ['verification', 'task', 'exitCode'], 'verification'],
  ] as const) {
    const { exited, exitCode } = exitCodeOf(events, state, path);
    if (exitCode !== 0)
      return {
        ok: false,
        problem: exited
          ? `run ${runId}: the ${what} exited with ${JSON.stringify(exitCode)}, not 0: ${rule}`
          : `run ${runId} has not finished its ${what} yet: ${rule}`,
      };
  }
  return { ok: true };
}
