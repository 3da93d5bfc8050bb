/**
 * auto-rollback: EventBridge "CloudWatch Alarm State Change" to ALARM for one of a service's alarms ->
 * switch what can be switched back without losing data (see decide.ts), log it and alert.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import type { RoutingDocument } from '../../lib/flags/documents';
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

export type RollbackDependencies = HookDependencies;

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
  if (plan.gateway) wrote.push(`${service.names.gateway} v${await store.put('gateway', plan.gateway)}`);
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

/** How long the rollback spends writing the leaving users' rows back (its own timeout is 30 s). */
const DRAIN_MS = 15_000;
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
