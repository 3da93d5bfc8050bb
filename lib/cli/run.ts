/**
 * Runs one operator command against SSM. Every write is checked with the flag contract before it is
 * made (the document parses and fits its tier; the rules in lib/flags/invariants.ts hold against the
 * validated flags), so the CLI refuses what the flag guard would undo.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { ExtractedServiceConfig, MigrationConfig } from '../config/types';
import {
  type FlagDocument,
  type FlagKind,
  type RoutingDocument,
  serializeFlag,
  TIER_MAX_BYTES,
} from '../flags/documents';
import { type FlagSet, violations } from '../flags/invariants';
import {
  flagParameterNames,
  LAST_GOOD_LABEL,
  livePinParameterName,
  liveWeightParameterNames,
  overrideParameterName,
} from '../flags/parameters';
import { FlagStore, type FlagVersion } from '../flags/ssm-store';
import { PIN_PINNED, PIN_RELEASED } from '../gateway/alb-rules';
import { cutoverStateMachineName } from '../naming';
import { table } from '../text/table';
import { RefusedError, UsageError } from './errors';
import type { Command, GlobalOptions } from './parse-args';

export interface CliDependencies {
  readonly config: MigrationConfig;
  readonly ssm: SSMClient;
  /** Step Functions, built only for the commands that need it. */
  readonly stepFunctions: () => Promise<SFNClient>;
  readonly out: (line: string) => void;
  readonly now?: () => Date;
  /** Waits between polls of a running cutover. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function runCommand(
  command: Exclude<Command, { name: 'help' }>,
  options: GlobalOptions,
  deps: CliDependencies,
): Promise<void> {
  switch (command.name) {
    case 'status':
      return status(command.service, deps);
    case 'history':
      return history(command.service, command.flag, deps);
    case 'route':
      return write(command.service, 'routing', deps, options, (current) =>
        routeDocument(command, current.routing, options.reason),
      );
    case 'gateway': {
      const service = serviceOf(deps.config, command.service);
      if (service.phase < 3) {
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
  }
}

function serviceOf(config: MigrationConfig, name: string): ExtractedServiceConfig {
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
  if (service.phase < 1) {
    throw new RefusedError(
      `${service.name} is at phase 0: its flags exist from phase 1; deploy phase 1 first`,
    );
  }
  const prefix = deps.config.flags.parameterPrefix;
  const names = flagParameterNames(prefix, service.name);
  const store = new FlagStore(
    names,
    deps.ssm,
    TIER_MAX_BYTES[deps.config.flags.tier],
    overrideParameterName(prefix, service.name),
  );
  return { service, store };
}

function routeDocument(
  command: Extract<Command, { name: 'route' }>,
  current: RoutingDocument,
  reason?: string,
): RoutingDocument {
  const base = { users: current.users, percent: current.percent, reason };
  switch (command.mode) {
    case 'users':
      return { ...base, mode: 'users', users: command.users };
    case 'percent':
      return { ...base, mode: 'percent', percent: command.percent };
    default:
      return { ...base, mode: command.mode };
  }
}

/** Checks a proposed document against the contract and the validated flags, then writes it (unless dry-run). */
async function write<K extends FlagKind>(
  serviceName: string,
  kind: K,
  deps: CliDependencies,
  options: GlobalOptions,
  propose: (current: FlagSet) => FlagDocument<K>,
): Promise<void> {
  const { store, service } = storeOf(serviceName, deps);
  const current = await store.lastGoodSet();
  const text = serializeFlag(kind, propose(current));
  await checkAndPut(store, kind, text, current, deps, options, service.gateway);
}

/** Both keys of the emergency override, or a refusal that says which one is missing. */
async function emergencyOverride(store: FlagStore, deps: CliDependencies, options: GlobalOptions) {
  if (options.acceptDataLoss === undefined) return undefined;
  const { value, problem } = await store.override(deps.now?.() ?? new Date());
  if (!value) {
    throw new RefusedError(
      `refused: --accept-data-loss is one of two keys; the other, a valid ${store.overrideName}, is missing: ${problem}. ` +
        'See "Emergency override" in docs/runbook.md.',
    );
  }
  deps.out(`EMERGENCY OVERRIDE (${value.reason}, until ${value.expiresAt}): ${options.acceptDataLoss}`);
  return value;
}

