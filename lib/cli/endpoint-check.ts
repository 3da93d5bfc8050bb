/**
 * Before the first traffic a caller sends to a service: can the caller's tasks reach the service at all?
 * ECS Service Connect gives an endpoint only to tasks started after the endpoint's deployment; a task
 * that started before it answers every request for the service with a 502 (the 5xx alarm fires, the
 * automatic rollback undoes the change). The service's stack rolls its callers once the endpoint exists
 * (EndpointRoll), but does not wait for the new tasks. Two callers are checked (CALLERS):
 * - the legacy service (the routing proxy's: the monolith's task, or in `legacy.mode: "external"` the
 *   proxy alone), when routing leaves `off`;
 * - the KrakenD gateway, when the gateway weight of a phase-3 `krakend` service leaves 0.
 * Either write is refused unless every running task of the caller started after the service's ECS
 * service (and its endpoint) was created. The rules are pure (callersToCheck, staleEndpointProblem);
 * readEndpointState reads ECS and CloudFormation.
 */
import type { CloudFormationClient, StackResourceSummary } from '@aws-sdk/client-cloudformation';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ExtractedServiceConfig, MigrationConfig } from '../config/types';
import type { FlagDocument, FlagKind, GatewayDocument, RoutingDocument } from '../flags/documents';
import type { FlagSet } from '../flags/invariants';
import { gatewayStackName, platformStackName, serviceStackName, serviceUrl } from '../naming';
import { capabilitiesOf } from '../phases';
import { RefusedError } from './errors';

export interface ServiceConnectClients {
  readonly ecs: ECSClient;
  readonly cloudFormation: CloudFormationClient;
}

/** An ECS service whose tasks call the service's endpoint: the legacy service, the KrakenD gateway. */
export type EndpointCallerKind = 'legacy' | 'gateway';

/** Where each caller's ECS service is, and how the messages name it. */
export const CALLERS: Readonly<
  Record<
    EndpointCallerKind,
    {
      /** The stack holding its (single) ECS service. */
      readonly stackName: (envName: string) => string;
      /** `legacy` in "running legacy tasks", "the legacy service". */
      readonly noun: string;
      /** The requests its stale tasks would fail. */
      readonly requests: (endpoint: string) => string;
      /** What rolls it at deploy, besides the service stack's EndpointRoll. */
      readonly alsoRolledBy?: (envName: string) => string;
    }
  >
> = {
  legacy: { stackName: platformStackName, noun: 'legacy', requests: (e) => `routed to ${e}` },
  gateway: {
    stackName: gatewayStackName,
    noun: 'gateway',
    requests: (e) => `the gateway forwards to ${e}`,
    alsoRolledBy: (env) => `a deploy of ${gatewayStackName(env)} that adds the service's routes rolls it too`,
  },
};

/** What the rule needs: when the service's endpoint appeared, and when each running task of the caller started. */
export interface EndpointState {
  /** The service's ECS service, or undefined when its stack has none (not deployed). */
  readonly publisher?: {
    readonly serviceArn: string;
    readonly createdAt?: Date;
    /** Whether its current deployments publish `<name>` through Service Connect. */
    readonly publishes: boolean;
  };
  /**
   * The caller's ECS service (the legacy service: the routing proxy's, with the monolith or alone; the
   * gateway's); undefined when its stack has none (not deployed here): then nothing is checked.
   */
  readonly caller?: { readonly clusterArn: string; readonly serviceName: string };
  /** Its running tasks; startedAt is absent for a task not started yet (it will resolve the endpoint). */
  readonly tasks: readonly { readonly taskArn: string; readonly startedAt?: Date }[];
}

/** Routing widens from `off`: the first time users are sent to the service (or the first since `off`). */
export function leavesOff(current: RoutingDocument, proposed: RoutingDocument): boolean {
  return current.mode === 'off' && proposed.mode !== 'off';
}

/** The gateway weight leaves 0: the first time the ALB sends the service's routes to the gateway (or the first since 0). */
export function leavesZero(current: GatewayDocument, proposed: GatewayDocument): boolean {
  return current.weight === 0 && proposed.weight > 0;
}

