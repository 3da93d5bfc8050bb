import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ContainerServiceConfig } from '../config/types';
import { SERVICE_CONNECT_PORT } from '../naming';
import { deregistrationDelay, type RequestTimeout } from '../timeouts';
import { acknowledgeOnDefaultPolicy } from './nag';

/** The name of the container port mapping; Service Connect refers to it. */
export const PORT_MAPPING_NAME = 'http';
/** The name of the front proxy's port mapping. */
export const FRONT_PORT_MAPPING_NAME = 'proxy';

/**
 * The `Port` of every target group the app creates, whatever its containers listen on. A target group's
 * port cannot change without replacing the group (a new ARN under the same logical id and output), and
 * the stacks that read it (listener rules, alarms, dashboards) would not change with it and keep the old
 * group (docs/decisions/0019). It is only the default for targets registered without a port: ECS
 * registers each task at the port of the container it names, and the health check uses that port
 * (`traffic-port`), so a new container port reaches the group through the rolling deployment.
 */
export const TARGET_GROUP_PORT = 80;

/** A container in front of the app in the same task: the target group sends it the traffic. */
export interface FrontProxyProps {
  readonly image: ecs.ContainerImage;
  /** Port it listens on (the target group's traffic port for this task). */
  readonly port: number;
  /** Its environment (never secrets). */
  readonly environment: Readonly<Record<string, string>>;
  /** Hard memory limit of the container, taken from the task's memory. */
  readonly memoryLimitMiB: number;
  /** How long ECS waits after SIGTERM before it kills the container (its drain time). */
  readonly stopTimeout: Duration;
}

/** The front door of a task, published through Service Connect (see `WebServiceProps`). */
export interface ServiceConnectFrontDoor {
  readonly dnsName: string;
  /** The port the Service Connect proxy listens on for this endpoint: the callers' security group rule. */
  readonly ingressPort: number;
  /** How long the Service Connect proxy waits for a complete answer. */
  readonly perRequestTimeout: Duration;
}

export interface WebServiceProps {
  readonly cluster: ecs.ICluster;
  /**
   * The subnets of the tasks.
   * @default - the private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Image, size, scaling, health check, logs, environment and secrets from the configuration. */
  readonly config: ContainerServiceConfig;
  /**
   * The container image.
   * @default - `config.image`, pulled from its registry (with a grant when it is in ECR)
   */
  readonly image?: ecs.ContainerImage;
  /** Environment variables the app computes (database host, flag parameter names, ...), added to the configured ones. */
  readonly extraEnvironment?: Readonly<Record<string, string>>;
  /** Secrets the app computes (database credentials), added to the configured ones. */
  readonly extraSecrets?: Readonly<Record<string, ecs.Secret>>;
  /**
   * Service Connect: `dnsName` publishes the service under that name in the cluster namespace; absent
   * makes the service a client that can call the published ones.
   */
  readonly serviceConnectDnsName?: string;
  /**
   * Service Connect: publish the task's front door (the front proxy's port, or the app's when there is no
   * front proxy) under `dnsName`, with the Service Connect proxy listening on `ingressPort` of its own, so
   * that the load balancer's traffic to the container port keeps bypassing it (the legacy task, whose
   * routing proxy the gateway calls for composite parts). Not with `serviceConnectDnsName`.
   * @default - not published
   */
  readonly serviceConnectFrontDoor?: ServiceConnectFrontDoor;
  /**
   * Create a target group for an ALB, with the configured health check.
   * @default false
   */
  readonly loadBalanced?: boolean;
  /**
   * The target group's own `Port`, fixed for the group's life (see `TARGET_GROUP_PORT`).
   * @default TARGET_GROUP_PORT
   */
  readonly targetGroupPort?: number;
  /**
   * The timeouts that bound a request behind the target group, besides the ALB's idle timeout (which
   * always does): the deregistration delay outlasts the longest (lib/timeouts.ts), checked at synth.
   * @default - the ALB's idle timeout only
   */
  readonly requestTimeouts?: readonly RequestTimeout[];
  /**
   * A proxy container in front of the app (the routing proxy): it starts after the app and stops before
   * it, and the target group registers it instead of the app, which it reaches over localhost.
   * @default - none: the target group registers the app container
   */
  readonly frontProxy?: FrontProxyProps;
  /**
   * Where the app runs. `task`: its container in this task (from `config.image`, with its environment and
   * secrets). `elsewhere`: the app already runs outside (a monolith in production before the migration);
   * the task holds only `frontProxy`, which forwards to the app's address, and `config` gives the task's
   * size, scaling, logs, port and health check.
   * @default 'task'
   */
  readonly app?: 'task' | 'elsewhere';
  /**
   * Security groups the tasks carry besides the service's own (which stays first and is `securityGroup`),
   * by id: they stay out of the service's connections, so no rule is ever added to them here (the legacy
   * database clients group, decision 0017).
   * @default - none
   */
  readonly additionalSecurityGroupIds?: readonly string[];
}

