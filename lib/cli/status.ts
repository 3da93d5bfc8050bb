/**
 * The CLI's reading commands: `status` (per service the flags, the last-good version, the ALB state at
 * phase 3, the last cutover run) and `history` (every version of a flag).
 */
import type { ExtractedServiceConfig } from '../config/types';
import type { FlagDocument, FlagKind } from '../flags/documents';
import { LAST_GOOD_LABEL, livePinParameterName, liveWeightParameterNames } from '../flags/parameters';
import type { FlagStore, FlagVersion } from '../flags/ssm-store';
import { PIN_PINNED, PIN_RELEASED } from '../gateway/alb-rules';
import { capabilitiesOf } from '../phases';
import { table } from '../text/table';
import { type CliDependencies, serviceOf, storeOf } from './context';
import { findCutoverMachine, warnMissingMarker } from './cutover';
import type { GlobalOptions } from './parse-args';

export async function history(serviceName: string, kind: FlagKind, deps: CliDependencies): Promise<void> {
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

export async function status(
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
