import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import type { FlagParameterNames } from '../flags/parameters';
import { cutoverStateMachineName } from '../naming';
import { parameterArn } from './flag-parameters';
import { acknowledgeOnDefaultPolicy, ENCRYPTED_TOPIC_PUBLISH } from './nag';
import { containerImage } from './web-service';

export interface BulkMigrationTaskProps {
  readonly service: ExtractedServiceConfig;
  /** The same settings as the web service: its database and the legacy one. */
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, ecs.Secret>>;
}

/**
 * The bulk data migration of phase 2: the service image with the configured command, reading the legacy
 * database and writing the service's own, with the same settings and database access as the organic
 * import. It only runs when the cutover state machine starts it.
 */
export class BulkMigrationTask extends Construct {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;

  constructor(scope: Construct, id: string, props: BulkMigrationTaskProps) {
    super(scope, id);
    const { service } = props;
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
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds non-secret settings only; credentials come from Secrets Manager as ECS secrets.',
    });
  }
}

export interface CutoverStateMachineProps {
  readonly envName: string;
  readonly service: ExtractedServiceConfig;
  readonly cluster: ecs.ICluster;
  readonly task: BulkMigrationTask;
  /** The web service's security group: the task gets the same database access. */
  readonly securityGroupId: string;
  readonly flagNames: FlagParameterNames;
  readonly alarmNames: readonly string[];
  readonly topic: sns.ITopic;
}

/**
 * The cutover of one service: check the preconditions (the input names the service, routing is "all",
 * no alarm of the service is in ALARM, the cutover is not recorded yet), run the bulk migration task to
 * the end (`.sync`, with a timeout), and only when it exits 0 record the cutover document: the point of
 * no return. Any failure or timeout leaves every flag unchanged and notifies. Only the idempotent steps
 * (reads, and the write of the cutover document) are retried; the migration task is never re-run by the
 * state machine.
 */
export class CutoverStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: CutoverStateMachineProps) {
    super(scope, id);
    const { service, flagNames } = props;
    const stack = Stack.of(this);
    const retryReads = <T extends sfn.TaskStateBase>(task: T): T => {
      task.addRetry({
        errors: ['States.TaskFailed'],
        maxAttempts: 3,
        interval: Duration.seconds(2),
        backoffRate: 2,
      });
      return task;
    };
    const readFlag = (idPart: string, name: string, resultPath: string) =>
      retryReads(
        new tasks.CallAwsService(this, `Read${idPart}`, {
          service: 'ssm',
          action: 'getParameter',
          parameters: { Name: name },
          iamResources: [parameterArn(this, name)],
          resultSelector: { 'doc.$': 'States.StringToJson($.Parameter.Value)' },
          resultPath,
        }),
      );

    const notify = (idPart: string, subject: string) =>
      new tasks.SnsPublish(this, `Notify${idPart}`, {
        topic: props.topic,
        subject: `${subject}: ${service.name}`.slice(0, 100),
        message: sfn.TaskInput.fromObject({
          service: service.name,
          execution: sfn.JsonPath.executionName,
          detail: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$')),
        }),
        resultPath: sfn.JsonPath.DISCARD,
      });
    const refuse = (idPart: string, cause: string) =>
      notify(`Refused${idPart}`, 'Cutover refused').next(
        new sfn.Fail(this, `Refused${idPart}Fail`, { error: `Refused${idPart}`, cause }),
      );
    const failed = notify('Failed', 'Cutover failed, flags unchanged').next(
      new sfn.Fail(this, 'MigrationFailed', {
        error: 'MigrationFailed',
        cause: 'The bulk migration failed or timed out; no flag was changed.',
      }),
    );

