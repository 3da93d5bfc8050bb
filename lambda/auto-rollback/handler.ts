/**
 * auto-rollback: EventBridge "CloudWatch Alarm State Change" to ALARM for one of a service's alarms ->
 * switch what can be switched back without losing data (see decide.ts), log it and alert.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import type { RoutingDocument } from '../../lib/flags/documents';
import { LAST_GOOD_LABEL } from '../../lib/flags/parameters';
import { FlagStore } from '../../lib/flags/ssm-store';
import type { HookService } from '../../lib/hooks/contract';
import { WriteBackUnavailableError } from '../../lib/write-back/invoke';
import { defaultHookDependencies, type HookDependencies } from '../shared/dependencies';
import { planRollback } from './decide';

export interface AlarmChangeDetail {
  readonly alarmName?: string;
  readonly state?: { readonly value?: string; readonly reason?: string };
  readonly previousState?: { readonly value?: string };
}

export interface RollbackDependencies extends HookDependencies {
  /** Waits between two looks for the guard's label. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since some fixed point, for the bound of that wait. @default Date.now */
  readonly clock?: () => number;
}

export type RollbackResult =
  | { readonly status: 'ignored'; readonly reason: string }
  | {
      readonly status: 'done';
      readonly summary: string;
      readonly wrote: readonly string[];
      /** Per service sent back: what became of its users' writes. */
      readonly writeBack?: Readonly<Record<string, WriteBackOutcome>>;
    };

export async function rollback(
  event: EventBridgeEvent<string, AlarmChangeDetail>,
  deps: RollbackDependencies,
): Promise<RollbackResult> {
  const { logger } = deps;
  const alarmName = event?.detail?.alarmName;
  const state = event?.detail?.state?.value;
  if (typeof alarmName !== 'string' || typeof state !== 'string') {
    logger.log('error', 'malformed event: no detail.alarmName or detail.state.value', { event });
    logger.metric('MalformedEvent', 1, { Hook: 'auto-rollback' });
    return { status: 'ignored', reason: 'malformed event' };
  }
  if (state !== 'ALARM') return { status: 'ignored', reason: `${alarmName} is ${state}, not ALARM` };
  // A gateway alarm belongs to every service routed through the gateway.
  const services = deps.services.filter((s) => s.alarmNames.includes(alarmName));
  if (services.length === 0) {
    logger.log('warn', 'alarm of no migrating service', { alarmName });
    return { status: 'ignored', reason: `${alarmName} belongs to no migrating service` };
  }
  const summaries: string[] = [];
  const wrote: string[] = [];
  const writeBack: Record<string, WriteBackOutcome> = {};
  for (const service of services) {
    const done = await rollbackService(service, alarmName, event.detail.state?.reason, deps);
    summaries.push(done.summary);
    wrote.push(...done.wrote);
    if (done.writeBack) writeBack[service.service] = done.writeBack;
  }
  return {
    status: 'done',
    summary: summaries.join('; '),
    wrote,
    ...(Object.keys(writeBack).length > 0 ? { writeBack } : {}),
  };
}

