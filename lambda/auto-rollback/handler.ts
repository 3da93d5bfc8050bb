/**
 * auto-rollback: EventBridge "CloudWatch Alarm State Change" to ALARM for one of a service's alarms ->
 * switch what can be switched back without losing data (see decide.ts), log it and alert.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { FlagStore } from '../../lib/flags/ssm-store';
import type { HookService } from '../../lib/hooks/contract';
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
  | { readonly status: 'done'; readonly summary: string; readonly wrote: readonly string[] };

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
  for (const service of services) {
    const done = await rollbackService(service, alarmName, event.detail.state?.reason, deps);
    summaries.push(done.summary);
    wrote.push(...done.wrote);
  }
  return { status: 'done', summary: summaries.join('; '), wrote };
}

async function rollbackService(
  service: HookService,
  alarmName: string,
  alarmReason: string | undefined,
  deps: RollbackDependencies,
): Promise<{ summary: string; wrote: string[] }> {
  const { logger } = deps;
  const store = new FlagStore(service.names, deps.ssm, {
    tier: service.tier,
    overrideName: service.overrideName,
    cutoverRecorded: service.cutoverRecorded,
  });
  const plan = planRollback({
    service: service.service,
    phase: service.phase,
    alarmName,
    gatewayOnly: service.gatewayAlarmNames.includes(alarmName),
    flags: (await store.checkedSet()).flags,
  });
  const wrote: string[] = [];
  // Gateway first: it takes the new path out of traffic at the ALB in one step.
  if (plan.gateway) wrote.push(`${service.names.gateway} v${await store.put('gateway', plan.gateway)}`);
  if (plan.routing) wrote.push(`${service.names.routing} v${await store.put('routing', plan.routing)}`);

  logger.log(wrote.length > 0 ? 'warn' : 'error', plan.summary, {
    service: service.service,
    alarmName,
    wrote,
    reason: alarmReason,
  });
  logger.metric(wrote.length > 0 ? 'AutoRollback' : 'AutoRollbackNotPossible', 1, {
    Service: service.service,
  });
  await deps.alerts.publish(
    `Migration ${wrote.length > 0 ? 'rolled back' : 'alarm, no rollback possible'}: ${service.service}`,
    { alarmName, alarmReason, summary: plan.summary, wrote },
  );
  return { summary: plan.summary, wrote };
}

let dependencies: RollbackDependencies | undefined;

export async function handler(event: EventBridgeEvent<string, AlarmChangeDetail>): Promise<RollbackResult> {
  dependencies ??= defaultHookDependencies('auto-rollback');
  return rollback(event, dependencies);
}
