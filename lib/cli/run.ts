/**
 * Runs one operator command against SSM. Every write is checked with the flag contract before it is
 * made (the document parses and fits its tier; the rules in lib/flags/invariants.ts hold against the
 * checked flags), so the CLI refuses what the flag guard would undo; after the write, the guard checks
 * it at once (the CLI invokes it), and the CLI reports when the flip is live.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { ExtractedServiceConfig, MigrationConfig } from '../config/types';
import {
  type FlagDocument,
  type FlagKind,
  type OverrideDocument,
  type RoutingDocument,
  serializeFlag,
} from '../flags/documents';
import { type FlagSet, violations } from '../flags/invariants';
import {
  checkedName,
  flagParameterNames,
  LAST_GOOD_LABEL,
  livePinParameterName,
  liveWeightParameterNames,
  overrideParameterName,
} from '../flags/parameters';
import { FlagStore, type FlagVersion, isNotFound } from '../flags/ssm-store';
import { PIN_PINNED, PIN_RELEASED } from '../gateway/alb-rules';
import { cutoverStateMachineName } from '../naming';
import { capabilitiesOf } from '../phases';
import { table } from '../text/table';
import type { DnsClients } from './dns';
import { RefusedError, RunFailedError, UsageError } from './errors';
import { refuseUnidentifiable } from './identity-check';
import type { Command, GlobalOptions } from './parse-args';
import { beforeUsersLeave, pendingCommand, type WriteBackDependencies } from './write-back';

/** What the flag guard answered when asked to check a parameter (its result's status and version). */
export interface GuardVerdict {
  readonly status: string;
  readonly version?: number;
  readonly problems?: readonly string[];
}

export interface CliDependencies extends WriteBackDependencies {
  readonly config: MigrationConfig;
  readonly ssm: SSMClient;
  /** Step Functions, built only for the commands that need it. */
  readonly stepFunctions: () => Promise<SFNClient>;
  /** Route 53 and CloudFormation, built only for the `dns` command. */
  readonly dnsClients?: () => Promise<DnsClients>;
  /**
   * Asks the flag guard to check a parameter now (a synchronous invocation). Absent, or failing (no
   * permission, not deployed), the CLI waits for the guard's own check of the change event instead.
   */
  readonly checkNow?: (parameterName: string) => Promise<GuardVerdict>;
  readonly out: (line: string) => void;
  readonly now?: () => Date;
  /** Waits between polls (a running cutover, a label the guard has not placed yet). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long to wait for the flag guard's check of a write. @default 60 */
  readonly confirmTimeoutSeconds?: number;
}

export async function runCommand(
  command: Exclude<Command, { name: 'help' }>,
  options: GlobalOptions,
  deps: CliDependencies,
): Promise<void> {
  // Every command on one service says it loudly when the cutover is live but not in the environment file.
  if (command.name !== 'status' && 'service' in command)
    await warnMissingMarker(command.service, deps, options);
  switch (command.name) {
    case 'status':
      return status(command.service, deps, options);
    case 'history':
      return history(command.service, command.flag, deps);
    case 'route':
      refuseUnidentifiable(deps.config, command);
      return write(command.service, 'routing', deps, options, (current, override) =>
        routeDocument(command, current.routing, options, override),
      );
    case 'gateway': {
      const service = serviceOf(deps.config, command.service);
      if (!capabilitiesOf(service).atAlb) {
        throw new RefusedError(
          `${service.name} is at phase ${service.phase}: the gateway weight applies from phase 3; deploy phase 3 first`,
        );
      }
      return write(command.service, 'gateway', deps, options, () => ({
        weight: command.weight,
        reason: options.reason,
      }));
    }
    case 'rollback':
      return rollback(command.service, command.flag, deps, options);
    case 'cutover':
      return cutover(command.service, deps, options);
    case 'dns': {
      const { runDns } = await import('./dns');
      const { dnsClients } = deps;
      if (!dnsClients) throw new Error('this CLI was built without Route 53 and CloudFormation clients');
      return runDns(command, options, { ...deps, dnsClients });
    }
    case 'pending':
      return pendingCommand(storeOf(command.service, deps).service, command.drain, deps);
  }
}

