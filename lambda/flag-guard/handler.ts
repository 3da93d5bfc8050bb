/**
 * flag-guard: checks every write to a migration flag and keeps its own record of what it accepted.
 * - EventBridge "Parameter Store Change" (create, update, delete, label) for a flag or override;
 * - a direct invocation with the same event shape by the CLI or the cutover state machine, which wait
 *   for the result so that a flip is live when they report it;
 * - a schedule, which re-checks every flag (change events are best effort, and removing a label emits none).
 * Valid: label it `last-good` and record it. Invalid or deleted: write the recorded text back, label it,
 * alert, count it. Thin: the decision is in decide.ts, SSM access in lib/flags/ssm-store.ts.
 */
import type { DescribeExecutionCommandOutput, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import type { RoutingDocument } from '../../lib/flags/documents';
import {
  ALL_ROUTING,
  type CutoverDocument,
  FLAG_KINDS,
  type FlagDocument,
  type FlagKind,
  INITIAL_DOCUMENTS,
  parseFlag,
} from '../../lib/flags/documents';
import type { FlagSet } from '../../lib/flags/invariants';
import { LAST_GOOD_LABEL } from '../../lib/flags/parameters';
import { FlagStore, type FlagVersion, isNotFound, readChecked } from '../../lib/flags/ssm-store';
import { AUTO_ROLLBACK_ROLE_VARIABLE, executionArn, type HookService } from '../../lib/hooks/contract';
import { capabilitiesOf } from '../../lib/phases';
import { WriteBackUnavailableError } from '../../lib/write-back/invoke';
import { defaultHookDependencies, type HookDependencies } from '../shared/dependencies';
import { type Lazy, lazy } from '../shared/lazy';
import {
  decide,
  decideOverride,
  type GuardDecision,
  type LeavingCheck,
  needsLeavingCheck,
  needsRunCheck,
  type ParameterState,
  runCheckOf,
} from './decide';

export interface ParameterChangeDetail {
  readonly operation?: string;
  readonly name?: string;
}

export interface GuardDependencies extends HookDependencies {
  /** Made when a cutover document is first checked: the one write that needs it. */
  readonly sfn: Lazy<SFNClient>;
  readonly now?: () => Date;
  /** The automatic rollback's role name: only its sessions' writes are taken as the rollback's. */
  readonly autoRollbackRole?: string;
}

export type CheckResult =
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'unchanged'; readonly version: number; readonly reason: string }
  | { readonly status: 'labelled'; readonly version: number }
  | {
      readonly status: 'restored';
      readonly badVersion?: number;
      readonly newVersion: number;
      readonly problems: readonly string[];
    }
  | { readonly status: 'rejected'; readonly badVersion: number; readonly problems: readonly string[] }
  /** Nothing written or labelled: the guard cannot know whether the cutover happened (alerted). */
  | { readonly status: 'held'; readonly version?: number; readonly problems: readonly string[] }
  | { readonly status: 'superseded'; readonly badVersion: number; readonly latestVersion: number };

export type GuardResult =
  | CheckResult
  | { readonly status: 'reconciled'; readonly results: Record<string, CheckResult> };

type GuardEvent = EventBridgeEvent<string, ParameterChangeDetail>;

export async function guard(event: GuardEvent, deps: GuardDependencies): Promise<GuardResult> {
  const { logger } = deps;
  if (event?.['detail-type'] === 'Scheduled Event') return reconcile(deps);
  const name = event?.detail?.name;
  if (typeof name !== 'string') {
    logger.log('error', 'malformed event: no detail.name', { event });
    logger.metric('MalformedEvent', 1, { Hook: 'flag-guard' });
    return { status: 'ignored', reason: 'malformed event: no detail.name' };
  }
  for (const service of deps.services) {
    if (service.overrideName === name) return checkOverride(service, deps);
    const kind = FLAG_KINDS.find((k) => service.names[k] === name);
    if (kind) return checkFlag(service, kind, deps);
  }
  logger.log('warn', 'event for a parameter this guard does not own', { name });
  return { status: 'ignored', reason: `${name} is not a migration flag of this app` };
}

/** Every flag and override of every service, as if each had just changed. */
async function reconcile(deps: GuardDependencies): Promise<GuardResult> {
  const results: Record<string, CheckResult> = {};
  for (const service of deps.services) {
    for (const kind of FLAG_KINDS) results[service.names[kind]] = await checkFlag(service, kind, deps);
    results[service.overrideName] = await checkOverride(service, deps);
  }
  return { status: 'reconciled', results };
}