    const checkAlarms = retryReads(
      new tasks.CallAwsService(this, 'ReadAlarms', {
        service: 'cloudwatch',
        action: 'describeAlarms',
        parameters: { AlarmNames: props.alarmNames, StateValue: 'ALARM' },
        iamResources: props.alarmNames.map((name) =>
          stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: name,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
        resultSelector: { 'inAlarm.$': 'States.ArrayLength($.MetricAlarms)' },
        resultPath: '$.alarms',
      }),
    );

    const run = new tasks.EcsRunTask(this, 'RunBulkMigration', {
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      cluster: props.cluster,
      taskDefinition: props.task.taskDefinition,
      launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
      securityGroups: [
        ec2.SecurityGroup.fromSecurityGroupId(this, 'ServiceSecurityGroup', props.securityGroupId),
      ],
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      containerOverrides: [
        {
          containerDefinition: props.task.container,
          environment: [{ name: 'MIGRATION_RUN_ID', value: sfn.JsonPath.executionName }],
        },
      ],
      taskTimeout: sfn.Timeout.duration(Duration.minutes(service.bulkMigration.timeoutMinutes)),
      resultSelector: { 'exitCode.$': '$.Containers[0].ExitCode', 'stoppedReason.$': '$.StoppedReason' },
      resultPath: '$.task',
    });
    run.addCatch(failed, { resultPath: '$.error' });

    const cutoverDocument = new sfn.Pass(this, 'ComposeCutover', {
      parameters: {
        completed: true,
        'completedAt.$': '$$.State.EnteredTime',
        'runId.$': '$$.Execution.Name',
      },
      resultPath: '$.cutoverDocument',
    });
    const record = new tasks.CallAwsService(this, 'RecordCutover', {
      service: 'ssm',
      action: 'putParameter',
      parameters: {
        Name: flagNames.cutover,
        Type: 'String',
        Overwrite: true,
        'Value.$': 'States.JsonToString($.cutoverDocument)',
      },
      iamResources: [parameterArn(this, flagNames.cutover)],
      resultPath: '$.recorded',
    });
    // Writing the same document twice is harmless (the guard accepts the same run id and time again).
    record.addRetry({
      errors: ['States.TaskFailed'],
      maxAttempts: 3,
      interval: Duration.seconds(2),
      backoffRate: 2,
    });
    record.addCatch(failed, { resultPath: '$.error' });

    const done = notify('Completed', 'Cutover completed: point of no return passed').next(
      new sfn.Succeed(this, 'Done'),
    );

    const definition = new sfn.Choice(this, 'ConfirmedService?')
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.confirm'),
          sfn.Condition.stringEquals('$.confirm', service.name),
        ),
        readFlag('Routing', flagNames.routing, '$.routing').next(
          new sfn.Choice(this, 'RoutingAll?')
            .when(
              sfn.Condition.stringEquals('$.routing.doc.mode', 'all'),
              readFlag('Cutover', flagNames.cutover, '$.cutover').next(
                new sfn.Choice(this, 'NotYetCompleted?')
                  .when(
                    sfn.Condition.booleanEquals('$.cutover.doc.completed', false),
                    checkAlarms.next(
                      new sfn.Choice(this, 'NoAlarm?')
                        .when(
                          sfn.Condition.numberEquals('$.alarms.inAlarm', 0),
                          run.next(
                            new sfn.Choice(this, 'ExitedZero?')
                              .when(
                                sfn.Condition.numberEquals('$.task.exitCode', 0),
                                cutoverDocument.next(record).next(done),
                              )
                              .otherwise(failed),
                          ),
                        )
                        .otherwise(
                          refuse('Alarm', `An alarm of ${service.name} is in ALARM: fix the service first.`),
                        ),
                    ),
                  )
                  .otherwise(refuse('AlreadyDone', `The cutover of ${service.name} is already recorded.`)),
              ),
            )
            .otherwise(refuse('Routing', `Routing of ${service.name} must be "all" before the cutover.`)),
        ),
      )
      .otherwise(
        refuse('Confirmation', `The input must confirm the service: {"confirm": "${service.name}"}.`),
      );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      stateMachineName: cutoverStateMachineName(props.envName, service.name),
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.minutes(service.bulkMigration.timeoutMinutes + 30),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // The alert topic is encrypted with its own key: publishing needs the key as well as sns:Publish.
    props.topic.grantPublish(this.stateMachine);
    acknowledgeOnDefaultPolicy(this.stateMachine.role, ENCRYPTED_TOPIC_PUBLISH, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Generated by Step Functions: ecs:DescribeTasks/StopTask for the .sync run (task ARNs are not known in advance), ' +
        'CloudWatch Logs delivery and X-Ray tracing, which AWS only authorizes on "*".',
    });
  }
}