async function rollbackService(
  service: HookService,
  alarmName: string,
  alarmReason: string | undefined,
  deps: RollbackDependencies,
): Promise<{ summary: string; wrote: string[]; writeBack?: WriteBackOutcome }> {
  const { logger } = deps;
  const store = new FlagStore(service.names, deps.ssm, {
    tier: service.tier,
    overrideName: service.overrideName,
    cutoverRecorded: service.cutoverRecorded,
  });
  const { flags } = await store.checkedSet();
  const plan = planRollback({
    service: service.service,
    phase: service.phase,
    alarmName,
    gatewayOnly: service.gatewayAlarmNames.includes(alarmName),
    flags,
  });
  const wrote: string[] = [];
  // Gateway first: it takes the new path out of traffic at the ALB in one step.
  const gatewayVersion = plan.gateway ? await store.put('gateway', plan.gateway) : undefined;
  if (gatewayVersion !== undefined) wrote.push(`${service.names.gateway} v${gatewayVersion}`);
  if (plan.routing && gatewayVersion !== undefined) {
    // Routing narrows only once the weight is 0 (lib/flags/invariants.ts): the guard checks a routing
    // write against the weight it validated, so routing written before it labels the weight would be
    // restored. Wait for the label; without it, stop here and let the retry re-plan (routing only then).
    const labelled = await awaitLabel(store, gatewayVersion, deps);
    if (!labelled.ok) {
      const problem = `${service.service}: wrote ${service.names.gateway} v${gatewayVersion} (weight 0), but ${labelled.problem}, so routing is not narrowed yet (the flag guard would restore it while the checked weight is above 0); the retry of this rollback writes routing`;
      logger.log('error', problem, { service: service.service, alarmName, wrote, reason: alarmReason });
      logger.metric('AutoRollbackIncomplete', 1, { Service: service.service });
      await deps.alerts.publish(`Migration rollback incomplete: ${service.service}`, {
        alarmName,
        alarmReason,
        summary: plan.summary,
        wrote,
        problem,
        next: `the automatic rollback retries; if routing is still not "off" afterwards: npm run migrate -- status, then npm run migrate -- route ${service.service} off (docs/runbook.md, "When something goes wrong")`,
      });
      throw new Error(problem);
    }
  }
  if (plan.routing) wrote.push(`${service.names.routing} v${await store.put('routing', plan.routing)}`);

  // Routing went back at once; now the leaving users' writes (bounded), and who is left behind.
  const writeBack = plan.routing
    ? await writeBackAfter(service, flags.routing, plan.routing, deps)
    : undefined;
  logger.log(wrote.length > 0 ? 'warn' : 'error', plan.summary, {
    service: service.service,
    alarmName,
    wrote,
    reason: alarmReason,
    ...(writeBack ? { writeBack } : {}),
  });
  logger.metric(wrote.length > 0 ? 'AutoRollback' : 'AutoRollbackNotPossible', 1, {
    Service: service.service,
  });
  const stranded = writeBack?.strandedCount ?? 0;
  await deps.alerts.publish(
    `Migration ${wrote.length > 0 ? 'rolled back' : 'alarm, no rollback possible'}: ${service.service}${stranded > 0 ? ` (${stranded} users' writes not yet in the legacy database)` : ''}`,
    { alarmName, alarmReason, summary: plan.summary, wrote, ...(writeBack ? { writeBack } : {}) },
  );
  return { summary: plan.summary, wrote, ...(writeBack ? { writeBack } : {}) };
}

/**
 * How long the rollback spends writing the leaving users' rows back. Its own timeout is 30 s: the wait
 * for the guard's label (LABEL_WAIT_MS), then the drain and the call's margin (DRAIN_MS + 7 s), leave 3 s
 * for the reads, the writes and the alert.
 */
const DRAIN_MS = 12_000;
/** How long the rollback waits for the guard to label its gateway write before narrowing routing. */
export const LABEL_WAIT_MS = 8_000;
/** How often it looks. */
const LABEL_POLL_MS = 400;

/**
 * Waits until the flag guard has labelled the gateway version the rollback wrote (or a later one, still
 * weight 0) `last-good`: then the guard's own record has it too (it records before it labels), and a
 * routing write is checked against weight 0.
 */
async function awaitLabel(
  store: FlagStore,
  version: number,
  deps: RollbackDependencies,
): Promise<{ ok: true } | { ok: false; problem: string }> {
  const clock = deps.clock ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const start = clock();
  for (;;) {
    const checked = await store.checkedVersion('gateway');
    if (checked && checked.version >= version) {
      const parsed = store.parse('gateway', checked.value);
      if (parsed.ok && parsed.value.weight === 0) return { ok: true };
      return {
        ok: false,
        problem: `a newer write (v${checked.version}: ${checked.value}) was checked since, so the weight is not 0`,
      };
    }
    if (clock() - start >= LABEL_WAIT_MS)
      return {
        ok: false,
        problem: `the flag guard has not labelled it ${LAST_GOOD_LABEL} within ${LABEL_WAIT_MS / 1000} s (the checked version is ${checked ? `v${checked.version}` : 'none'})`,
      };
    await sleep(LABEL_POLL_MS);
  }
}
/** Users an alert names; the rest are in the log line and in `npm run migrate -- pending`. */
const ALERT_USERS = 100;

/** What became of the writes of the users the rollback sent back, for the log and the alert. */
export interface WriteBackOutcome {
  /** Rows written back to the legacy database just now. */
  readonly applied?: number;
  /** Users sent back whose writes are not in the legacy database yet (the first ALERT_USERS). */
  readonly strandedUsers?: readonly string[];
  readonly strandedCount?: number;
  /** What to do about them (docs/runbook.md, "An alert: Migration rolled back"). */
  readonly next: string;
}

/**
 * After routing went back: drains the outbox of the users who left (bounded), and reports exactly those
 * whose writes did not make it (never silence: a failure to ask is reported too).
 */
async function writeBackAfter(
  service: HookService,
  from: RoutingDocument,
  to: RoutingDocument,
  deps: RollbackDependencies,
): Promise<WriteBackOutcome> {
  const pending = `npm run migrate -- pending ${service.service}`;
  if (!service.writeBackFunction)
    return {
      next: `${service.service} has no write-back (services[].writeBack): what the users sent back wrote on the service is only in its database, and the product cannot list it`,
    };
  if (!deps.writeBack) return { next: `no channel to ${service.writeBackFunction}: run ${pending}` };
  try {
    const out = await deps.writeBack(
      service.writeBackFunction,
      { action: 'drain', leaving: { from, to }, deadlineMs: DRAIN_MS },
      DRAIN_MS + 7_000,
    );
    const stranded = out.pending.list.filter((u) => !u.lossAccepted);
    return {
      applied: out.applied,
      strandedUsers: stranded.slice(0, ALERT_USERS).map((u) => u.userId),
      strandedCount: stranded.length,
      next:
        stranded.length === 0
          ? 'every user sent back has their writes in the legacy database'
          : `these users are on the monolith while writes they made on the service are not in the legacy database yet (${
              out.failed.length > 0
                ? `errors: ${out.failed
                    .slice(0, 3)
                    .map((f) => `${f.userId}: ${f.error}`)
                    .join('; ')}`
                : 'not applied in time'
            }); the write-back keeps trying every minute. The full list: ${pending} (docs/runbook.md, "When something goes wrong")`,
    };
  } catch (e) {
    if (!(e instanceof WriteBackUnavailableError)) throw e;
    return {
      next: `${e.message}: the users sent back whose writes are not in the legacy database are unknown; run ${pending} (docs/runbook.md, "When something goes wrong")`,
    };
  }
}

let dependencies: RollbackDependencies | undefined;

export async function handler(event: EventBridgeEvent<string, AlarmChangeDetail>): Promise<RollbackResult> {
  dependencies ??= defaultHookDependencies('auto-rollback');
  return rollback(event, dependencies);
}
