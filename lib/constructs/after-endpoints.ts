import { Validations } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

/** A Service Connect endpoint a task calls, and the ECS service that publishes it. */
export interface CalledEndpoint {
  /** Its Service Connect DNS name, e.g. `legacy`. */
  readonly dnsName: string;
  /** The port clients call it on. */
  readonly port: number;
  /**
   * The ARN of the ECS service that publishes it (a token from the publisher's stack): a re-created
   * service, and so a re-created endpoint, has a new one.
   */
  readonly publisherServiceArn: string;
}

export interface AfterEndpointsProps {
  /** The caller's task definition and the container that makes the calls. */
  readonly taskDefinition: ecs.TaskDefinition;
  readonly container: ecs.ContainerDefinition;
  /** The endpoints it calls that another stack publishes (deployed before the caller's stack). */
  readonly endpoints: readonly CalledEndpoint[];
}

/**
 * Makes a caller's tasks start after the Service Connect endpoints it calls exist. ECS documents that
 * existing tasks cannot resolve an endpoint created after they started; only tasks started after it can.
 * So the caller's task definition carries the endpoints it calls (name, port, and the ARN of the service
 * that publishes each) in one environment variable: publishing an endpoint, or re-creating its service,
 * changes the caller's task definition, and the caller's stack, which deploys after the publisher's,
 * rolls out tasks that start after the endpoint. The value is a fingerprint; nothing reads it.
 *
 * The gateway uses it for the legacy task's front door (composite parts, decision 0014). It needs the
 * publisher's stack to deploy first: a caller deployed before the publisher (the gateway and a service
 * created in the same deploy) needs a second deployment after it instead.
 */
export class AfterEndpoints extends Construct {
  /** The environment variable that carries the fingerprint. */
  static readonly VARIABLE = 'MIGRATION_SERVICE_CONNECT_ENDPOINTS';

  constructor(scope: Construct, id: string, props: AfterEndpointsProps) {
    super(scope, id);
    if (props.endpoints.length === 0) return;
    props.container.addEnvironment(
      AfterEndpoints.VARIABLE,
      props.endpoints.map((e) => `${e.dnsName}:${e.port}@${e.publisherServiceArn}`).join(' '),
    );
    Validations.of(props.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds non-secret settings only (the Service Connect endpoints the task calls, as a deployment fingerprint).',
    });
  }
}
