/**
 * `cutover <service>`: starts the service's cutover state machine (which checks the preconditions again,
 * runs the bulk migration, writes back and verifies, and records the point of no return) and follows it
 * to the end; and the loud reminder when a completed cutover is not recorded in the environment file.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { MigrationConfig } from '../config/types';
import { cutoverStateMachineName } from '../naming';
import { capabilitiesOf } from '../phases';
import { type CliDependencies, storeOf } from './context';
import { RefusedError, RunFailedError } from './errors';
import type { GlobalOptions } from './parse-args';

/**
 * Starts the service's cutover state machine (which checks the preconditions again, runs the bulk
 * migration and records the point of no return) and follows it to the end. On success it says exactly
 * what to add to the environment file: the deploy-time marker.
 */
export async function cutover(
  serviceName: string,
  deps: CliDependencies,
  options: GlobalOptions,
): Promise<void> {
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
export async function warnMissingMarker(
  name: string,
  deps: CliDependencies,
  options: GlobalOptions,
): Promise<void> {
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
export async function findCutoverMachine(
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
