/**
 * `--dry-run` when the live state cannot be read (no credentials, no network, no region, the flags not
 * deployed yet): the plan from the environment file alone, said to be one. A newcomer sees what a
 * command would write before having an account; an operator without access sees the document. The
 * plan assumes the flags as the service's first deploy creates them (and the cutover the file records),
 * and checks the document with the same contract and rules as a live write.
 */

import { ConfigError } from '../config/parse';
import type { MigrationConfig } from '../config/types';
import {
  ALL_ROUTING,
  type CutoverDocument,
  type FlagDocument,
  type FlagKind,
  INITIAL_DOCUMENTS,
  parseFlag,
  serializeFlag,
  TIER_MAX_BYTES,
} from '../flags/documents';
import { type FlagSet, violations } from '../flags/invariants';
import { flagParameterNames } from '../flags/parameters';
import { cutoverStateMachineName } from '../naming';
import { capabilitiesOf } from '../phases';
import { RefusedError, RunFailedError, UsageError } from './errors';
import { refuseUnidentifiable } from './identity-check';
import type { Command, GlobalOptions } from './parse-args';
import { routeDocument, serviceOf } from './run';

/** Whether a failure of a dry run is one of reading the live state (the rules' refusals are not). */
export function liveStateUnreadable(e: unknown): boolean {
  return !(
    e instanceof UsageError ||
    e instanceof RefusedError ||
    e instanceof RunFailedError ||
    e instanceof ConfigError
  );
}

export interface OfflinePlanInput {
  readonly command: Exclude<Command, { name: 'help' }>;
  readonly options: GlobalOptions;
  readonly config: MigrationConfig;
  readonly out: (line: string) => void;
  /** Why the live state could not be read, as the CLI would have said it. */
  readonly why: string;
  readonly now?: Date;
}

/**
 * Runs the live dry run; when it cannot read the live state, shows the plan from the configuration
 * alone. Refusals of the rules (and usage mistakes) stay what they are.
 */
export async function dryRunOrPlan(
  live: () => Promise<void>,
  plan: Omit<OfflinePlanInput, 'why'>,
  describe: (e: unknown) => string,
): Promise<void> {
  try {
    await live();
  } catch (e) {
    if (!liveStateUnreadable(e)) throw e;
    planFromConfig({ ...plan, why: describe(e) });
  }
}

/** The plan of a writing command from the configuration alone. Throws the refusals a live run would. */
export function planFromConfig(input: OfflinePlanInput): void {
  const { command, config, out, why } = input;
  if (command.name === 'status' || command.name === 'history')
    throw new RunFailedError(`${command.name} reads the live flags, which could not be read: ${why}`);
  if (command.name === 'dns')
    throw new RunFailedError(
      `dns plans from the hosted zone's records and the platform stack's outputs, which could not be read: ${why}`,
    );
  const service = serviceOf(config, command.service);
  const can = capabilitiesOf(service);
  if (!can.migrating)
    throw new RefusedError(
      `${service.name} is at phase 0: its flags exist from phase 1; deploy phase 1 first`,
    );
  const cutover: CutoverDocument = service.cutoverRecorded
    ? { completed: true, ...service.cutoverRecorded }
    : INITIAL_DOCUMENTS.cutover;
  // After the cutover every reader falls back on routing "all" (lib/flags/ssm-store.ts checkedSet).
  const assumed: FlagSet = {
    ...INITIAL_DOCUMENTS,
    routing: cutover.completed ? ALL_ROUTING : INITIAL_DOCUMENTS.routing,
    cutover,
  };
  const names = flagParameterNames(config.flags.parameterPrefix, service.name);
  const header = () => {
    out(
      `dry run from the configuration alone: the live state could not be read (${why.replace(/^error: /, '')})`,
    );
    out(
      `assuming ${service.name}'s flags as its first deploy creates them (routing ${JSON.stringify(assumed.routing.mode)}, cutover ${cutover.completed ? `recorded (${cutover.runId})` : 'not done'}, gateway weight ${assumed.gateway.weight}); the live ones may differ, and a live dry run checks against them`,
    );
  };
  const write = <K extends FlagKind>(kind: K, doc: FlagDocument<K>) => {
    const text = serializeFlag(kind, doc);
    const maxBytes = kind === 'routing' ? TIER_MAX_BYTES[config.flags.tier] : TIER_MAX_BYTES.standard;
    const parsed = parseFlag(kind, text, maxBytes);
    if (!parsed.ok) throw new RefusedError(parsed.errors.join('\n'));
    const problems = violations(kind, parsed.value, assumed, {
      gatewayMode: service.gateway,
      service: service.name,
      now: input.now ?? new Date(),
    });
    if (problems.length > 0)
      throw new RefusedError(
        `refused: ${problems.join('\n')}\n(checked from the configuration alone, assuming ${service.name}'s flags as its first deploy creates them with the cutover the file records; a live dry run checks against the live ones)`,
      );
    header();
    out(`dry run: would write ${names[kind]}: ${text}`);
  };
  switch (command.name) {
    case 'route':
      if (input.options.acceptDataLoss !== undefined)
        throw new RunFailedError(
          `--accept-data-loss needs the live override parameter, which could not be read: ${why}`,
        );
      refuseUnidentifiable(config, command);
      write('routing', routeDocument(command, assumed.routing, input.options));
      return;
    case 'gateway':
      if (!can.atAlb)
        throw new RefusedError(
          `${service.name} is at phase ${service.phase}: the gateway weight applies from phase 3; deploy phase 3 first`,
        );
      write('gateway', {
        weight: command.weight,
        ...(input.options.reason !== undefined ? { reason: input.options.reason } : {}),
      });
      return;
    case 'rollback':
      throw new RunFailedError(
        `a rollback goes back to an earlier version of ${names[command.flag]}, and its history could not be read: ${why}`,
      );
    case 'cutover': {
      if (!can.cutover)
        throw new RefusedError(
          `${service.name} is at phase ${service.phase}: the cutover exists from phase 2; deploy phase 2 first`,
        );
      if (cutover.completed)
        throw new RefusedError(
          `refused: the environment file records the cutover of ${service.name} (run ${cutover.runId} at ${cutover.completedAt})`,
        );
      header();
      out(
        `dry run: would start ${cutoverStateMachineName(config.name, service.name)} (a live run first checks that routing is "all" and that no other run is going)`,
      );
      return;
    }
  }
}
