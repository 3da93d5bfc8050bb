/**
 * Before a service's first route change: can the legacy tasks reach the service at all? ECS Service
 * Connect gives an endpoint only to tasks started after the endpoint's deployment; a legacy task that
 * started before it answers every routed request with a 502 (the 5xx alarm fires, the automatic
 * rollback undoes the change). The service's stack rolls the legacy service once the endpoint exists
 * (EndpointRoll), but does not wait for the new tasks: so when routing leaves `off`, the CLI refuses
 * unless every running legacy task started after the service's ECS service (and its endpoint) was
 * created. Also in `legacy.mode: "external"`: the legacy service is then the routing proxy's own.
 * The rule is pure (staleEndpointProblem); readEndpointState reads ECS and CloudFormation.
 */
import type { CloudFormationClient, StackResourceSummary } from '@aws-sdk/client-cloudformation';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ExtractedServiceConfig, MigrationConfig } from '../config/types';
import type { RoutingDocument } from '../flags/documents';
import { platformStackName, serviceStackName } from '../naming';
import { RefusedError } from './errors';

export interface ServiceConnectClients {
  readonly ecs: ECSClient;
  readonly cloudFormation: CloudFormationClient;
}

/** What the rule needs: when the service's endpoint appeared, and when each running legacy task started. */
export interface EndpointState {
  /** The service's ECS service, or undefined when its stack has none (not deployed). */
  readonly publisher?: {
    readonly serviceArn: string;
    readonly createdAt?: Date;
    /** Whether its current deployments publish `<name>` through Service Connect. */
    readonly publishes: boolean;
  };
  /**
   * The legacy ECS service (the routing proxy's: the monolith's task, or the proxy alone); undefined
   * when the platform stack has none (not deployed here): then nothing is checked.
   */
  readonly legacy?: { readonly clusterArn: string; readonly serviceName: string };
  /** Its running tasks; startedAt is absent for a task not started yet (it will resolve the endpoint). */
  readonly tasks: readonly { readonly taskArn: string; readonly startedAt?: Date }[];
}

/** Routing widens from `off`: the first time users are sent to the service (or the first since `off`). */
export function leavesOff(current: RoutingDocument, proposed: RoutingDocument): boolean {
  return current.mode === 'off' && proposed.mode !== 'off';
}

/** Why the legacy tasks cannot reach the service yet, with the way out; undefined when they can. */
export function staleEndpointProblem(
  config: Pick<MigrationConfig, 'name' | 'region'>,
  service: Pick<ExtractedServiceConfig, 'name' | 'port'>,
  state: EndpointState,
): string | undefined {
  const endpoint = `http://${service.name}:${service.port}`;
  const stack = serviceStackName(config.name, service.name);
  // No legacy service of the app in this account and region (no platform stack: an emulator, the
  // playground): no task of it can hold a stale view of the endpoint.
  if (!state.legacy) return undefined;
  if (!state.publisher?.createdAt)
    return `refused: ${service.name} has no ECS service in the stack ${stack}, so nothing publishes ${endpoint}; deploy the service's stack (cdk deploy ${stack}) first. Nothing was written.`;
  if (!state.publisher.publishes)
    return `refused: the ECS service ${state.publisher.serviceArn} does not publish ${service.name} through Service Connect; deploy the service's stack (cdk deploy ${stack}) first. Nothing was written.`;
  const since = state.publisher.createdAt;
  const stale = state.tasks.filter(
    (t) => t.startedAt !== undefined && t.startedAt.getTime() < since.getTime(),
  );
  if (stale.length === 0) return undefined;
  const cluster = state.legacy.clusterArn.split('/').pop();
  const region = config.region ? ` --region ${config.region}` : '';
  return [
    `refused: ${stale.length} of ${state.tasks.length} running legacy tasks started before the ${service.name} endpoint existed (${since.toISOString()}), and ECS Service Connect gives an endpoint only to tasks started after it: they would answer every request routed to ${endpoint} with a 502.`,
    `Stale: ${stale.map((t) => `${t.taskArn.split('/').pop()} (started ${t.startedAt?.toISOString()})`).join(', ')}.`,
    `Roll the legacy service and wait until it is stable, then run this again:`,
    `  aws ecs update-service --cluster ${cluster} --service ${state.legacy.serviceName} --force-new-deployment${region}`,
    `  aws ecs wait services-stable --cluster ${cluster} --services ${state.legacy.serviceName}${region}`,
    `(the ${stack} stack's EndpointRoll starts this deployment when it creates the endpoint; it may still be under way). Nothing was written.`,
  ].join('\n');
}

/** Reads the state the rule needs: the two stacks' ECS services, the publisher's endpoint, the legacy tasks. */
export async function readEndpointState(
  clients: ServiceConnectClients,
  config: Pick<MigrationConfig, 'name'>,
  service: Pick<ExtractedServiceConfig, 'name'>,
): Promise<EndpointState> {
  const [legacyArn] = await ecsServicesOf(clients.cloudFormation, platformStackName(config.name));
  const legacy = legacyArn ? await describeService(clients.ecs, legacyArn) : undefined;
  if (!legacy) return { tasks: [] };
  const [publisherArn] = await ecsServicesOf(
    clients.cloudFormation,
    serviceStackName(config.name, service.name),
  );
  const publisher = publisherArn ? await describeService(clients.ecs, publisherArn) : undefined;
  const tasks = await runningTasks(clients.ecs, legacy.clusterArn, legacy.serviceName);
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
    legacy: { clusterArn: legacy.clusterArn, serviceName: legacy.serviceName },
    tasks,
  };
}

/** Refuses a routing write that leaves `off` while a legacy task cannot resolve the service's endpoint. */
export async function checkEndpointReachable(
  clients: ServiceConnectClients,
  config: Pick<MigrationConfig, 'name' | 'region'>,
  service: Pick<ExtractedServiceConfig, 'name' | 'port'>,
): Promise<void> {
  const problem = staleEndpointProblem(config, service, await readEndpointState(clients, config, service));
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

// The SDK's commands are loaded only when a routing write leaves `off` (the CLI's other commands never).
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