/**
 * Which callers must reach the service before a write of this flag: the legacy service when routing
 * leaves `off`; the gateway when the weight of a service routed through it (phase 3, `krakend` mode)
 * leaves 0 (in `alb` mode the ALB forwards to the service's own target group: no Service Connect).
 */
export function callersToCheck(
  service: Pick<ExtractedServiceConfig, 'phase' | 'gateway'>,
  kind: FlagKind,
  current: Pick<FlagSet, 'routing' | 'gateway'>,
  proposed: FlagDocument<FlagKind>,
): EndpointCallerKind[] {
  if (kind === 'routing') return leavesOff(current.routing, proposed as RoutingDocument) ? ['legacy'] : [];
  if (kind === 'gateway')
    return capabilitiesOf(service).throughGateway && leavesZero(current.gateway, proposed as GatewayDocument)
      ? ['gateway']
      : [];
  return [];
}

/** Why the caller's tasks cannot reach the service yet, with the way out; undefined when they can. */
export function staleEndpointProblem(
  config: Pick<MigrationConfig, 'name' | 'region'>,
  service: Pick<ExtractedServiceConfig, 'name' | 'port'>,
  state: EndpointState,
  callerKind: EndpointCallerKind,
): string | undefined {
  const endpoint = serviceUrl(service.name);
  const stack = serviceStackName(config.name, service.name);
  const { noun, requests, alsoRolledBy } = CALLERS[callerKind];
  // No such caller of the app in this account and region (no platform or gateway stack: an emulator,
  // the playground): no task of it can hold a stale view of the endpoint.
  if (!state.caller) return undefined;
  if (!state.publisher?.createdAt)
    return `refused: ${service.name} has no ECS service in the stack ${stack}, so nothing publishes ${endpoint}; deploy the service's stack (cdk deploy ${stack}) first. Nothing was written.`;
  if (!state.publisher.publishes)
    return `refused: the ECS service ${state.publisher.serviceArn} does not publish ${service.name} through Service Connect; deploy the service's stack (cdk deploy ${stack}) first. Nothing was written.`;
  const since = state.publisher.createdAt;
  const stale = state.tasks.filter(
    (t) => t.startedAt !== undefined && t.startedAt.getTime() < since.getTime(),
  );
  if (stale.length === 0) return undefined;
  const cluster = state.caller.clusterArn.split('/').pop();
  const region = config.region ? ` --region ${config.region}` : '';
  return [
    `refused: ${stale.length} of ${state.tasks.length} running ${noun} tasks started before the ${service.name} endpoint existed (${since.toISOString()}), and ECS Service Connect gives an endpoint only to tasks started after it: they would answer every request ${requests(endpoint)} with a 502.`,
    `Stale: ${stale.map((t) => `${t.taskArn.split('/').pop()} (started ${t.startedAt?.toISOString()})`).join(', ')}.`,
    `Roll the ${noun} service and wait until it is stable, then run this again:`,
    `  aws ecs update-service --cluster ${cluster} --service ${state.caller.serviceName} --force-new-deployment${region}`,
    `  aws ecs wait services-stable --cluster ${cluster} --services ${state.caller.serviceName}${region}`,
    alsoRolledBy
      ? `(the ${stack} stack's EndpointRoll starts this deployment when it creates the endpoint, and ${alsoRolledBy(config.name)}; either may still be under way). Nothing was written.`
      : `(the ${stack} stack's EndpointRoll starts this deployment when it creates the endpoint; it may still be under way). Nothing was written.`,
  ].join('\n');
}

/** Reads the state the rule needs: the two stacks' ECS services, the publisher's endpoint, the caller's tasks. */
export async function readEndpointState(
  clients: ServiceConnectClients,
  config: Pick<MigrationConfig, 'name'>,
  service: Pick<ExtractedServiceConfig, 'name'>,
  callerKind: EndpointCallerKind,
): Promise<EndpointState> {
  const [callerArn] = await ecsServicesOf(clients.cloudFormation, CALLERS[callerKind].stackName(config.name));
  const caller = callerArn ? await describeService(clients.ecs, callerArn) : undefined;
  if (!caller) return { tasks: [] };
  const [publisherArn] = await ecsServicesOf(
    clients.cloudFormation,
    serviceStackName(config.name, service.name),
  );
  const publisher = publisherArn ? await describeService(clients.ecs, publisherArn) : undefined;
  const tasks = await runningTasks(clients.ecs, caller.clusterArn, caller.serviceName);
  return {
    ...(publisher
      ? {
          publisher: {
            serviceArn: publisherArn as string,
            createdAt: publisher.createdAt,
            publishes: publisher.discoveryNames.includes(service.name),
          },
        }
      : {}),
    caller: { clusterArn: caller.clusterArn, serviceName: caller.serviceName },
    tasks,
  };
}