export function serviceOf(config: MigrationConfig, name: string): ExtractedServiceConfig {
  const service = config.services.find((s) => s.name === name);
  if (!service) {
    throw new UsageError(
      `unknown service ${JSON.stringify(name)}; the configuration has ${config.services.map((s) => s.name).join(', ') || 'no service'}`,
    );
  }
  return service;
}

function storeOf(name: string, deps: CliDependencies): { service: ExtractedServiceConfig; store: FlagStore } {
  const service = serviceOf(deps.config, name);
  if (!capabilitiesOf(service).migrating) {
    throw new RefusedError(
      `${service.name} is at phase 0: its flags exist from phase 1; deploy phase 1 first`,
    );
  }
  const prefix = deps.config.flags.parameterPrefix;
  const store = new FlagStore(flagParameterNames(prefix, service.name), deps.ssm, {
    tier: deps.config.flags.tier,
    overrideName: overrideParameterName(prefix, service.name),
    cutoverRecorded: service.cutoverRecorded,
  });
  return { service, store };
}

export function routeDocument(
  command: Extract<Command, { name: 'route' }>,
  current: RoutingDocument,
  options: GlobalOptions,
  override?: OverrideDocument,
): RoutingDocument {
  const base = {
    users: current.users,
    percent: current.percent,
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    // Key two of the emergency override travels in the document, for the guard and every reader to see.
    ...(override && options.acceptDataLoss !== undefined
      ? { override: { expiresAt: override.expiresAt, acceptDataLoss: options.acceptDataLoss } }
      : {}),
  };
  switch (command.mode) {
    case 'users':
      return { ...base, mode: 'users', users: command.users };
    case 'percent':
      return { ...base, mode: 'percent', percent: command.percent };
    default:
      return { ...base, mode: command.mode };
  }
}

/** The checked flags of a service, and the checked override when the operator asked for it. */
async function checkedState(store: FlagStore, deps: CliDependencies, options: GlobalOptions) {
  const { flags, override } = await store.checkedSet();
  if (options.acceptDataLoss === undefined) return { flags, override: undefined };
  const now = deps.now?.() ?? new Date();
  if (!override || now.getTime() >= Date.parse(override.expiresAt)) {
    throw new RefusedError(
      `refused: --accept-data-loss is key two of the emergency override; key one, a checked, unexpired ${store.overrideName}, is ${override ? `expired (${override.expiresAt})` : 'missing'}. ` +
        'See "Emergency override" in docs/runbook.md.',
    );
  }
  if (!flags.cutover.completed)
    throw new RefusedError('refused: --accept-data-loss only applies after the point of no return; drop it');
  deps.out(`EMERGENCY OVERRIDE (${override.reason}, until ${override.expiresAt}): ${options.acceptDataLoss}`);
  return { flags, override };
}

/** Checks a proposed document against the contract and the checked flags, then writes it (unless dry-run). */
async function write<K extends FlagKind>(
  serviceName: string,
  kind: K,
  deps: CliDependencies,
  options: GlobalOptions,
  propose: (current: FlagSet, override?: OverrideDocument) => FlagDocument<K>,
): Promise<void> {
  const { store, service } = storeOf(serviceName, deps);
  // A write must never create a flag parameter: the deploy does (ParameterNotFound says which is missing).
  await store.latest(kind);
  const { flags, override } =
    kind === 'routing'
      ? await checkedState(store, deps, options)
      : { ...(await store.checkedSet()), override: undefined };
  const text = serializeFlag(kind, propose(flags, override));
  await checkAndPut(store, kind, text, flags, deps, options, {
    override,
    gatewayMode: service.gateway,
    beforeWrite: usersLeaveCheck(service, flags, deps, options),
  });
}

/**
 * Before a routing write (while a rollback is possible): the leaving users' writes go to the legacy
 * database first, or the write is refused (lib/cli/write-back.ts).
 */
function usersLeaveCheck(
  service: ExtractedServiceConfig,
  current: FlagSet,
  deps: CliDependencies,
  options: GlobalOptions,
): (kind: FlagKind, proposed: FlagDocument<FlagKind>) => Promise<void> {
  return async (kind, proposed) => {
    if (kind !== 'routing' || current.cutover.completed) return;
    await beforeUsersLeave(service, current.routing, proposed as RoutingDocument, options, deps);
  };
}

