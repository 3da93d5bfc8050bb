/**
 * Runs one operator command against SSM. Every write is checked with the flag contract before it is
 * made (the document parses and fits its tier; the rules in lib/flags/invariants.ts hold against the
 * checked flags), so the CLI refuses what the flag guard would undo; before a routing change sends users
 * back to the monolith, their writes go to the legacy database first (write-back.ts); after the write, the
 * guard checks it at once (the CLI invokes it), and the CLI reports when the flip is live. The reading
 * commands are in status.ts, the cutover in cutover.ts, the DNS steps in dns.ts.
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { ExtractedServiceConfig } from '../config/types';
import {
  type FlagDocument,
  type FlagKind,
  type OverrideDocument,
  type RoutingDocument,
  serializeFlag,
} from '../flags/documents';
import { type FlagSet, violations } from '../flags/invariants';
import { checkedName, LAST_GOOD_LABEL } from '../flags/parameters';
import { type FlagStore, isNotFound } from '../flags/ssm-store';
import { capabilitiesOf } from '../phases';
import { type CliDependencies, type GuardVerdict, serviceOf, storeOf } from './context';
import { cutover, warnMissingMarker } from './cutover';
import { callersToCheck, checkEndpointReachable } from './endpoint-check';
import { RefusedError } from './errors';
import { refuseUnidentifiable } from './identity-check';
import type { Command, GlobalOptions } from './parse-args';
import { history, status } from './status';
import { beforeUsersLeave, pendingCommand } from './write-back';

export type { CliDependencies, GuardVerdict } from './context';
export { serviceOf } from './context';

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
    service: service.name,
    beforeWrite: beforeWriteChecks(service, flags, deps, options),
  });
}

/**
 * Before a write: when routing leaves `off`, every running legacy task must be able to resolve the
 * service's endpoint, and when the gateway weight of a `krakend` service leaves 0, every running gateway
 * task (lib/cli/endpoint-check.ts); before a routing write, while a rollback is possible, the leaving
 * users' writes go to the legacy database first (lib/cli/write-back.ts). Either refuses the write.
 */
function beforeWriteChecks(
  service: ExtractedServiceConfig,
  current: FlagSet,
  deps: CliDependencies,
  options: GlobalOptions,
): (kind: FlagKind, proposed: FlagDocument<FlagKind>) => Promise<void> {
  return async (kind, proposed) => {
    const callers = callersToCheck(service, kind, current, proposed);
    if (deps.serviceConnect && callers.length > 0) {
      const clients = await deps.serviceConnect();
      for (const caller of callers) await checkEndpointReachable(clients, deps.config, service, caller);
    }
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
    service: string;
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
  const rules = { now, gatewayMode: service.gateway, service: service.name };
  // The earlier versions that are valid and differ from the current one, newest first.
  const earlier = versions
    .slice(0, goodIndex)
    .reverse()
    .flatMap((v) => {
      const parsed = store.parse(kind, v.value);
      return parsed.ok && v.value !== good.value ? [{ version: v, doc: parsed.value }] : [];
    });
  // The newest of them allowed now.
  const previous = earlier.find(({ doc }) => violations(kind, doc, current, rules).length === 0)?.version;
  if (!previous) {
    const newest = earlier[0];
    throw new RefusedError(
      newest
        ? `refused: no earlier version of ${store.names[kind]} is allowed now; the newest, version ${newest.version.version}: ${violations(kind, newest.doc, current, rules).join('\n')}`
        : `no earlier valid version of ${store.names[kind]} to roll back to`,
    );
  }
  deps.out(
    `rolling ${store.names[kind]} back from version ${good.version} to the content of version ${previous.version}`,
  );
  await checkAndPut(store, kind, previous.value, current, deps, options, {
    gatewayMode: service.gateway,
    service: service.name,
    beforeWrite: beforeWriteChecks(service, current, deps, options),
  });
}
