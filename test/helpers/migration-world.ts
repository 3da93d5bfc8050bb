/**
 * A migration with its data, all real parts but AWS's own services: the monolith and the users service
 * stand-ins (test/standins) on a legacy and a service database in the test cluster; the real routing proxy
 * (bundled by global setup) in front of them; the flags in moto's SSM; the flag guard, the automatic
 * rollback and the write-back function's handler in process, where AWS runs those Lambdas; and the CLI's
 * `main`, reaching the guard and the write-back function through the same channel it uses on AWS (a Lambda
 * invocation by name, here answered by the handlers themselves).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { type RollbackResult, rollback } from '../../lambda/auto-rollback/handler';
import {
  type GuardDependencies,
  type GuardResult,
  guard,
  type ParameterChangeDetail,
} from '../../lambda/flag-guard/handler';
import { Alerts } from '../../lambda/shared/alerts';
import { jsonLogger } from '../../lambda/shared/log';
import { main } from '../../lib/cli/main';
import type { GuardVerdict } from '../../lib/cli/run';
import type { MigrationConfig, RoutingProxyConfig } from '../../lib/config/types';
import type { RoutingDocument } from '../../lib/flags/documents';
import type { FlagParameterNames } from '../../lib/flags/parameters';
import { type HookService, hookServices } from '../../lib/hooks/contract';
import { writeBackFunctionName } from '../../lib/naming';
import { proxyRuntimeConfig } from '../../lib/proxy/contract';
import { type Invoke, writeBackChannel } from '../../lib/write-back/invoke';
import { eventually, type ProxyProcess, startProxy } from '../proxy/harness';
import { type LegacyUser, type Monolith, seedLegacy, startMonolith } from '../standins/monolith';
import { createServiceSchema, startUsersService, type UsersService } from '../standins/users-service';
import { ready } from './hooks';
import { createTopic, deployFlags, isolatedConfig, motoClients, REGION } from './moto';
import { type DatabasePair, freshDatabases } from './postgres';
import { invokeLocal, type LocalWriteBack, localWriteBack } from './write-back';

/** An alert as the hooks publish it (recorded instead of sent). */
export interface Alert {
  readonly subject: string;
  readonly details: Record<string, unknown>;
}

export interface World {
  readonly config: MigrationConfig;
  readonly names: FlagParameterNames;
  readonly dbs: DatabasePair;
  readonly monolith: Monolith;
  readonly service: UsersService;
  readonly proxy: ProxyProcess;
  readonly writeBack: LocalWriteBack;
  /** Every alert the hooks published. */
  readonly alerts: Alert[];
  /** Where the CLI writes its lists of users. */
  readonly reports: string;
  /** The CLI in process, as an operator runs it. */
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The flag guard, on the change event of a flag (what EventBridge delivers after a write). */
  guardEvent(kind: keyof FlagParameterNames): Promise<GuardResult>;
  /** The automatic rollback, on one of the service's alarms going to ALARM. */
  alarm(name?: string): Promise<RollbackResult>;
  /** A raw `aws ssm put-parameter` of routing (no check). */
  putRouting(doc: RoutingDocument): Promise<void>;
  /** The routing document readers read now (`:last-good`). */
  liveRouting(): Promise<RoutingDocument>;
  /** A client's request through the routing proxy. */
  request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Waits until the proxy sends `userId`'s requests to `side`. */
  routedTo(userId: string, side: 'service' | 'legacy'): Promise<void>;
  /** What the hooks run with here (for the cutover's steps, run from its state machine definition). */
  readonly hooks: {
    readonly service: HookService;
    readonly guardDeps: GuardDependencies;
    /** The write-back function's handler, as Lambda invokes it. */
    readonly writeBack: (event: unknown) => Promise<unknown>;
    readonly ssm: SSMClient;
  };
  close(): Promise<void>;
}

const changeEvent = (name: string) =>
  ({
    source: 'aws.ssm',
    'detail-type': 'Parameter Store Change',
    detail: { name, operation: 'Update' },
  }) as EventBridgeEvent<string, ParameterChangeDetail>;

/** Alerts recorded in memory, with the Alerts interface the hooks use. */
class RecordedAlerts extends Alerts {
  constructor(readonly sent: Alert[]) {
    super('arn:aws:sns:eu-west-1:123456789012:recorded', ready({} as never));
  }
  override async publish(subject: string, details: Record<string, unknown>): Promise<void> {
    this.sent.push({ subject, details });
  }
}