async function checkAndPut(
  store: FlagStore,
  kind: FlagKind,
  text: string,
  current: FlagSet,
  deps: CliDependencies,
  options: GlobalOptions,
  context: {
    override?: OverrideDocument;
    gatewayMode: ExtractedServiceConfig['gateway'];
    /** Runs once the write is allowed, before it is made (and on a dry run). */
    beforeWrite?: (kind: FlagKind, proposed: FlagDocument<FlagKind>) => Promise<void>;
  },
) {
  const parsed = store.parse(kind, text);
  if (!parsed.ok) throw new RefusedError(parsed.errors.join('\n'));
  const { beforeWrite, ...rules } = context;
  const problems = violations(kind, parsed.value, current, { ...rules, now: deps.now?.() ?? new Date() });
  if (problems.length > 0) throw new RefusedError(`refused: ${problems.join('\n')}`);
  await beforeWrite?.(kind, parsed.value);
  const name = store.names[kind];
  if (options.dryRun) {
    deps.out(`dry run: would write ${name}: ${text}`);
    return;
  }
  const version = await store.putRaw(kind, text);
  deps.out(`wrote ${name} version ${version}: ${text}`);
  await confirmLive(name, version, deps);
}

/**
 * Has the flag guard check the write now and reports when it is live (labelled last-good, which is
 * what every reader reads). Without a direct answer, waits for the guard's own check of the change.
 */
async function confirmLive(name: string, version: number, deps: CliDependencies): Promise<void> {
  const ttl = deps.config.flags.cacheTtlSeconds;
  const live = () =>
    deps.out(
      `live: the flag guard checked version ${version} (last-good); readers use it within ${ttl} s (their cache TTL)`,
    );
  let verdict: GuardVerdict | undefined;
  try {
    verdict = await deps.checkNow?.(name);
  } catch (e) {
    deps.out(
      `could not ask the flag guard directly (${(e as Error).name}: ${(e as Error).message}); waiting for its own check`,
    );
  }
  if (verdict) {
    if ((verdict.status === 'labelled' || verdict.status === 'unchanged') && verdict.version === version)
      return live();
    if (verdict.status === 'restored')
      throw new RefusedError(
        `refused by the flag guard, which restored the last checked value: ${(verdict.problems ?? []).join('; ')}`,
      );
    if (verdict.status === 'held')
      throw new RefusedError(
        `the flag guard holds ${name}: it cannot know whether the cutover happened, so it checks nothing that could send users to the monolith: ${(verdict.problems ?? []).join('; ')}`,
      );
    if (verdict.status === 'superseded' || (verdict.version !== undefined && verdict.version > version))
      throw new RefusedError(`a newer write superseded version ${version}; run status to see what is live`);
  }
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const timeout = deps.confirmTimeoutSeconds ?? 60;
  for (let waited = 0; ; waited++) {
    const checkedVersion = await checkedVersionOf(deps.ssm, name);
    if (checkedVersion === version) return live();
    if (checkedVersion !== undefined && checkedVersion > version)
      throw new RefusedError(
        `the flag guard checked a newer version (${checkedVersion}); run status to see what is live`,
      );
    if (waited >= timeout) break;
    await sleep(1000);
  }
  throw new Error(
    `wrote version ${version} of ${name}, but the flag guard has not checked it within ${timeout} s, so readers still use the previous checked version; run status, and see "When something goes wrong" in docs/runbook.md`,
  );
}

