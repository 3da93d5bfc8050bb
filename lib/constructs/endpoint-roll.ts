import { CustomResource } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { HookFunction } from './hook-function';

/** An ECS service whose tasks call a Service Connect endpoint (the legacy service, the gateway). */
export interface EndpointCaller {
  /** A construct id part and a name for messages: `Legacy`, `Gateway`. */
  readonly id: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /** For the grant: `ecs:UpdateService` on this service only. */
  readonly serviceArn: string;
}

export interface EndpointRollProps {
  /** The ECS service that publishes the endpoint (in the same stack): the rolls wait for it. */
  readonly publisher: ecs.FargateService;
  /** Its Service Connect DNS name and port. */
  readonly dnsName: string;
  readonly port: number;
  /** The services whose tasks call it, deployed before this stack. */
  readonly callers: readonly EndpointCaller[];
}

/**
 * ECS documents that existing tasks cannot resolve a Service Connect endpoint created after they started;
 * only tasks started after it can. A caller deployed before the endpoint's stack (the legacy service,
 * whose routing proxy calls every migrating service; the gateway, when a service reaches phase 3 in the
 * same deploy that creates it) gets a new deployment once the endpoint exists: one custom resource per
 * caller (lambda/endpoint-roll), after the publishing service, keyed on the endpoint (name, port and the
 * publisher's ARN), so that it rolls the caller when the endpoint is created or re-created and never on an
 * unrelated deploy. Its grant is `ecs:UpdateService` on the callers only (docs/decisions/0018).
 */
export class EndpointRoll extends Construct {
  readonly rolls: readonly CustomResource[];

  constructor(scope: Construct, id: string, props: EndpointRollProps) {
    super(scope, id);
    const provider = new HookFunction(this, 'Provider', {
      hook: 'endpoint-roll',
      description: `rolls the callers of the ${props.dnsName} Service Connect endpoint once it exists`,
      environment: {},
    });
    provider.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:UpdateService'],
        resources: props.callers.map((c) => c.serviceArn),
      }),
    );
    const endpoint = `${props.dnsName}:${props.port}@${props.publisher.serviceArn}`;
    this.rolls = props.callers.map((caller) => {
      const roll = new CustomResource(this, caller.id, {
        serviceToken: provider.function.functionArn,
        resourceType: 'Custom::MigrationEndpointRoll',
        properties: { Endpoint: endpoint, Cluster: caller.clusterName, Service: caller.serviceName },
      });
      roll.node.addDependency(props.publisher);
      return roll;
    });
  }
}
