/**
 * Which stacks the app can have that a configuration does not: `cdk deploy --all` deploys the stacks of
 * the app and never deletes one that left it (a service back from phase 3, the last service out of
 * krakend mode). The app states them as info annotations; `npm run synth` prints them with the commands.
 * Pure.
 */
import type { MigrationConfig } from './config/types';
import { capabilitiesOf } from './phases';
import { stackId } from './stacks/migration-stack';

/** The order number of the gateway stack: after the platform, before the service stacks that route to it. */
export const GATEWAY_STACK_ORDER = 35;

/**
 * The order number of a service's operations stack (`<name>-65-<service>-operations`: its alarms,
 * dashboard and cutover state machine): after the environment's operations stack (60), whose alert topic
 * and hooks it uses (decision 0017).
 */
export const SERVICE_OPERATIONS_STACK_ORDER = 65;

export interface AbsentStack {
  readonly stackName: string;
  /** Stateful stacks are kept: deleting one throws away data (and termination protection refuses it). */
  readonly stateful: boolean;
  /** Why this configuration has no such stack, and what a deployed one still does. */
  readonly reason: string;
  /** What to run after `cdk deploy --all`, if the stack is deployed (none for stateful stacks). */
  readonly commands: readonly string[];
}

/** The stacks of the app that this configuration does not have, and what to do if one is deployed. */
export function absentStacks(config: MigrationConfig): AbsentStack[] {
  const region = config.region ? ` --region ${config.region}` : '';
  const destroy = (stackName: string) => [
    `aws cloudformation delete-stack --stack-name ${stackName}${region}`,
    `aws cloudformation wait stack-delete-complete --stack-name ${stackName}${region}`,
  ];
  const out: AbsentStack[] = [];
  const krakend = config.services.some((s) => capabilitiesOf(s).throughGateway);
  if (!krakend) {
    const stackName = stackId(config, GATEWAY_STACK_ORDER, 'gateway');
    out.push({
      stackName,
      stateful: false,
      reason:
        'no service is at phase 3 in krakend mode; a deployed gateway stack routes nothing (its only rule never matches) but keeps its KrakenD tasks running',
      commands: destroy(stackName),
    });
  }
  for (const s of config.services.filter((x) => !capabilitiesOf(x).migrating)) {
    const service = stackId(config, 40, `${s.name}-service`);
    const operations = stackId(config, SERVICE_OPERATIONS_STACK_ORDER, `${s.name}-operations`);
    out.push({
      stackName: operations,
      stateful: false,
      reason: `${s.name} is at phase 0; a deployed operations stack of the service keeps its alarms, dashboard and cutover state machine`,
      commands: destroy(operations),
    });
    out.push({
      stackName: service,
      stateful: false,
      reason: `${s.name} is at phase 0; a deployed service stack keeps its tasks running (and its ALB rules, if it was at phase 3)`,
      commands: destroy(service),
    });
    out.push({
      stackName: stackId(config, 20, `${s.name}-data`),
      stateful: true,
      reason: `${s.name} is at phase 0; its data stack (database, flags) is kept on purpose: delete it only to throw the data away (docs/runbook.md)`,
      commands: [],
    });
  }
  if (!config.services.some((s) => capabilitiesOf(s).migrating)) {
    const stackName = stackId(config, 60, 'operations');
    out.push({
      stackName,
      stateful: false,
      reason: 'no service is at phase 1 or later; a deployed operations stack keeps its hooks and alarms',
      commands: destroy(stackName),
    });
  }
  return out;
}

const NOTICE = 'migration:absent-stack';

/** The info annotation the app adds for an absent stack (read back by parseAbsentStackNotice). */
export function absentStackNotice(absent: AbsentStack): string {
  return `${NOTICE} ${JSON.stringify(absent)}`;
}

export function parseAbsentStackNotice(text: string): AbsentStack | undefined {
  if (!text.startsWith(`${NOTICE} `)) return undefined;
  try {
    return JSON.parse(text.slice(NOTICE.length + 1)) as AbsentStack;
  } catch {
    return undefined;
  }
}