/** The version carrying the last-good label, if any. */
async function checkedVersionOf(ssm: SSMClient, name: string): Promise<number | undefined> {
  try {
    return (await ssm.send(new GetParameterCommand({ Name: checkedName(name) }))).Parameter?.Version;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function rollback(
  serviceName: string,
  kind: 'routing' | 'gateway',
  deps: CliDependencies,
  options: GlobalOptions,
): Promise<void> {
  const { store, service } = storeOf(serviceName, deps);
  if (kind === 'gateway' && !capabilitiesOf(service).atAlb) {
    throw new RefusedError(
      `${service.name} is at phase ${service.phase}: it has no gateway weight to roll back before phase 3`,
    );
  }
  const { flags: current } = await store.checkedSet();
  if (kind === 'routing' && current.cutover.completed) {
    throw new RefusedError(
      `refused: the bulk migration completed at ${current.cutover.completedAt} (run ${current.cutover.runId}): routing stays "all", and a rollback of routing is refused like every other route change. Fix forward, or see the emergency override in docs/runbook.md.`,
    );
  }
  const versions = await store.history(kind);
  const goodIndex = versions.findIndex((v) => v.labels.includes(LAST_GOOD_LABEL));
  if (goodIndex < 0)
    throw new RefusedError(
      `${store.names[kind]} has no ${LAST_GOOD_LABEL} version yet: nothing to roll back from`,
    );
  const good = versions[goodIndex];
  const now = deps.now?.() ?? new Date();
  // The newest earlier version that is valid, differs from the current one, and is allowed now.
  const previous = versions
    .slice(0, goodIndex)
    .reverse()
    .find((v) => {
      const parsed = store.parse(kind, v.value);
      return (
        parsed.ok &&
        v.value !== good.value &&
        violations(kind, parsed.value, current, { now, gatewayMode: service.gateway }).length === 0
      );
    });
  if (!previous) throw new RefusedError(`no earlier valid version of ${store.names[kind]} to roll back to`);
  deps.out(
    `rolling ${store.names[kind]} back from version ${good.version} to the content of version ${previous.version}`,
  );
  await checkAndPut(store, kind, previous.value, current, deps, options, {
    gatewayMode: service.gateway,
    beforeWrite: usersLeaveCheck(service, current, deps, options),
  });
}

async function history(serviceName: string, kind: FlagKind, deps: CliDependencies): Promise<void> {
  const { store } = storeOf(serviceName, deps);
  const rows = (await store.history(kind))
    .reverse()
    .map((v) => [
      String(v.version),
      v.modifiedAt?.toISOString() ?? '',
      v.modifiedBy ?? '',
      v.labels.join(','),
      v.value,
    ]);
  deps.out(`${store.names[kind]}`);
  deps.out(table(['version', 'written at', 'by', 'labels', 'value'], rows));
}

async function status(
  only: string | undefined,
  deps: CliDependencies,
  options: GlobalOptions,
): Promise<void> {
  const services = only ? [serviceOf(deps.config, only)] : deps.config.services;
  const rows: string[][] = [];
  for (const service of services) {
    if (!capabilitiesOf(service).migrating) {
      rows.push([service.name, '0', '-', '-', '-', '-', '-', '-', '-', 'flags exist from phase 1']);
      continue;
    }
    const { store } = storeOf(service.name, deps);
    const [routing, cutover, gateway] = await Promise.all(
      (['routing', 'cutover', 'gateway'] as const).map((k) => store.history(k)),
    );
    const latest = (versions: FlagVersion[]) => versions[versions.length - 1];
    const routingDoc = parseOr(store, 'routing', latest(routing));
    const cutoverDoc = parseOr(store, 'cutover', latest(cutover));
    const gatewayDoc = parseOr(store, 'gateway', latest(gateway));
    const good = routing.find((v) => v.labels.includes(LAST_GOOD_LABEL));
    const last = [routing, cutover, gateway]
      .map(latest)
      .sort((a, b) => (b.modifiedAt?.getTime() ?? 0) - (a.modifiedAt?.getTime() ?? 0))[0];
    rows.push([
      service.name,
      String(service.phase),
      routingDoc ? routingDoc.mode : 'INVALID',
      routingDoc ? String(routingDoc.percent) : '-',
      routingDoc ? String(routingDoc.users.length) : '-',
      cutoverDoc
        ? cutoverDoc.completed
          ? `completed ${cutoverDoc.completedAt} (${cutoverDoc.runId})`
          : 'not done'
        : 'INVALID',
      gatewayDoc ? String(gatewayDoc.weight) : 'INVALID',
      good
        ? `v${good.version}${good.version === latest(routing).version ? '' : ` (latest v${latest(routing).version} unchecked)`}`
        : 'none',
      last.modifiedAt?.toISOString() ?? '',
      last.modifiedBy ?? '',
    ]);
  }
  deps.out(
    table(
      [
        'service',
        'phase',
        'routing',
        'percent',
        'allowlist',
        'cutover',
        'gateway',
        'last-good',
        'last change',
        'by',
      ],
      rows,
    ),
  );
  for (const service of services.filter((s) => capabilitiesOf(s).atAlb))
    deps.out(await liveAlbState(service, deps));
  const phase2 = services.filter((s) => capabilitiesOf(s).cutover);
  if (phase2.length > 0) {
    const sfn = await deps.stepFunctions();
    const { ListExecutionsCommand } = await import('@aws-sdk/client-sfn');
    for (const service of phase2) {
      const machine = await findCutoverMachine(sfn, deps.config, service.name);
      if (!machine) {
        deps.out(`${service.name} cutover: state machine not deployed`);
        continue;
      }
      const [last] =
        (await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine, maxResults: 1 }))).executions ??
        [];
      deps.out(
        last
          ? `${service.name} cutover: last run ${last.name} ${last.status} (started ${last.startDate?.toISOString()}${last.stopDate ? `, ended ${last.stopDate.toISOString()}` : ''})`
          : `${service.name} cutover: not run yet`,
      );
    }
  }
  for (const service of services) await warnMissingMarker(service.name, deps, options);
}