/**
 * A Fargate web service in private subnets: its own task and execution roles, a log group with
 * retention, a rolling deployment with circuit breaker and rollback, CPU autoscaling between the
 * configured bounds (no desired count in the template, so a deploy never resets a scaled service),
 * Service Connect, and optionally a target group with the configured health check.
 */
export class WebService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  /** The front proxy's container, when there is one. */
  readonly proxyContainer?: ecs.ContainerDefinition;
  readonly logGroup: logs.LogGroup;
  private readonly _targetGroup?: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: WebServiceProps) {
    super(scope, id);
    const { config } = props;
    const front = props.frontProxy;
    const appHere = props.app !== 'elsewhere';
    if (!appHere && !front)
      throw new Error(
        `${this.node.path}: an app that runs elsewhere is reached through a frontProxy; give one`,
      );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: config.cpu,
      memoryLimitMiB: config.memoryMiB,
    });

    const app = appHere ? this.appContainer(props) : undefined;
    if (front) {
      this.proxyContainer = this.taskDefinition.addContainer('Proxy', {
        image: front.image,
        essential: true,
        portMappings: [
          { name: FRONT_PORT_MAPPING_NAME, containerPort: front.port, appProtocol: ecs.AppProtocol.http },
        ],
        environment: { ...front.environment },
        memoryLimitMiB: front.memoryLimitMiB,
        stopTimeout: front.stopTimeout,
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'proxy' }),
        readonlyRootFilesystem: true,
      });
      // Started after the app, stopped before it (ECS reverses dependencies on stop): the proxy drains
      // its in-flight requests while the app still answers them.
      if (app)
        this.proxyContainer.addContainerDependencies({
          container: app,
          condition: ecs.ContainerDependencyCondition.START,
        });
    }
    this.container = (app ?? this.proxyContainer) as ecs.ContainerDefinition;

    // Reached after the containers are added: the execution role's pull grants exist now.
    if (props.image || front) acknowledgeImagePull(this.taskDefinition);
    else acknowledgeImagePull(this.taskDefinition, config.image);

    if (props.serviceConnectDnsName && props.serviceConnectFrontDoor)
      throw new Error(
        `${this.node.path}: publish the app (serviceConnectDnsName) or the front door (serviceConnectFrontDoor), not both`,
      );
    const door = props.serviceConnectFrontDoor;
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: props.loadBalanced ? Duration.seconds(60) : undefined,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
      serviceConnectConfiguration: {
        services: props.serviceConnectDnsName
          ? [
              {
                portMappingName: PORT_MAPPING_NAME,
                // The discovery name is unique per service (the port name is not) and names its metrics.
                discoveryName: props.serviceConnectDnsName,
                dnsName: props.serviceConnectDnsName,
                // The callers' port, fixed: the containers' port may change without a new URL.
                port: SERVICE_CONNECT_PORT,
              },
            ]
          : door
            ? [
                {
                  portMappingName: front ? FRONT_PORT_MAPPING_NAME : PORT_MAPPING_NAME,
                  discoveryName: door.dnsName,
                  dnsName: door.dnsName,
                  port: front ? front.port : config.port,
                  ingressPortOverride: door.ingressPort,
                  perRequestTimeout: door.perRequestTimeout,
                },
              ]
            : undefined,
        logDriver: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'service-connect' }),
      },
    });
    const additional = props.additionalSecurityGroupIds ?? [];
    if (additional.length > 0)
      (this.service.node.defaultChild as ecs.CfnService).addPropertyOverride(
        'NetworkConfiguration.AwsvpcConfiguration.SecurityGroups',
        [this.securityGroup.securityGroupId, ...additional],
      );

    const scaling = this.service.autoScaleTaskCount({
      minCapacity: config.minCount,
      maxCapacity: config.maxCount,
    });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: config.cpuTargetPercent,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });

    if (props.loadBalanced) {
      const delay = deregistrationDelay(props.requestTimeouts ?? []);
      this.node.addValidation({ validate: () => [...delay.problems] });
      this._targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
        vpc: props.cluster.vpc,
        // Not the container's: a port change must not replace the group (TARGET_GROUP_PORT).
        port: props.targetGroupPort ?? TARGET_GROUP_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        // ECS registers each task at the port of the container it names.
        targets: [
          front
            ? this.service.loadBalancerTarget({ containerName: 'Proxy', containerPort: front.port })
            : this.service,
        ],
        // Longer than any request may wait: a rolling deployment cuts no request (lib/timeouts.ts).
        deregistrationDelay: Duration.seconds(delay.seconds),
        healthCheck: {
          path: config.healthCheckPath,
          healthyHttpCodes: '200',
          interval: Duration.seconds(15),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 3,
        },
      });
    }

    if (
      Object.keys(config.environment).length + Object.keys(props.extraEnvironment ?? {}).length > 0 ||
      front
    ) {
      Validations.of(this.taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason:
          'The plain environment holds non-secret settings only; credentials come from Secrets Manager as ECS secrets.',
      });
    }
  }

  /** The app's container, with the configured image, port, environment and secrets. */
  private appContainer(props: WebServiceProps): ecs.ContainerDefinition {
    const { config } = props;
    const secrets: Record<string, ecs.Secret> = { ...props.extraSecrets };
    for (const [name, ref] of Object.entries(config.secrets)) {
      const secret = secretsmanager.Secret.fromSecretCompleteArn(this, `Secret${name}`, ref.secretArn);
      secrets[name] = ecs.Secret.fromSecretsManager(secret, ref.field);
    }
    return this.taskDefinition.addContainer('App', {
      image: props.image ?? containerImage(this, config.image),
      essential: true,
      portMappings: [
        { name: PORT_MAPPING_NAME, containerPort: config.port, appProtocol: ecs.AppProtocol.http },
      ],
      environment: { ...config.environment, ...props.extraEnvironment },
      secrets,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'app' }),
      readonlyRootFilesystem: false,
    });
  }

  /** The target group; only for a service created with `loadBalanced: true`. */
  get targetGroup(): elbv2.ApplicationTargetGroup {
    if (!this._targetGroup)
      throw new Error(`${this.node.path} was created without loadBalanced: true and has no target group`);
    return this._targetGroup;
  }

  /** The security group of the tasks, for ingress rules on other resources. */
  get securityGroup(): ec2.ISecurityGroup {
    return this.service.connections.securityGroups[0];
  }
}