export async function startWorld(users: readonly LegacyUser[], phase = 1): Promise<World> {
  const { ssm, sns, sfn } = motoClients();
  const { config, path } = isolatedConfig((input) => {
    input.services[0].phase = phase;
  });
  const service = config.services[0];
  const names = await deployFlags(ssm, config);
  await createTopic(sns);
  const dbs = await freshDatabases();
  await seedLegacy(dbs.legacy, users);
  await createServiceSchema(dbs.service);
  const writeBack = localWriteBack(dbs, {
    tables: service.writeBack?.tables ?? {},
    cutoverCompleted: async () => {
      const out = await ssm.send(new GetParameterCommand({ Name: `${names.cutover}:last-good` }));
      return JSON.parse(out.Parameter?.Value ?? '{}').completed === true;
    },
  });
  const monolith = await startMonolith(dbs.legacy);
  const usersService = await startUsersService({ serviceUrl: dbs.service, legacyUrl: dbs.legacy });

  // The functions AWS runs, here in process; reached by name, as Lambda Invoke reaches them.
  const alerts: Alert[] = [];
  const hookEnv = {
    envName: config.name,
    parameterPrefix: config.flags.parameterPrefix,
    tier: config.flags.tier,
    alertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:recorded',
    statesArnPrefix: `arn:aws:states:${REGION}:123456789012:`,
    services: [
      { name: service.name, phase, gateway: service.gateway, writeBack: service.writeBack !== undefined },
    ],
  };
  const hookService: HookService = hookServices(hookEnv)[0];
  const fn = writeBackFunctionName(config.name, service.name);
  const handlerOf = invokeLocal(writeBack);
  const invoke: Invoke = async (functionName, payload) => {
    if (functionName !== fn)
      throw Object.assign(new Error(`Function not found: ${functionName}`), {
        name: 'ResourceNotFoundException',
      });
    try {
      return { payload: JSON.stringify(await handlerOf(JSON.parse(payload))) };
    } catch (e) {
      return { payload: JSON.stringify({ errorMessage: (e as Error).message }), functionError: 'Unhandled' };
    }
  };
  const channel = writeBackChannel(invoke);
  const guardDeps: GuardDependencies = {
    services: [hookService],
    ssm,
    sfn: ready(sfn),
    alerts: new RecordedAlerts(alerts),
    logger: jsonLogger('flag-guard', () => {}),
    writeBack: channel,
  };
  // One guard check at a time, as one Lambda per event would not race on a flag in these scenarios.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f, f);
    queue = next.catch(() => {});
    return next;
  };
  const guardEvent = (kind: keyof FlagParameterNames) =>
    serial(() => guard(changeEvent(names[kind]), guardDeps));

  // The real routing proxy, with the document the deploy gives it (lib/proxy/contract.ts), pointed at the
  // stand-ins and reading the flags from moto every 150 ms.
  const proxyDefaults = (config.routing as { proxy: RoutingProxyConfig }).proxy;
  const document = proxyRuntimeConfig(config, proxyDefaults, config.services);
  const proxy = await startProxy({
    ...document,
    port: 0,
    legacy: { ...document.legacy, url: monolith.url },
    flags: { refreshMs: 150, jitterPercent: 20 },
    services: document.services.map((s) => ({ ...s, url: usersService.url })),
  });

  const reports = mkdtempSync(join(tmpdir(), 'migrate-reports-'));
  const request = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${proxy.url}${p}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  return {
    config,
    names,
    dbs,
    monolith,
    service: usersService,
    proxy,
    writeBack,
    alerts,
    reports,
    cli: async (...args) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main([...args, '--config', path], {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        env: { MIGRATE_REPORT_DIR: reports, MIGRATE_DRAIN_TIMEOUT_SECONDS: '10' },
        connect: () => ({
          ssm,
          stepFunctions: async () => sfn,
          checkNow: async (name) => (await serial(() => guard(changeEvent(name), guardDeps))) as GuardVerdict,
          writeBack: channel,
        }),
        sleep: async () => {},
      });
      return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.join('\n') };
    },
    guardEvent,
    alarm: (name = hookService.alarmNames[0]) =>
      rollback(
        { detail: { alarmName: name, state: { value: 'ALARM', reason: 'Threshold Crossed' } } } as never,
        {
          services: [hookService],
          ssm,
          alerts: new RecordedAlerts(alerts),
          logger: jsonLogger('auto-rollback', () => {}),
          writeBack: channel,
        },
      ),
    putRouting: async (doc) => {
      await ssm.send(
        new PutParameterCommand({
          Name: names.routing,
          Value: JSON.stringify(doc),
          Type: 'String',
          Overwrite: true,
        }),
      );
    },
    liveRouting: async () =>
      JSON.parse(
        (await ssm.send(new GetParameterCommand({ Name: `${names.routing}:last-good` }))).Parameter?.Value ??
          '{}',
      ),
    request,
    hooks: { service: hookService, guardDeps, writeBack: handlerOf, ssm },
    routedTo: (userId, side) =>
      eventually(async () => (await request('GET', `/api/users/${userId}`)).body.side === side, 5000),
    close: async () => {
      await proxy.stop('SIGKILL');
      await Promise.all([monolith.close(), usersService.close()]);
      await dbs.drop();
      for (const c of [ssm, sns, sfn]) c.destroy();
    },
  };
}