function parseOr<K extends FlagKind>(
  store: FlagStore,
  kind: K,
  version: FlagVersion | undefined,
): FlagDocument<K> | undefined {
  if (!version) return undefined;
  const parsed = store.parse(kind, version.value);
  return parsed.ok ? parsed.value : undefined;
}

/**
 * Starts the service's cutover state machine (which checks the preconditions again, runs the bulk
 * migration and records the point of no return) and follows it to the end. On success it says exactly
 * what to add to the environment file: the deploy-time marker.
 */
async function cutover(serviceName: string, deps: CliDependencies, options: GlobalOptions): Promise<void> {
  const { service, store } = storeOf(serviceName, deps);
  if (!capabilitiesOf(service).cutover)
    throw new RefusedError(
      `${service.name} is at phase ${service.phase}: the cutover exists from phase 2; deploy phase 2 first`,
    );
  const { flags: current } = await store.checkedSet();
  if (current.cutover.completed) {
    throw new RefusedError(
      `refused: the cutover of ${service.name} is already recorded (run ${current.cutover.runId} at ${current.cutover.completedAt})${service.cutoverRecorded ? '' : `; record it in the environment file: ${markerSnippet(current.cutover)}`}`,
    );
  }
  if (current.routing.mode !== 'all') {
    throw new RefusedError(
      `refused: routing of ${service.name} is "${current.routing.mode}"; the cutover needs "all" (npm run migrate -- route ${service.name} all)`,
    );
  }
  const sfn = await deps.stepFunctions();
  const { StartExecutionCommand, DescribeExecutionCommand, ListExecutionsCommand } = await import(
    '@aws-sdk/client-sfn'
  );
  const machineName = cutoverStateMachineName(deps.config.name, service.name);
  const stateMachineArn = await findCutoverMachine(sfn, deps.config, service.name);
  if (!stateMachineArn)
    throw new RefusedError(
      `state machine ${machineName} not found: deploy the phase-2 stacks (operations stack) first`,
    );
  const [running] =
    (await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1 })))
      .executions ?? [];
  if (running) {
    throw new RefusedError(
      `refused: a cutover of ${service.name} is already running (${running.name}, started ${running.startDate?.toISOString()}); follow it with npm run migrate -- status ${service.name}`,
    );
  }

  const now = deps.now?.() ?? new Date();
  const name = `${service.name}-cutover-${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  if (options.dryRun) {
    deps.out(`dry run: would start ${machineName} as ${name}`);
    return;
  }
  const started = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      name,
      input: JSON.stringify({ confirm: service.name, requestedBy: 'migrate cli' }),
    }),
  );
  deps.out(`started ${name}: bulk migration of ${service.name}, then the point of no return`);
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    if (execution.status === 'SUCCEEDED') {
      const { flags } = await store.checkedSet();
      deps.out(
        `${name} SUCCEEDED: the cutover is recorded; ${service.name}'s database is now the only truth.`,
      );
      if (flags.cutover.completed) {
        deps.out(
          `Now record it in the environment file (${options.config ?? 'lib/config/demo.ts'}), in the entry of ${service.name} under "services", and deploy, so that every reader routes ${service.name} to the service before its first read of the flags and whenever SSM fails:`,
        );
        deps.out(`  ${markerSnippet(flags.cutover)}`);
      }
      return;
    }
    if (execution.status !== 'RUNNING' && execution.status !== 'PENDING_REDRIVE') {
      const why =
        execution.error || execution.cause
          ? `${execution.error ?? 'no error name'}: ${execution.cause ?? 'no cause given'}`
          : 'it was stopped before it finished';
      throw new RunFailedError(
        `${name} ${execution.status}: ${why}. See "When a cutover run fails" in docs/runbook.md.`,
      );
    }
    deps.out(`${new Date().toISOString()} ${name} still running`);
    await sleep(15_000);
  }
}