/**
 * A task that pulls from ECR (a configured private image, or an image asset) has `ecr:GetAuthorizationToken`
 * on "*" in its execution role: acknowledged on that role's policy. Call it after the containers are
 * added (the grants exist then); with `image`, only when that image is in ECR.
 */
export function acknowledgeImagePull(taskDefinition: ecs.TaskDefinition, image?: string): void {
  if (image !== undefined && !ECR_IMAGE.test(image)) return;
  acknowledgeOnDefaultPolicy(taskDefinition.executionRole, {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'ecr:GetAuthorizationToken authorizes on "*" only; image pulls are limited to the image repository.',
  });
}

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)[:@](.+)$/;

/**
 * An image from ECR is pulled through its repository so that the execution role is granted exactly
 * that repository; any other registry is pulled anonymously.
 */
export function containerImage(scope: Construct, image: string): ecs.ContainerImage {
  const ecrImage = ECR_IMAGE.exec(image);
  if (!ecrImage) return ecs.ContainerImage.fromRegistry(image);
  const [, account, region, repositoryName, tagOrDigest] = ecrImage;
  const repository = ecr.Repository.fromRepositoryAttributes(scope, 'Repository', {
    repositoryName,
    repositoryArn: `arn:aws:ecr:${region}:${account}:repository/${repositoryName}`,
  });
  return ecs.ContainerImage.fromEcrRepository(repository, tagOrDigest);
}
