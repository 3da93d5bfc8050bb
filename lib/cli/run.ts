/**
 * Runs one operator command against SSM. Every write is checked with the flag contract before it is
 * made (the document parses and fits its tier; the rules in lib/flags/invariants.ts hold against the
 * validated flags), so the CLI refuses what the flag guard would undo.
 */
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
import { flagParameterNames, LAST_GOOD_LABEL } from '../flags/parameters';
import { FlagStore, type FlagVersion } from '../flags/ssm-store';
import { RefusedError, UsageError } from './errors';
import type { Command, GlobalOptions } from './parse-args';

export interface CliDependencies {
  readonly config: MigrationConfig;
  readonly ssm: SSMClient;
  readonly out: (line: string) => void;
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
  const names = flagParameterNames(deps.config.flags.parameterPrefix, service.name);
  return { service, store: new FlagStore(names, deps.ssm, TIER_MAX_BYTES[deps.config.flags.tier]) };
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
  const { store } = storeOf(serviceName, deps);
  const current = await store.lastGoodSet();
  const text = serializeFlag(kind, propose(current));
  await checkAndPut(store, kind, text, current, deps, options);
}

async function checkAndPut(
  store: FlagStore,
  kind: FlagKind,
  text: string,
  current: FlagSet,
  deps: CliDependencies,
  options: GlobalOptions,
) {
  const parsed = store.parse(kind, text);
  if (!parsed.ok) throw new RefusedError(parsed.errors.join('\n'));
  const problems = violations(kind, parsed.value, current);
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
      return parsed.ok && v.value !== good.value && violations(kind, parsed.value, current).length === 0;
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
  await checkAndPut(store, kind, previous.value, current, deps, options);
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

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