/**
 * When a service's live (checked) cutover is completed and the environment file has no
 * `cutoverRecorded` for it, says so loudly, with the exact lines to add and the deploy: without the
 * marker, a reader that starts while SSM is unreachable holds the service's routes, and after the flags
 * are deleted the flag guard cannot know that the cutover happened.
 */
async function warnMissingMarker(name: string, deps: CliDependencies, options: GlobalOptions): Promise<void> {
  const service = deps.config.services.find((s) => s.name === name);
  if (!service || service.cutoverRecorded || !capabilitiesOf(service).cutover) return;
  const { store } = storeOf(name, deps);
  const checked = (await store.checkedTexts()).cutover;
  if (checked.status !== 'ok') return;
  const parsed = store.parse('cutover', checked.text);
  if (!parsed.ok || !parsed.value.completed) return;
  const file = options.config ?? 'lib/config/demo.ts';
  const deploy = options.config ? `npx cdk deploy --all -c config=${options.config}` : 'npx cdk deploy --all';
  for (const line of [
    `!!! ${service.name}: the cutover is completed (run ${parsed.value.runId} at ${parsed.value.completedAt}), but the environment file does not record it.`,
    `!!! Until it does, a routing proxy that starts while SSM is unreachable holds ${service.name}'s routes (503), and if the flags are deleted the flag guard cannot know the cutover happened.`,
    `!!! Add to the entry of "${service.name}" under "services" in ${file}:`,
    `!!!   ${markerSnippet(parsed.value)}`,
    `!!! and deploy: ${deploy}`,
  ])
    deps.out(line);
}

/** The deploy-time marker of a recorded cutover, as a line of the environment file. */
function markerSnippet(cutover: { runId: string; completedAt: string }): string {
  return `"cutoverRecorded": ${JSON.stringify({ runId: cutover.runId, completedAt: cutover.completedAt })}`;
}

/** The ARN of a service's cutover state machine, found by its contract name. */
async function findCutoverMachine(
  sfn: SFNClient,
  config: MigrationConfig,
  service: string,
): Promise<string | undefined> {
  const { ListStateMachinesCommand } = await import('@aws-sdk/client-sfn');
  const name = cutoverStateMachineName(config.name, service);
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken }));
    const found = page.stateMachines?.find((m) => m.name === name)?.stateMachineArn;
    if (found) return found;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** What the traffic-switch hook last applied at the ALB for a phase-3 service (its live parameters). */
async function liveAlbState(service: ExtractedServiceConfig, deps: CliDependencies): Promise<string> {
  const { GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const prefix = deps.config.flags.parameterPrefix;
  const read = async (name: string) => {
    try {
      return (await deps.ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value ?? '?';
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return 'missing';
      throw e;
    }
  };
  if (service.gateway === 'alb') {
    const pin = await read(livePinParameterName(prefix, service.name));
    const state =
      pin === PIN_PINNED
        ? 'pinned to legacy'
        : pin === PIN_RELEASED
          ? 'released to the service'
          : `unknown pin ${pin}`;
    return `${service.name} at the ALB (native rewrite): ${state}`;
  }
  const live = liveWeightParameterNames(prefix, service.name);
  return `${service.name} at the ALB: legacy ${await read(live.legacy)} / gateway ${await read(live.gateway)} (as applied by the traffic-switch hook)`;
}
