/**
 * flag-guard: EventBridge "Parameter Store Change" for a migration flag -> check the newest version.
 * Valid: label it `last-good`. Invalid (unparseable, or against the rules, such as routing away from
 * "all" after the point of no return): write the last good value back, alert, count it.
 * Thin: the decision is in decide.ts, SSM access in lib/flags/ssm-store.ts.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { FLAG_KINDS, type FlagKind } from '../../lib/flags/documents';
import { LAST_GOOD_LABEL } from '../../lib/flags/parameters';
import { FlagStore } from '../../lib/flags/ssm-store';
import { defaultHookDependencies, type HookDependencies } from '../shared/dependencies';
import type { HookEnvironment } from '../shared/environment';
import { decide } from './decide';

export interface ParameterChangeDetail {
  readonly operation?: string;
  readonly name?: string;
}

export type GuardDependencies = HookDependencies;

export type GuardResult =
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'unchanged'; readonly reason: string }
  | { readonly status: 'labelled'; readonly version: number }
  | {
      readonly status: 'restored';
      readonly badVersion: number;
      readonly newVersion: number;
      readonly problems: readonly string[];
    }
  | { readonly status: 'superseded'; readonly badVersion: number; readonly latestVersion: number };

export async function guard(
  event: EventBridgeEvent<string, ParameterChangeDetail>,
  deps: GuardDependencies,
): Promise<GuardResult> {
  const { logger } = deps;
  const name = event?.detail?.name;
  if (typeof name !== 'string') {
    logger.log('error', 'malformed event: no detail.name', { event });
    logger.metric('MalformedEvent', 1, { Hook: 'flag-guard' });
    return { status: 'ignored', reason: 'malformed event: no detail.name' };
  }
  const target = findParameter(deps.env, name);
  if (!target) {
    logger.log('warn', 'event for a parameter this guard does not own', { name });
    return { status: 'ignored', reason: `${name} is not a migration flag of this app` };
  }
  const { service, kind } = target;
  const store = new FlagStore(service.names, deps.ssm, service.routingMaxBytes, service.overrideName);

  const history = await store.history(kind);
  const latest = history[history.length - 1];
  if (!latest) return { status: 'ignored', reason: `${name} has no versions` };
  const lastGood = history.find((v) => v.labels.includes(LAST_GOOD_LABEL));
  const validated = await store.lastGoodSet();
  // Only a routing write after the point of no return can need the override: read it only then.
  const override =
    kind === 'routing' && validated.cutover.completed ? (await store.override(new Date())).value : undefined;
  const decision = decide({
    kind,
    latest,
    lastGood,
    validated,
    override,
    maxBytes: store.maxBytes(kind),
    gatewayMode: service.gatewayMode,
  });
  const context = {
    service: service.service,
    kind,
    parameter: name,
    version: latest.version,
    modifiedBy: latest.modifiedBy,
  };

  switch (decision.action) {
    case 'none':
      logger.log('info', 'nothing to do', { ...context, reason: decision.reason });
      return { status: 'unchanged', reason: decision.reason };
    case 'label':
      await store.markLastGood(kind, decision.version);
      logger.log('info', 'validated', context);
      return { status: 'labelled', version: decision.version };
    case 'restore': {
      // A newer write since our read has its own event and its own check: never overwrite it.
      const current = await store.latest(kind);
      if (current.version !== decision.badVersion) {
        logger.log('warn', 'bad version already superseded; leaving the newer one to its own check', {
          ...context,
          latestVersion: current.version,
        });
        return { status: 'superseded', badVersion: decision.badVersion, latestVersion: current.version };
      }
      const newVersion = await store.putRaw(kind, decision.restoreValue);
      logger.log('warn', 'restored the last good value', {
        ...context,
        problems: decision.problems,
        restoredFrom: decision.restoreFrom,
        newVersion,
      });
      logger.metric('FlagRestored', 1, { Service: service.service });
      await deps.alerts.publish(`Migration flag restored: ${name}`, {
        service: service.service,
        parameter: name,
        rejectedVersion: decision.badVersion,
        writtenBy: latest.modifiedBy ?? 'unknown',
        problems: decision.problems,
        restoredFrom: decision.restoreFrom,
        newVersion,
      });
      return { status: 'restored', badVersion: decision.badVersion, newVersion, problems: decision.problems };
    }
  }
}

function findParameter(
  env: HookEnvironment,
  name: string,
): { service: HookEnvironment['services'][number]; kind: FlagKind } | undefined {
  for (const service of env.services) {
    const kind = FLAG_KINDS.find((k) => service.names[k] === name);
    if (kind) return { service, kind };
  }
  return undefined;
}

// Built once per cold start; tests call `guard` with their own dependencies.
let dependencies: GuardDependencies | undefined;

export async function handler(event: EventBridgeEvent<string, ParameterChangeDetail>): Promise<GuardResult> {
  dependencies ??= defaultHookDependencies('flag-guard');
  return guard(event, dependencies);
}