function storeOf(service: HookService, deps: GuardDependencies): FlagStore {
  return new FlagStore(service.names, deps.ssm, {
    tier: service.tier,
    overrideName: service.overrideName,
    recordNames: service.recordNames,
    cutoverRecorded: service.cutoverRecorded,
  });
}

async function parameterState(store: FlagStore, name: string): Promise<ParameterState> {
  try {
    const history = await store.historyOf(name);
    const latest = history[history.length - 1];
    if (!latest) return { exists: false };
    return { exists: true, latest, labelled: history.find((v) => v.labels.includes(LAST_GOOD_LABEL)) };
  } catch (e) {
    if (isNotFound(e)) return { exists: false };
    throw e;
  }
}

/**
 * The service's validated documents. Per kind: the guard's record, else the checked (labelled) version,
 * else the safe fallback. A completed cutover in any of them, or in the deploy-time marker, stays
 * completed; after it, the fallback routing is "all", never the initial "off".
 */
async function validatedSet(service: HookService, deps: GuardDependencies) {
  const loaded = await readChecked(deps.ssm, [...Object.values(service.names), service.overrideName]);
  const records = new Map<string, string>();
  const raw = await readLatest(deps, Object.values(service.recordNames));
  for (const [name, text] of raw) records.set(name, text);
  const recordText = (kind: FlagKind) => records.get(service.recordNames[kind]);
  const doc = <K extends FlagKind | 'override'>(kind: K, text: string | undefined) => {
    if (text === undefined) return undefined;
    const parsed = parseFlag(kind, text);
    return parsed.ok ? parsed.value : undefined;
  };
  const checked = <K extends FlagKind | 'override'>(kind: K, name: string) => {
    const outcome = loaded.get(name);
    return doc(kind, outcome?.status === 'ok' ? outcome.text : undefined);
  };
  const of = <K extends FlagKind>(kind: K): FlagDocument<K> | undefined =>
    doc(kind, recordText(kind)) ?? checked(kind, service.names[kind]);

  const marker = service.cutoverRecorded;
  const recorded = doc('cutover', recordText('cutover'));
  const candidates = [recorded, checked('cutover', service.names.cutover)];
  const cutover: CutoverDocument =
    candidates.find((c) => c?.completed) ??
    (marker ? { completed: true, ...marker } : (candidates.find((c) => c) ?? INITIAL_DOCUMENTS.cutover));
  const validated: FlagSet = {
    routing: of('routing') ?? (cutover.completed ? ALL_ROUTING : INITIAL_DOCUMENTS.routing),
    cutover,
    gateway: of('gateway') ?? INITIAL_DOCUMENTS.gateway,
  };
  const cutoverUnknown =
    cutover.completed || recorded !== undefined ? undefined : await unknownCutoverReason(service, deps);
  return { validated, recordText, override: checked('override', service.overrideName), cutoverUnknown };
}

/**
 * Why the guard cannot know whether the cutover happened, when it has no record of its own and no
 * marker (a completed cutover seen anywhere it trusts was handled by the caller): from phase 2, the
 * cutover parameter is gone, or it has held a completed cutover that is not the checked one (a record
 * and a label deleted or moved by hand). A parameter that never held one (a fresh environment) is known
 * not to have cut over. Undefined when it knows.
 */
async function unknownCutoverReason(
  service: HookService,
  deps: GuardDependencies,
): Promise<string | undefined> {
  if (!capabilitiesOf({ phase: service.phase }).cutover) return undefined;
  const fix = `if the cutover of ${service.service} happened, record it in the environment file (services[].cutoverRecorded) and deploy; see "The flag guard holds a flag" in docs/runbook.md`;
  let versions: FlagVersion[];
  try {
    versions = await storeOf(service, deps).historyOf(service.names.cutover);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    versions = [];
  }
  if (versions.length === 0)
    return `the cutover parameter and the guard's record of it are gone, so the guard cannot know whether the cutover happened: ${fix}`;
  const completed = versions.filter((v) => {
    const parsed = parseFlag('cutover', v.value);
    return parsed.ok && parsed.value.completed;
  });
  const last = completed[completed.length - 1];
  if (!last) return undefined;
  return `the guard's record of the cutover is gone and version ${last.version} of the cutover parameter holds a completed cutover that is not the checked one, so the guard cannot know whether the cutover happened: ${fix}`;
}

/** The latest (unlabelled) value of each parameter that exists. */
async function readLatest(deps: GuardDependencies, names: readonly string[]): Promise<Map<string, string>> {
  const out = await deps.ssm.send(new GetParametersCommand({ Names: [...names] }));
  return new Map(
    (out.Parameters ?? []).flatMap((p) => (p.Name && p.Value !== undefined ? [[p.Name, p.Value]] : [])),
  );
}

