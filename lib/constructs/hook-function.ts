import { join } from 'node:path';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cachedBuild } from '../bundling/cached-build';
import { HOOK_NODE_OPTIONS, hookBuildOptions } from './hook-bundling';

const ROOT = join(__dirname, '..', '..');

/** The pinned Lambda runtime of every hook (never "latest": a deploy must not change it silently). */
export const HOOK_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface HookFunctionProps {
  /** Directory under lambda/ holding `handler.ts` with an exported `handler`. */
  readonly hook: string;
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
  /**
   * A physical name, for a function that operators and other resources invoke by name.
   * @default - generated
   */
  readonly functionName?: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySizeMiB?: number;
  /**
   * Reserved concurrency.
   * @default - none: reserving any would fail the deploy on accounts whose concurrency limit is low
   *   (new accounts), and the hooks do not need it: they re-read the newest version before writing, so
   *   two invocations for the same parameter cannot overwrite each other's result.
   */
  readonly reservedConcurrency?: number;
  /**
   * Runs the function in the VPC (the write-back function, which reaches the databases).
   * @default - outside any VPC, like the hooks, which only call AWS APIs
   */
  readonly vpc?: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
    readonly securityGroups: readonly ec2.ISecurityGroup[];
  };
}

/**
 * A hook's code: its bundle, built by the app at synth with the local esbuild (never Docker) and taken
 * from the bundle cache when its inputs have not changed (lib/bundling/cached-build.ts). The asset hash
 * is the bundle's, so a source change that leaves the bundle identical deploys nothing.
 */
function hookCode(hook: string): lambda.Code {
  return lambda.Code.fromAsset(join(ROOT, 'lambda', hook), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: the local bundling below either succeeds or throws.
      image: DockerImage.fromRegistry('scratch'),
      local: {
        tryBundle(outputDir: string): boolean {
          cachedBuild(`hook-${hook}`, hookBuildOptions(hook, outputDir), outputDir);
          return true;
        },
      },
    },
  });
}

/**
 * The house Lambda: Node.js 24 on ARM64, an ESM bundle with the AWS SDK (hookCode), an explicit log
 * group with retention, and its own role that may write only that log group. Grants for the function's
 * work are added by the caller.
 */
export class HookFunction extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HookFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.hook} hook: writes its own logs; further grants are explicit`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.vpc) {
      // Lambda places its network interfaces in the VPC with the function's own role: CDK adds this
      // policy only to a role it creates itself.
      this.role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'The network interfaces of a function in a VPC (ec2:CreateNetworkInterface and its Describe/Delete on "*", which the EC2 API requires): the AWS-maintained policy for exactly that.',
      });
    }

    this.function = new lambda.Function(this, 'Resource', {
      code: hookCode(props.hook),
      handler: 'index.handler',
      functionName: props.functionName,
      description: props.description,
      runtime: HOOK_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySizeMiB ?? 256,
      reservedConcurrentExecutions: props.reservedConcurrency,
      ...(props.vpc
        ? {
            vpc: props.vpc.vpc,
            vpcSubnets: props.vpc.subnets,
            securityGroups: [...props.vpc.securityGroups],
          }
        : {}),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // Stated, not left to defaults: lines below INFO are dropped by Lambda (lambda/shared/log.ts writes
      // each at its level); set DEBUG on the function to see them while investigating.
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment: {
        ...(HOOK_NODE_OPTIONS ? { NODE_OPTIONS: HOOK_NODE_OPTIONS } : {}),
        ...props.environment,
      },
    });
  }

  private failureDestination?: sqs.IQueue;

  /**
   * This function as an EventBridge target. EventBridge retries a failed delivery 4 times over up to 2
   * hours, then sends the event to `deadLetters`; that covers delivery only. A function that throws is
   * retried twice by Lambda's asynchronous invocation, and then its event record goes to the same queue
   * (its on-failure destination), whose depth alarms (HookAlarms).
   */
  eventTarget(deadLetters: sqs.IQueue): targets.LambdaFunction {
    if (!this.failureDestination) {
      this.failureDestination = deadLetters;
      this.function.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.hours(2),
        onFailure: new destinations.SqsDestination(deadLetters),
      });
    } else if (this.failureDestination !== deadLetters) {
      throw new Error(
        `${this.node.path}: one on-failure destination per function; use the same queue for every rule`,
      );
    }
    return new targets.LambdaFunction(this.function, {
      retryAttempts: 4,
      maxEventAge: Duration.hours(2),
      deadLetterQueue: deadLetters,
    });
  }
}

/** The dead-letter queue of hook targets: encrypted, TLS-only, 14 days to investigate and replay. */
export function hookDeadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is the dead-letter queue of the hook targets; a queue for its own failures would have nothing to catch.',
  });
  return queue;
}