/** Refuses a write that sends the caller traffic for the service while a task of it cannot resolve the endpoint. */
export async function checkEndpointReachable(
  clients: ServiceConnectClients,
  config: Pick<MigrationConfig, 'name' | 'region'>,
  service: Pick<ExtractedServiceConfig, 'name' | 'port'>,
  callerKind: EndpointCallerKind,
): Promise<void> {
  const state = await readEndpointState(clients, config, service, callerKind);
  const problem = staleEndpointProblem(config, service, state, callerKind);
  if (problem) throw new RefusedError(problem);
}

/** The ARNs of the ECS services of a stack (the physical id of an AWS::ECS::Service is its ARN). */
async function ecsServicesOf(cfn: CloudFormationClient, stackName: string): Promise<string[]> {
  const out: StackResourceSummary[] = [];
  let token: string | undefined;
  do {
    let page: Awaited<ReturnType<typeof listPage>>;
    try {
      page = await listPage(cfn, stackName, token);
    } catch (e) {
      // A stack that was never deployed: the rule says which to deploy.
      if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return [];
      throw e;
    }
    out.push(...(page.StackResourceSummaries ?? []));
    token = page.NextToken;
  } while (token);
  return out
    .filter((r) => r.ResourceType === 'AWS::ECS::Service' && r.PhysicalResourceId)
    .map((r) => r.PhysicalResourceId as string);
}

// The SDK's commands are loaded only when a check applies (the CLI's other commands never).
async function listPage(cfn: CloudFormationClient, stackName: string, token: string | undefined) {
  const { ListStackResourcesCommand } = await import('@aws-sdk/client-cloudformation');
  return cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token }));
}

async function describeService(ecs: ECSClient, serviceArn: string) {
  // arn:aws:ecs:<region>:<account>:service/<cluster>/<name>
  const cluster = serviceArn.split('/').slice(-2, -1)[0];
  const { DescribeServicesCommand } = await import('@aws-sdk/client-ecs');
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceArn] }));
  const [svc] = out.services ?? [];
  if (!svc) return undefined;
  const discoveryNames = (svc.deployments ?? []).flatMap((d) =>
    d.serviceConnectConfiguration?.enabled
      ? (d.serviceConnectConfiguration.services ?? []).flatMap((s) => [
          ...(s.discoveryName ? [s.discoveryName] : []),
          ...(s.clientAliases ?? []).flatMap((a) => (a.dnsName ? [a.dnsName] : [])),
        ])
      : [],
  );
  return {
    clusterArn: svc.clusterArn ?? cluster,
    serviceName: svc.serviceName ?? serviceArn.split('/').pop() ?? serviceArn,
    createdAt: svc.createdAt,
    discoveryNames,
  };
}

async function runningTasks(ecs: ECSClient, cluster: string, serviceName: string) {
  const { DescribeTasksCommand, ListTasksCommand } = await import('@aws-sdk/client-ecs');
  const arns: string[] = [];
  let token: string | undefined;
  do {
    const page = await ecs.send(
      new ListTasksCommand({ cluster, serviceName, desiredStatus: 'RUNNING', nextToken: token }),
    );
    arns.push(...(page.taskArns ?? []));
    token = page.nextToken;
  } while (token);
  const tasks: { taskArn: string; startedAt?: Date }[] = [];
  // DescribeTasks takes 100 tasks at a time.
  for (let i = 0; i < arns.length; i += 100) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
    for (const t of out.tasks ?? [])
      tasks.push({ taskArn: t.taskArn ?? '', ...(t.startedAt ? { startedAt: t.startedAt } : {}) });
  }
  return tasks;
}