async function checkAndPut(
  store: FlagStore,
  kind: FlagKind,
  text: string,
  current: FlagSet,
  deps: CliDependencies,
  options: GlobalOptions,
  gatewayMode: ExtractedServiceConfig['gateway'],
) {
  const parsed = store.parse(kind, text);
  if (!parsed.ok) throw new RefusedError(parsed.errors.join('\n'));
  const override = kind === 'routing' ? await emergencyOverride(store, deps, options) : undefined;
  const problems = violations(kind, parsed.value, current, { override, gatewayMode });
  if (problems.length > 0) throw new RefusedError(`refused: ${problems.join('\n')}`);
  const name = store.names[kind];
  if (options.dryRun) {
    deps.out(`dry run: would write ${name}: ${text}`);
    return;
  }
  const version = await store.putRaw(kind, text);
  deps.out(`wrote ${name} version ${version}: ${text}`);
  deps.out('The flag guard validates it within seconds; consumers pick it up within the cache TTL.');
}

async function rollback(
  serviceName: string,
  kind: 'routing' | 'gateway',
  deps: CliDependencies,
  options: GlobalOptions,
): Promise<void> {
  const { store, service } = storeOf(serviceName, deps);
  if (kind === 'gateway' && service.phase < 3) {
    throw new RefusedError(
      `${service.name} is at phase ${service.phase}: it has no gateway weight to roll back before phase 3`,
    );
  }
  const versions = await store.history(kind);
  const goodIndex = versions.findIndex((v) => v.labels.includes(LAST_GOOD_LABEL));
  if (goodIndex < 0)
    throw new RefusedError(
      `${store.names[kind]} has no ${LAST_GOOD_LABEL} version yet: nothing to roll back from`,
    );
  const current = await store.lastGoodSet();
  const good = versions[goodIndex];
  // The newest earlier version that is valid, differs from the current one, and is allowed now.
  const previous = versions
    .slice(0, goodIndex)
    .reverse()
    .find((v) => {
      const parsed = store.parse(kind, v.value);
      return (
        parsed.ok &&
        v.value !== good.value &&
        violations(kind, parsed.value, current, { gatewayMode: service.gateway }).length === 0
      );
    });
  if (!previous) {
    const why =
      current.cutover.completed && kind === 'routing'
        ? ' (after the point of no return routing stays "all")'
        : '';
    throw new RefusedError(`no earlier valid version of ${store.names[kind]} to roll back to${why}`);
  }
  deps.out(
    `rolling ${store.names[kind]} back from version ${good.version} to the content of version ${previous.version}`,
  );
  await checkAndPut(store, kind, previous.value, current, deps, options, service.gateway);
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

async function status(only: string | undefined, deps: CliDependencies): Promise<void> {
  const services = only ? [serviceOf(deps.config, only)] : deps.config.services;
  const rows: string[][] = [];
  for (const service of services) {
    if (service.phase < 1) {
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
  for (const service of services.filter((s) => s.phase >= 3)) deps.out(await liveAlbState(service, deps));
  const phase2 = services.filter((s) => s.phase >= 2);
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
 * migration and records the point of no return) and follows it to the end.
 */
async function cutover(serviceName: string, deps: CliDependencies, options: GlobalOptions): Promise<void> {
  const { service, store } = storeOf(serviceName, deps);
  if (service.phase < 2)
    throw new RefusedError(
      `${service.name} is at phase ${service.phase}: the cutover exists from phase 2; deploy phase 2 first`,
    );
  const current = await store.lastGoodSet();
  if (current.cutover.completed) {
    throw new RefusedError(
      `refused: the cutover of ${service.name} is already recorded (run ${current.cutover.runId} at ${current.cutover.completedAt})`,
    );
  }
  if (current.routing.mode !== 'all') {
    throw new RefusedError(
      `refused: routing of ${service.name} is "${current.routing.mode}"; the cutover needs "all" (npm run migrate -- route ${service.name} all)`,
    );
  }
  const sfn = await deps.stepFunctions();
  const { StartExecutionCommand, DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
  const machineName = cutoverStateMachineName(deps.config.name, service.name);
  const stateMachineArn = await findCutoverMachine(sfn, deps.config, service.name);
  if (!stateMachineArn)
    throw new RefusedError(
      `state machine ${machineName} not found: deploy the phase-2 stacks (operations stack) first`,
    );

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
    if (execution.status !== 'RUNNING' && execution.status !== 'PENDING_REDRIVE') {
      if (execution.status === 'SUCCEEDED') {
        deps.out(
          `${name} SUCCEEDED: the cutover is recorded; ${service.name}'s database is now the only truth`,
        );
        return;
      }
      throw new Error(
        `${name} ${execution.status}: ${execution.error ?? ''} ${execution.cause ?? ''}; no flag was changed`.trim(),
      );
    }
    deps.out(`${new Date().toISOString()} ${name} still running`);
    await sleep(15_000);
  }
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
