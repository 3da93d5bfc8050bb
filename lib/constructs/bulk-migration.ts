import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import { acknowledgeImagePull, containerImage } from './web-service';

export interface BulkMigrationTaskProps {
  readonly service: ExtractedServiceConfig;
  /** The same settings as the web service: its database and the legacy one. */
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, ecs.Secret>>;
  /**
   * The subnets a run's task starts in (the cutover state machine reads them).
   * @default - the private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/**
 * The bulk data migration of phase 2: the service image with the configured command, reading the legacy
 * database and writing the service's own, with the same settings and database access as the organic
 * import. It only runs when the cutover state machine starts it.
 */
export class BulkMigrationTask extends Construct {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  /** The subnets a run's task starts in. */
  readonly vpcSubnets: ec2.SubnetSelection;

  constructor(scope: Construct, id: string, props: BulkMigrationTaskProps) {
    super(scope, id);
    const { service } = props;
    this.vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: service.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: service.cpu,
      memoryLimitMiB: service.memoryMiB,
    });
    this.container = this.taskDefinition.addContainer('Migrate', {
      image: containerImage(this, service.image),
      command: [...service.bulkMigration.command],
      essential: true,
      environment: { ...service.environment, ...props.environment },
      secrets: { ...props.secrets },
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'bulk-migration' }),
    });
    // The same image as the web service, with the same pull grant (a private ECR repository).
    acknowledgeImagePull(this.taskDefinition, service.image);
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds non-secret settings only; credentials come from Secrets Manager as ECS secrets.',
    });
  }
}
