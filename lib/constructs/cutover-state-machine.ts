import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import type { FlagParameterNames } from '../flags/parameters';
import { BULK_MIGRATION_STATE, type CutoverStepEvent, VERIFICATION_STATE } from '../hooks/contract';
import { cutoverStateMachineName, writeBackFunctionName } from '../naming';
import type { WriteBackRequest } from '../write-back/contract';
import type { BulkMigrationTask } from './bulk-migration';
import { parameterArn } from './flag-parameters';
import { acknowledgeOnDefaultPolicy, ENCRYPTED_TOPIC_PUBLISH, wildcardResourceFinding } from './nag';

export interface CutoverStateMachineProps {
  readonly envName: string;
  readonly service: ExtractedServiceConfig;
  readonly cluster: ecs.ICluster;
  readonly task: BulkMigrationTask;
  /** The web service's security groups: the task gets the same database access. */
  readonly securityGroupIds: readonly string[];
  readonly flagNames: FlagParameterNames;
  readonly topic: sns.ITopic;
  /** The cutover-steps hook: lock, checks before and after the migration. */
  readonly steps: lambda.IFunction;
  /** The flag guard: it must accept the cutover document before the run reports success. */
  readonly guard: lambda.IFunction;
}

/** `condition`, evaluated only when every one of `paths` is present (else the rule does not match). */
function present(condition: sfn.Condition, ...paths: string[]): sfn.Condition {
  return sfn.Condition.and(...paths.map((p) => sfn.Condition.isPresent(p)), condition);
}

/** Where a failing run keeps what went wrong; the common exit reads it. */
const FAILURE = '$.failure';

/**
 * The cutover of one service, the point of no return:
 * 1. the input confirms the service; the run takes the service's cutover lock (at most one at a time);
 * 2. checks: routing "all", no cutover recorded, no alarm in ALARM (flags read at `:last-good`);
 * 3. the bulk migration task runs to the end (`.sync`, with a timeout; never retried by the machine);
 * 4. with a write-back: the service's outbox is written back (its function, `drain`), which gives the
 *    watermark every row up to which is in the legacy database (docs/data-contract.md, section 6);
 * 5. the verification command runs as a task of the same definition (`bulkMigration.verify`, with the
 *    watermark) and, with a write-back, its verdict is read from the service's database through the
 *    function: only an exit code 0 and a verdict that passed go on; otherwise the run fails with the
 *    command's message (`VerificationFailed`);
 * 6. nothing changed meanwhile: routing still "all", no alarm went to ALARM since the run started (alarm
 *    history, not only the current state);
 * 7. the cutover document is written, and the flag guard checks it (the run must be running, and its
 *    migration and verification must have exited 0, for the guard to accept it) before the run reports
 *    success.
 * Every way out releases the lock and notifies; a failure ends FAILED with what happened and what to do.
 */
