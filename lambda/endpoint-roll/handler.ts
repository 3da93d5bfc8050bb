/**
 * endpoint-roll: the custom resource provider that starts a new deployment of a caller's ECS service
 * (the legacy service, whose routing proxy calls `http://<service>:<port>`; the gateway) once the endpoint
 * it calls exists, so that its tasks can resolve it (decide.ts says when). ECS replaces the tasks with a
 * rolling deployment (new tasks healthy before old ones stop); the resource does not wait for it: the
 * CLI refuses a service's first route change until every legacy task started after the endpoint existed
 * (lib/cli/endpoint-check.ts). Thin: the decision is in decide.ts.
 */
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { type ProviderResult, propertiesOf, serveProvider } from '../shared/custom-resource';
import { jsonLogger, type Logger } from '../shared/log';
import { type RollProperties, rollDecision } from './decide';

export interface RollDependencies {
  readonly ecs: ECSClient;
  readonly logger: Logger;
}

export async function roll(
  event: CloudFormationCustomResourceEvent,
  deps: RollDependencies,
): Promise<ProviderResult> {
  const { props, old } = propertiesOf<RollProperties>(event);
  const decision = rollDecision(event.RequestType, props, old);
  if (!decision.roll) return { status: 'SUCCESS', reason: decision.why };
  const out = await deps.ecs.send(
    new UpdateServiceCommand({ cluster: props.Cluster, service: props.Service, forceNewDeployment: true }),
  );
  const deployment = out.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
  return {
    status: 'SUCCESS',
    reason: `${decision.why}; started deployment ${deployment ?? '(id not returned)'} of ${props.Service}`,
  };
}

let dependencies: RollDependencies | undefined;

export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  dependencies ??= { ecs: new ECSClient({}), logger: jsonLogger('endpoint-roll') };
  const deps = dependencies;
  const props = event.ResourceProperties as unknown as RollProperties;
  await serveProvider(
    event,
    deps.logger,
    () => roll(event, deps),
    `${props.Service}<-${props.Endpoint}`.slice(0, 1024),
  );
}