async function checkFlag(
  service: HookService,
  kind: FlagKind,
  deps: GuardDependencies,
): Promise<CheckResult> {
  const now = deps.now?.() ?? new Date();
  const store = storeOf(service, deps);
  const name = service.names[kind];
  const parameter = await parameterState(store, name);
  const { validated, recordText, override, cutoverUnknown } = await validatedSet(service, deps);
  const runId = parameter.exists ? needsRunCheck(kind, parameter.latest.value, validated) : undefined;
  const leaving =
    parameter.exists && service.writeBackFunction
      ? needsLeavingCheck(service.service, kind, parameter.latest, validated, deps.autoRollbackRole)
      : undefined;
  const decision = decide({
    service: service.service,
    kind,
    parameter,
    recordText: recordText(kind),
    validated,
    override,
    now,
    maxBytes: store.maxBytes(kind),
    gatewayMode: service.gatewayMode,
    runCheck: runId === undefined ? undefined : await verifyRun(service, runId, deps),
    ...(cutoverUnknown !== undefined ? { cutoverUnknown } : {}),
    leavingCheck: leaving && (await leavingCheckOf(service, leaving, deps)),
  });
  return act(decision, { service, kind, name, store, parameter, recordText: recordText(kind) }, deps);
}

/**
 * Whether `runId` names an execution of the service's cutover state machine that is still running and
 * whose bulk migration exited 0. Checked once, when the cutover document is written; afterwards the
 * guard relies on its record (Step Functions forgets closed executions after 90 days).
 */