export class CutoverStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  private familyFinding = '';

  constructor(
    scope: Construct,
    id: string,
    private readonly props: CutoverStateMachineProps,
  ) {
    super(scope, id);
    const { service } = props;

    const exit = this.failureExit();
    const failWith = (stateId: string, error: string, cause: string) =>
      new sfn.Pass(this, stateId, { parameters: { error, cause }, resultPath: FAILURE }).next(exit);
    const checkFailed = new sfn.Pass(this, 'CheckFailed', {
      parameters: { 'error.$': '$.check.error', 'cause.$': '$.check.cause' },
      resultPath: FAILURE,
    }).next(exit);
    // A hook step that threw (or a task the catch caught): the lock is released and a human notified.
    const stepFailed = new sfn.Pass(this, 'StepFailed', {
      parameters: {
        error: 'CutoverStepFailed',
        'cause.$': `States.Format('A step of the cutover of ${service.name} failed ({}: {}); no flag was changed. Read the log group of the cutover-steps hook (or the state machine's), fix the cause and run the cutover again.', $.caught.Error, $.caught.Cause)`,
      },
      resultPath: FAILURE,
    }).next(exit);
    const unreadable = failWith(
      'StepAnswerUnreadable',
      'CutoverStepFailed',
      `A step of the cutover of ${service.name} answered without {ok, error, cause}; no flag was changed. Read the log group of the cutover-steps hook, fix it and run the cutover again.`,
    );
    const migrationFailed = failWith(
      'MigrationFailed',
      'MigrationFailed',
      `The bulk migration of ${service.name} failed or timed out; no flag was changed. Read its log (log group of the BulkMigration task), fix the cause and run the cutover again: the migration must copy only what is not copied yet.`,
    );
    const recordFailed = failWith(
      'RecordFailed',
      'RecordFailed',
      `The cutover document of ${service.name} could not be written or checked. Run npm run migrate -- status ${service.name}: if the cutover shows as completed it is recorded; otherwise run the cutover again.`,
    );

    // Every Choice reads only what it found present: a missing path would fail the run where no catch
    // can reach (States.Runtime), keeping the lock and telling no one.
    const checked = (stateId: string, next: sfn.IChainable) =>
      new sfn.Choice(this, stateId)
        .when(present(sfn.Condition.booleanEquals('$.check.ok', true), '$.check.ok'), next)
        .when(
          sfn.Condition.and(
            sfn.Condition.isPresent('$.check.error'),
            sfn.Condition.isPresent('$.check.cause'),
          ),
          checkFailed,
        )
        .otherwise(unreadable);
    const lockStep = (stateId: string, step: CutoverStepEvent['step']) => {
      const task = this.step(stateId, step);
      task.addCatch(stepFailed, { resultPath: '$.caught' });
      return task;
    };

    const run = this.runMigration();
    run.addCatch(migrationFailed, { resultPath: '$.caught' });
    const record = this.recordCutover();
    record.addCatch(recordFailed, { resultPath: '$.caught' });
    const confirm = this.confirmCutover();
    confirm.addCatch(recordFailed, { resultPath: '$.caught' });
    const notAccepted = new sfn.Pass(this, 'NotAccepted', {
      parameters: {
        error: 'CutoverNotAccepted',
        'cause.$': `States.Format('The flag guard did not accept the cutover document of ${service.name} ({}): the point of no return is not recorded. Its alert names the reason; fix it and run the cutover again.', $.confirmed.status)`,
      },
      resultPath: FAILURE,
    }).next(exit);
    // The point of no return is recorded: a failed release or notification cannot undo it, so the run
    // still succeeds (the next run takes over a lock whose holder no longer runs).
    const succeeded = new sfn.Succeed(this, 'Done');
    const notifyCompleted = this.notify('Completed', 'Cutover completed: point of no return passed');
    notifyCompleted.addCatch(succeeded, { resultPath: '$.notifyError' });
    const releaseDone = this.step('ReleaseDone', 'release');
    releaseDone.addCatch(notifyCompleted, { resultPath: '$.releaseError' });
    const done = releaseDone.next(notifyCompleted).next(succeeded);

    const accepted = new sfn.Choice(this, 'Accepted?')
      .when(
        present(
          sfn.Condition.or(
            sfn.Condition.stringEquals('$.confirmed.status', 'labelled'),
            sfn.Condition.stringEquals('$.confirmed.status', 'unchanged'),
          ),
          '$.confirmed.status',
        ),
        new sfn.Choice(this, 'RecordedVersionChecked?')
          .when(
            present(
              sfn.Condition.numberEqualsJsonPath('$.confirmed.version', '$.recorded.Version'),
              '$.confirmed.version',
              '$.recorded.Version',
            ),
            done,
          )
          .otherwise(notAccepted),
      )
      .when(sfn.Condition.isPresent('$.confirmed.status'), notAccepted)
      .otherwise(unreadable);

    const definition = new sfn.Choice(this, 'ConfirmedService?')
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.confirm'),
          sfn.Condition.stringEquals('$.confirm', service.name),
        ),
        lockStep('AcquireLock', 'acquire').next(
          checked(
            'LockAcquired?',
            lockStep('PreCheck', 'precheck').next(
              checked(
                'PreconditionsHold?',
                run.next(
                  new sfn.Choice(this, 'ExitedZero?')
                    .when(
                      present(sfn.Condition.numberEquals('$.task.exitCode', 0), '$.task.exitCode'),
                      this.verification(
                        exit,
                        lockStep('PostCheck', 'postcheck').next(
                          checked(
                            'NothingChanged?',
                            this.composeCutover().next(record).next(confirm).next(accepted),
                          ),
                        ),
                      ),
                    )
                    .otherwise(migrationFailed),
                ),
              ),
            ),
          ),
        ),
      )
      .otherwise(
        failWith(
          'Unconfirmed',
          'Unconfirmed',
          `The input must confirm the service: {"confirm": "${service.name}"} (npm run migrate -- cutover ${service.name} --confirm ${service.name}).`,
        ),
      );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      stateMachineName: cutoverStateMachineName(props.envName, service.name),
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      // The migration and its verification, each up to the configured timeout, and the rest.
      timeout: Duration.minutes(2 * service.bulkMigration.timeoutMinutes + 30),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    this.grantRunMigration(this.stateMachine.role);
    // The alert topic is encrypted with its own key: publishing needs the key as well as sns:Publish.
    props.topic.grantPublish(this.stateMachine);
    acknowledgeOnDefaultPolicy(
      this.stateMachine.role,
      ENCRYPTED_TOPIC_PUBLISH,
      {
        id: this.familyFinding,
        reason:
          'Any revision of the bulk migration task family: each service deploy registers a new revision.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Generated by Step Functions: ecs:DescribeTasks/StopTask for the .sync run (task ARNs are not known in advance), ' +
          'CloudWatch Logs delivery and X-Ray tracing, which AWS only authorizes on "*".',
      },
      ...[props.steps.functionArn, props.guard.functionArn, ...(this.writeBack ? [this.writeBack] : [])].map(
        (arn) => ({
          id: wildcardResourceFinding(this, `${arn}:*`),
          reason:
            'Generated by the LambdaInvoke task: the function and its versions (the state machine invokes the unqualified one).',
        }),
      ),
    );
  }
  /** The service's write-back function (by its conventional name: it lives in the service's stack). */
  private get writeBack(): string | undefined {
    const { service, envName } = this.props;
    if (!service.writeBack) return undefined;
    return Stack.of(this).formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: writeBackFunctionName(envName, service.name),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * After the migration, before anything is recorded: the write-back drained (its watermark), the
   * verification task, its verdict; then `next`. Every failure goes to `exit` with the reason.
   */
  private verification(exit: sfn.IChainable, next: sfn.IChainable): sfn.IChainable {
    const { service } = this.props;
    const fn = this.writeBack;
    /** A failure of the verification (or of what it needs); `format` is an intrinsic with arguments. */
    const failed = (id: string, error: string, cause: { text: string } | { format: string }) =>
      new sfn.Pass(this, id, {
        parameters: { error, ...('text' in cause ? { cause: cause.text } : { 'cause.$': cause.format }) },
        resultPath: FAILURE,
      }).next(exit);
    // Short: every state machine of the environment is in the operations stack (CloudFormation's 1 MB),
    // and the CLI adds where to read on (docs/runbook.md, "When a cutover run fails").
    const taskFailed = failed('VerificationDidNotRun', 'VerificationFailed', {
      text: `The verification of ${service.name} did not run to its end (it did not start, timed out, or left no readable verdict): nothing was recorded. Read the BulkMigration log group.`,
    });
    const notPassed = failed('VerificationNotPassed', 'VerificationFailed', {
      format: fn
        ? `States.Format('The verification of ${service.name} failed (exit code {}): {}. Nothing was recorded.', $.verification.task.exitCode, $.verification.verdict.message)`
        : `States.Format('The verification of ${service.name} failed (exit code {}): nothing was recorded. Read its log (BulkMigration log group).', $.verification.task.exitCode)`,
    });
    const run = this.runTask(VERIFICATION_STATE, '$.verification.task', {
      command: [...service.bulkMigration.verify],
      watermark: fn !== undefined,
    });
    run.addCatch(taskFailed, { resultPath: '$.caught' });
    // Every Choice and Pass reads only paths it found present (a missing one would fail the run where no
    // catch reaches it, keeping the lock).
    const exitCode = '$.verification.task.exitCode';
    const verified = new sfn.Choice(this, 'Verified?')
      .when(
        fn
          ? present(
              sfn.Condition.and(
                sfn.Condition.numberEquals(exitCode, 0),
                sfn.Condition.booleanEquals('$.verification.verdict.passed', true),
              ),
              exitCode,
              '$.verification.verdict.passed',
            )
          : present(sfn.Condition.numberEquals(exitCode, 0), exitCode),
        next,
      )
      .when(
        fn
          ? sfn.Condition.and(
              sfn.Condition.isPresent(exitCode),
              sfn.Condition.isPresent('$.verification.verdict.message'),
            )
          : sfn.Condition.isPresent(exitCode),
        notPassed,
      )
      .otherwise(taskFailed);
    if (!fn) return run.next(verified);

    const invoke = (id: string, request: Record<string, unknown>, resultPath: string) =>
      new tasks.LambdaInvoke(this, id, {
        lambdaFunction: lambda.Function.fromFunctionArn(this, `${id}Function`, fn),
        payload: sfn.TaskInput.fromObject(request),
        payloadResponseOnly: true,
        // Both are safe to run again, but a failure only ends this run: the next one does both again.
        retryOnServiceExceptions: false,
        resultPath,
      });
    const drain = invoke(
      'DrainWriteBack',
      { action: 'drain', deadlineMs: 40_000 } satisfies WriteBackRequest,
      '$.writeBack',
    );
    drain.addCatch(
      failed('WriteBackFailed', 'WriteBackFailed', {
        text: `The write-back of ${service.name} failed before the verification (its function: ${writeBackFunctionName(this.props.envName, service.name)}): nothing was recorded. Read its log group.`,
      }),
      { resultPath: '$.caught' },
    );
    const read = invoke(
      'ReadVerification',
      { action: 'verification', 'runId.$': '$$.Execution.Name' },
      '$.verification.verdict',
    );
    read.addCatch(taskFailed, { resultPath: '$.caught' });
    const writtenBack = new sfn.Choice(this, 'WrittenBack?')
      .when(sfn.Condition.isPresent('$.writeBack.appliedThrough'), run.next(read).next(verified))
      .otherwise(
        failed('WriteBackUnreadable', 'WriteBackFailed', {
          text: `The write-back of ${service.name} answered without its watermark (appliedThrough): nothing was recorded. Read its log group.`,
        }),
      );
    return drain.next(writtenBack);
  }

  /** A call of the cutover-steps hook; its `{ok, error, cause}` lands in `$.check`. */
  private step(id: string, step: CutoverStepEvent['step']): tasks.LambdaInvoke {
    return new tasks.LambdaInvoke(this, id, {
      lambdaFunction: this.props.steps,
      payload: sfn.TaskInput.fromObject({
        step,
        service: this.props.service.name,
        execution: sfn.JsonPath.executionId,
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      } satisfies Record<keyof CutoverStepEvent, unknown>),
      payloadResponseOnly: true,
      resultPath: '$.check',
    });
  }

  /**
   * Every failure: release the lock (a failed release cannot hide the failure), notify, end FAILED (a
   * failed notification too: the run's own FAILED status and the CLI still say what happened).
   */
  private failureExit(): sfn.IChainable {
    const failed = new sfn.Fail(this, 'CutoverFailed', {
      errorPath: `${FAILURE}.error`,
      causePath: `${FAILURE}.cause`,
    });
    const notify = this.notify('Failed', 'Cutover failed, point of no return not passed');
    notify.addCatch(failed, { resultPath: '$.notifyError' });
    const release = this.step('ReleaseOnFailure', 'release');
    release.addCatch(notify, { resultPath: '$.releaseError' });
    return release.next(notify).next(failed);
  }

  /** A notification to the alert topic; retried, since SNS throttles and a notification is idempotent enough. */
  private notify(idPart: string, subject: string): tasks.SnsPublish {
    const publish = new tasks.SnsPublish(this, `Notify${idPart}`, {
      topic: this.props.topic,
      subject: `${subject}: ${this.props.service.name}`.slice(0, 100),
      message: sfn.TaskInput.fromObject({
        service: this.props.service.name,
        execution: sfn.JsonPath.executionName,
        detail: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$')),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    publish.addRetry({
      errors: ['States.ALL'],
      maxAttempts: 3,
      interval: Duration.seconds(2),
      backoffRate: 2,
    });
    return publish;
  }

  /**
   * The bulk migration task, run to its end (`ecs:runTask.sync`). It names the task definition by family
   * (its latest ACTIVE revision) and the role may run any revision of that family, so nothing here pins
   * the revision the service stack registers on every deploy: a weak reference to it would go stale,
   * since this stack is not redeployed with the service. (EcsRunTask would grant one revision.)
   */
  private runMigration(): sfn.CustomState {
    return this.runTask(BULK_MIGRATION_STATE, '$.task');
  }

  /**
   * A task of the bulk migration's definition: its own command (the migration), or `command` (the
   * verification), which also gets the write-back's watermark when `watermark` is set.
   */
  private runTask(
    stateId: string,
    resultPath: string,
    options: { command?: readonly string[]; watermark?: boolean } = {},
  ): sfn.CustomState {
    const { props } = this;
    const timeoutSeconds = props.service.bulkMigration.timeoutMinutes * 60;
    const subnets = props.cluster.vpc.selectSubnets(props.task.vpcSubnets);
    return new sfn.CustomState(this, stateId, {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Aws.PARTITION}:states:::ecs:runTask.sync`,
        Parameters: {
          Cluster: props.cluster.clusterArn,
          TaskDefinition: props.task.taskDefinition.family,
          LaunchType: 'FARGATE',
          PlatformVersion: ecs.FargatePlatformVersion.LATEST,
          NetworkConfiguration: {
            AwsvpcConfiguration: {
              Subnets: subnets.subnetIds,
              SecurityGroups: [...props.securityGroupIds],
              AssignPublicIp: 'DISABLED',
            },
          },
          Overrides: {
            ContainerOverrides: [
              {
                Name: props.task.container.containerName,
                ...(options.command ? { Command: [...options.command] } : {}),
                Environment: [
                  { Name: 'MIGRATION_RUN_ID', 'Value.$': '$$.Execution.Name' },
                  ...(options.watermark
                    ? [
                        {
                          Name: 'MIGRATION_WRITE_BACK_APPLIED_THROUGH',
                          'Value.$': '$.writeBack.appliedThrough',
                        },
                      ]
                    : []),
                ],
              },
            ],
          },
        },
        TimeoutSeconds: timeoutSeconds,
        ResultSelector: { 'exitCode.$': '$.Containers[0].ExitCode', 'stoppedReason.$': '$.StoppedReason' },
        ResultPath: resultPath,
      },
    });
  }

  /** What `ecs:runTask.sync` needs: run the family, pass its roles, follow the task through EventBridge. */
  private grantRunMigration(role: iam.IRole): void {
    const { props } = this;
    const stack = Stack.of(this);
    const family = stack.formatArn({
      service: 'ecs',
      resource: 'task-definition',
      resourceName: `${props.task.taskDefinition.family}:*`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [family],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ecs:StopTask', 'ecs:DescribeTasks'], resources: ['*'] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [
          props.task.taskDefinition.taskRole.roleArn,
          props.task.taskDefinition.obtainExecutionRole().roleArn,
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventsForECSTaskRule',
          }),
        ],
      }),
    );
    this.familyFinding = wildcardResourceFinding(this, family);
  }

  private composeCutover(): sfn.Pass {
    return new sfn.Pass(this, 'ComposeCutover', {
      parameters: {
        completed: true,
        'completedAt.$': '$$.State.EnteredTime',
        'runId.$': '$$.Execution.Name',
      },
      resultPath: '$.cutoverDocument',
    });
  }

  private recordCutover(): tasks.CallAwsService {
    const name = this.props.flagNames.cutover;
    const record = new tasks.CallAwsService(this, 'RecordCutover', {
      service: 'ssm',
      action: 'putParameter',
      parameters: {
        Name: name,
        Type: 'String',
        Overwrite: true,
        'Value.$': 'States.JsonToString($.cutoverDocument)',
      },
      iamResources: [parameterArn(this, name)],
      resultPath: '$.recorded',
    });
    // Writing the same document twice is harmless: the guard accepts the same run id and time again.
    record.addRetry({
      errors: ['States.TaskFailed'],
      maxAttempts: 3,
      interval: Duration.seconds(2),
      backoffRate: 2,
    });
    return record;
  }

  /** The flag guard checks the document now, while this run is running (it verifies the run). */
  private confirmCutover(): tasks.LambdaInvoke {
    return new tasks.LambdaInvoke(this, 'ConfirmCutover', {
      lambdaFunction: this.props.guard,
      payload: sfn.TaskInput.fromObject({
        source: 'migration.cutover',
        'detail-type': 'Parameter Store Change',
        detail: { name: this.props.flagNames.cutover, operation: 'Update' },
      }),
      payloadResponseOnly: true,
      resultPath: '$.confirmed',
    });
  }
}