async function verifyRun(service: HookService, runId: string, deps: GuardDependencies) {
  const arn = executionArn(service.cutoverStateMachineArn, runId);
  let execution: DescribeExecutionCommandOutput | undefined;
  const events: HistoryEvent[] = [];
  const [{ DescribeExecutionCommand, GetExecutionHistoryCommand }, sfn] = await Promise.all([
    import('../shared/aws-sfn'),
    deps.sfn(),
  ]);
  try {
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({
          executionArn: arn,
          nextToken,
          includeExecutionData: true,
          maxResults: 1000,
        }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (e) {
    if ((e as Error).name !== 'ExecutionDoesNotExist') throw e;
  }
  return runCheckOf(runId, arn, execution?.status, events);
}

/** How long the guard waits for the write-back function's answer: it never waits for a drain. */
const PENDING_ANSWER_MS = 10_000;

/** Which of the users a routing write sends back have writes on the service not yet in the legacy database. */
async function leavingCheckOf(
  service: HookService,
  leaving: { from: RoutingDocument; to: RoutingDocument },
  deps: GuardDependencies,
): Promise<LeavingCheck> {
  const fn = service.writeBackFunction;
  if (!fn || !deps.writeBack) return { ok: false, problem: 'no channel to the write-back function' };
  try {
    const { pending } = await deps.writeBack(fn, { action: 'pending', leaving }, PENDING_ANSWER_MS);
    return { ok: true, stranded: pending.list.filter((u) => !u.lossAccepted) };
  } catch (e) {
    if (!(e instanceof WriteBackUnavailableError)) throw e;
    return { ok: false, problem: e.message };
  }
}

interface Target {
  readonly service: HookService;
  readonly kind: FlagKind | 'override';
  readonly name: string;
  readonly store: FlagStore;
  readonly parameter: ParameterState;
  readonly recordText?: string;
}

async function act(decision: GuardDecision, target: Target, deps: GuardDependencies): Promise<CheckResult> {
  const { logger } = deps;
  const { service, kind, name, store, parameter } = target;
  const latest: FlagVersion | undefined = parameter.exists ? parameter.latest : undefined;
  const context = {
    service: service.service,
    kind,
    parameter: name,
    version: latest?.version,
    modifiedBy: latest?.modifiedBy,
  };
  switch (decision.action) {
    case 'none':
      logger.log('info', 'nothing to do', { ...context, reason: decision.reason });
      return { status: 'unchanged', version: latest?.version ?? 0, reason: decision.reason };
    case 'accept': {
      // The record before the label: whoever sees the label (the automatic rollback waits for it before
      // it narrows routing) can rely on the guard's next check using the accepted text.
      if (kind !== 'override' && decision.text !== target.recordText)
        await record(service, kind, decision.text, deps);
      if (decision.label) await store.markLastGood(name, decision.version);
      logger.log(decision.unchecked ? 'warn' : 'info', 'validated', {
        ...context,
        unchecked: decision.unchecked,
      });
      if (decision.unchecked) {
        // A routing change back must not be blocked when the check meant to protect it cannot run.
        logger.metric('FlagAcceptedUnchecked', 1, { Service: service.service });
        await deps.alerts.publish(`Migration flag accepted without the write-back check: ${name}`, {
          service: service.service,
          parameter: name,
          version: decision.version,
          writtenBy: latest?.modifiedBy ?? 'unknown',
          problem: `${decision.unchecked}: users it sends back may have writes not yet in the legacy database. Run npm run migrate -- pending ${service.service}.`,
        });
      }
      return { status: 'labelled', version: decision.version };
    }
    case 'reject': {
      logger.log('warn', 'rejected a write the guard cannot undo; the last checked version stays in force', {
        ...context,
        problems: decision.problems,
      });
      logger.metric('FlagRejected', 1, { Service: service.service });
      await deps.alerts.publish(`Migration override rejected: ${name}`, {
        service: service.service,
        parameter: name,
        rejectedVersion: decision.badVersion,
        writtenBy: latest?.modifiedBy ?? 'unknown',
        problems: decision.problems,
      });
      return { status: 'rejected', badVersion: decision.badVersion, problems: decision.problems };
    }
    case 'hold': {
      logger.log('error', 'held: the guard cannot know whether the cutover happened; nothing written', {
        ...context,
        problems: decision.problems,
      });
      logger.metric('FlagHeld', 1, { Service: service.service });
      await deps.alerts.publish(`Migration flag held, cutover unknown: ${name}`, {
        service: service.service,
        parameter: name,
        version: decision.version ?? 'deleted',
        writtenBy: latest?.modifiedBy ?? 'unknown',
        problems: decision.problems,
      });
      return {
        status: 'held',
        ...(decision.version !== undefined ? { version: decision.version } : {}),
        problems: decision.problems,
      };
    }
    case 'restore': {
      if (kind === 'override') throw new Error('the guard never writes the override');
      // A newer write since our read has its own event and its own check: never overwrite it.
      if (decision.badVersion !== undefined) {
        const current = await store.latest(kind);
        if (current.version !== decision.badVersion) {
          logger.log('warn', 'bad version already superseded; leaving the newer one to its own check', {
            ...context,
            latestVersion: current.version,
          });
          return { status: 'superseded', badVersion: decision.badVersion, latestVersion: current.version };
        }
      }
      const newVersion = await store.putRaw(kind, decision.restoreValue);
      await store.markLastGood(name, newVersion);
      if (decision.restoreValue !== target.recordText)
        await record(service, kind, decision.restoreValue, deps);
      logger.log('warn', 'restored the last checked value', {
        ...context,
        problems: decision.problems,
        newVersion,
      });
      logger.metric('FlagRestored', 1, { Service: service.service });
      await deps.alerts.publish(`Migration flag restored: ${name}`, {
        service: service.service,
        parameter: name,
        rejectedVersion: decision.badVersion ?? 'deleted',
        writtenBy: latest?.modifiedBy ?? 'unknown',
        problems: decision.problems,
        restoredValue: decision.restoreValue,
        newVersion,
      });
      return { status: 'restored', badVersion: decision.badVersion, newVersion, problems: decision.problems };
    }
  }
}

/** Writes the guard's record of a flag (the routing record shares the routing parameter's tier). */
async function record(
  service: HookService,
  kind: FlagKind,
  text: string,
  deps: GuardDependencies,
): Promise<void> {
  await storeOf(service, deps).putParameter(
    service.recordNames[kind],
    text,
    kind === 'routing' ? service.tier : 'standard',
  );
}

async function checkOverride(service: HookService, deps: GuardDependencies): Promise<CheckResult> {
  const store = storeOf(service, deps);
  const parameter = await parameterState(store, service.overrideName);
  if (!parameter.exists)
    return { status: 'ignored', reason: `${service.overrideName} does not exist (no emergency)` };
  const decision = decideOverride(parameter.latest, deps.now?.() ?? new Date());
  return act(decision, { service, kind: 'override', name: service.overrideName, store, parameter }, deps);
}

// Built once per cold start; tests call `guard` with their own dependencies.
let dependencies: GuardDependencies | undefined;

export async function handler(event: GuardEvent): Promise<GuardResult> {
  dependencies ??= {
    ...defaultHookDependencies('flag-guard'),
    sfn: lazy(async () => new (await import('../shared/aws-sfn')).SFNClient({})),
    autoRollbackRole: process.env[AUTO_ROLLBACK_ROLE_VARIABLE] || undefined,
  };
  return guard(event, dependencies);
}
