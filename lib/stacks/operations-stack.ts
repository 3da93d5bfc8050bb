import { ArnFormat, Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { AlarmThresholdsConfig, ExtractedServiceConfig } from '../config/types';
import { AlertTopic } from '../constructs/alert-topic';
import type { BulkMigrationTask } from '../constructs/bulk-migration';
import { parameterArn } from '../constructs/flag-parameters';
import { HookAlarms } from '../constructs/hook-alarms';
import { HookFunction, hookDeadLetterQueue } from '../constructs/hook-function';
import { MigrationDashboards } from '../constructs/migration-dashboards';
import {
  acknowledgeOnDefaultPolicy,
  ENCRYPTED_TOPIC_PUBLISH,
  wildcardResourceFinding,
} from '../constructs/nag';
import { OperatorPolicies } from '../constructs/operator-policies';
import {
  GatewayAlarms,
  serviceAlarmNamesThatExist,
  serviceTraffic,
  type TargetGroupNames,
} from '../constructs/service-alarms';
import type { FlagParameterNames } from '../flags/parameters';
import {
  AUTO_ROLLBACK_ROLE_VARIABLE,
  HOOK_ENV_VARIABLE,
  type HookEnvironment,
  LOCK_TABLE_VARIABLE,
} from '../hooks/contract';
import {
  SETTLED_STACK_STATUSES,
  SWITCH_ENV_VARIABLE,
  SWITCH_RECONCILE_MINUTES,
  type SwitchEnvironment,
  type SwitchedService,
} from '../hooks/switch-contract';
import { cutoverStepsFunctionName, flagGuardFunctionName, idOf } from '../naming';
import {
  cutoverStateMachinePattern,
  flagPatterns,
  guardRecordPattern,
  overridePattern,
  rollbackAlarmPatterns,
  writeBackFunctionPattern,
} from '../patterns';
import { capabilitiesOf } from '../phases';
import { MigrationStack, type MigrationStackProps } from './migration-stack';

/** What the operations stack needs to know about one migrating service. */
export interface OperatedService {
  readonly config: ExtractedServiceConfig;
  readonly flagNames: FlagParameterNames;
  readonly cluster: ecs.ICluster;
  readonly ecsServiceName: string;
  /**
   * The security groups of the service's tasks (the bulk migration runs with them): its own, then the
   * legacy database clients group.
   */
  readonly securityGroupIds: readonly string[];
  /** From phase 2. */
  readonly bulkMigration?: BulkMigrationTask;
  /** At phase 3: the ALB rules the traffic-switch hook operates. */
  readonly switch?: SwitchTarget;
  /** At phase 3 in `alb` mode: the service's own target group, which the ALB calls directly. */
  readonly targetGroup?: TargetGroupNames;
}

/**
 * The ALB rules of a phase-3 service, as the traffic-switch hook finds them on the listener: its mode
 * (weighted through KrakenD, or the pin of the native rewrite) and its listener-rule block.
 */
export interface SwitchTarget {
  readonly mode: SwitchedService['mode'];
  readonly block: number;
}

export interface OperationsStackProps extends MigrationStackProps {
  readonly services: readonly OperatedService[];
  /** The monolith's load balancer and target group full names, for the legacy side of the dashboards. */
  readonly legacy: { readonly loadBalancerFullName: string; readonly targetGroupFullName: string };
  /** At phase 3 through KrakenD: the gateway's target group and ECS service, for its alarms. */
  readonly gateway?: { readonly targetGroup: TargetGroupNames; readonly ecsServiceName: string };
  /** The application listener holding the phase-3 services' rules (for the traffic-switch hook). */
  readonly applicationListenerArn?: string;
  /**
   * The names of the stacks that hold the services' ALB rules, as a pattern (`<name>-40-*-service`): the
   * traffic-switch hook re-applies the checked weights after one of them settles.
   */
  readonly rulesStackPattern?: string;
}

/**
 * Traffic control and alerting of the environment, from phase 1: the alert topic, the flag guard (checks
 * every write to a flag parameter, records what it accepted and undoes the rest), the automatic rollback
 * (reacts to the alarms), the IAM policies for people, the overview dashboard; from phase 2 the cutover
 * steps and their lock; from phase 3 the traffic switch and the gateway's alarms. Each reaches the
 * services by name patterns (lib/patterns.ts) and keeps their exact set in its environment, so that
 * nothing here grows with services but a few bytes per service; each service's own alarms, dashboard and
 * cutover state machine are in its operations stack (ServiceOperationsStack, decision 0017).
 */
export class OperationsStack extends MigrationStack {
  readonly alerts: AlertTopic;
  readonly flagGuard: HookFunction;
  readonly autoRollback: HookFunction;
  readonly deadLetters: sqs.Queue;
  readonly dashboards: MigrationDashboards;
  readonly policies: OperatorPolicies;
  /** From phase 3 of any service: applies the gateway document at the ALB. */
  readonly trafficSwitch?: HookFunction;
  /** From phase 2 of any service: the lock and checks of the cutover runs. */
  readonly cutoverSteps?: HookFunction;
  /** A human hears of every hook failure. */
  readonly hookAlarms: HookAlarms;
  /** At phase 3 through KrakenD: the gateway's own alarms. */
  readonly gatewayAlarms?: GatewayAlarms;

  /** What the services' operations stacks need of the alert topic: its ARN and its key's (it is encrypted). */
  get alertTopicReference(): { readonly topicArn: string; readonly keyArn: string } {
    return { topicArn: this.alerts.topic.topicArn, keyArn: this.alerts.key.keyArn };
  }

  constructor(scope: Construct, id: string, props: OperationsStackProps) {
    super(scope, id, props, {
      phase: 1,
      stateful: false,
      summary:
        'alerts, gateway alarms, overview dashboard, traffic-control hooks, cutover steps, operator policies',
    });
    const { config } = props;
    const prefix = config.flags.parameterPrefix;

    this.alerts = new AlertTopic(this, 'Alerts', { emails: config.notifications.emails });
    const throughGateway = props.services.filter((s) => capabilitiesOf(s.config).throughGateway);
    this.gatewayAlarms =
      props.gateway && throughGateway.length > 0
        ? new GatewayAlarms(this, 'GatewayAlarms', {
            envName: config.name,
            clusterName: throughGateway[0].cluster.clusterName,
            ecsServiceName: props.gateway.ecsServiceName,
            minCount: config.gateway.minCount,
            targetGroup: props.gateway.targetGroup,
            thresholds: strictest(throughGateway.map((s) => s.config.alarms)),
            topic: this.alerts.topic,
          })
        : undefined;

    const hookEnvironment: HookEnvironment = {
      envName: config.name,
      parameterPrefix: prefix,
      tier: config.flags.tier,
      alertTopicArn: this.alerts.topic.topicArn,
      statesArnPrefix: `arn:${this.partition}:states:${this.region}:${this.account}:`,
      services: props.services.map((s) => ({
        name: s.config.name,
        phase: s.config.phase,
        gateway: s.config.gateway,
        ...(s.config.cutoverRecorded ? { cutoverRecorded: s.config.cutoverRecorded } : {}),
        ...(s.config.writeBack ? { writeBack: true } : {}),
      })),
    };
    const environment = { [HOOK_ENV_VARIABLE]: this.toJsonString(hookEnvironment) };

    this.deadLetters = hookDeadLetterQueue(this, 'DeadLetters');

    this.flagGuard = new HookFunction(this, 'FlagGuard', {
      hook: 'flag-guard',
      functionName: flagGuardFunctionName(config.name),
      description: 'Checks every write to a migration flag, records what it accepts, restores the rest',
      environment,
    });
    // Every grant is on a name pattern of the environment (lib/patterns.ts): no policy grows with services.
    this.grantSsm(
      this.flagGuard,
      [
        'ssm:GetParameter',
        'ssm:GetParameters',
        'ssm:GetParameterHistory',
        'ssm:LabelParameterVersion',
        'ssm:PutParameter',
      ],
      flagPatterns(prefix),
    );
    this.grantSsm(this.flagGuard, ['ssm:GetParameters', 'ssm:PutParameter'], [guardRecordPattern(prefix)]);
    // The emergency override is checked and labelled, never written, by the guard.
    this.grantSsm(
      this.flagGuard,
      ['ssm:GetParameters', 'ssm:GetParameterHistory', 'ssm:LabelParameterVersion'],
      [overridePattern(prefix)],
    );
    const phase2 = props.services.filter((s) => s.bulkMigration);
    // A new cutover document must name a running cutover execution whose migration exited 0.
    this.grantOnCutoverRuns(
      this.flagGuard,
      ['states:DescribeExecution', 'states:GetExecutionHistory'],
      phase2,
    );
    this.grantPublish(this.flagGuard);
    this.onParameterChange(
      'FlagChanged',
      'A migration flag or override parameter was created, updated, deleted or labelled',
      [...flagPatterns(prefix), overridePattern(prefix)],
      ['Create', 'Update', 'Delete', 'LabelParameterVersion'],
      this.flagGuard,
    );
    // Change events are best effort, and removing a label emits none: re-check everything regularly.
    new events.Rule(this, 'FlagReconcile', {
      description: 'Re-checks every migration flag (missed events, removed labels)',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [this.flagGuard.eventTarget(this.deadLetters)],
    });

    this.autoRollback = new HookFunction(this, 'AutoRollback', {
      hook: 'auto-rollback',
      description: 'Switches a service back when one of its alarms goes to ALARM, as far as no data is lost',
      environment,
    });
    this.grantSsm(
      this.autoRollback,
      ['ssm:GetParameters'],
      [...flagPatterns(prefix), overridePattern(prefix)],
    );
    this.grantSsm(this.autoRollback, ['ssm:PutParameter'], flagPatterns(prefix, ['routing', 'gateway']));
    // `<prefix>/*/routing` also matches the guard's record of routing: the rollback never writes a record.
    this.autoRollback.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['ssm:PutParameter'],
        resources: [parameterArn(this, guardRecordPattern(prefix))],
      }),
    );
    this.grantPublish(this.autoRollback);
    // The guard takes a routing write as the rollback's only from a session of this role.
    this.flagGuard.function.addEnvironment(AUTO_ROLLBACK_ROLE_VARIABLE, this.autoRollback.role.roleName);
    // Before users leave: what is pending (the guard, which never waits), the drain (the rollback).
    this.grantWriteBack(this.flagGuard, props.services);
    this.grantWriteBack(this.autoRollback, props.services);
    new events.Rule(this, 'AlarmRaised', {
      description: 'An alarm of a migrating service went to ALARM',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        // Patterns of the rollback alarms' names: the hook keeps those of its services (decision 0017).
        detail: {
          alarmName: rollbackAlarmPatterns(config.name).map((wildcard) => ({ wildcard })),
          state: { value: ['ALARM'] },
        },
      },
      targets: [this.autoRollback.eventTarget(this.deadLetters)],
    });

    this.cutoverSteps = this.addCutoverSteps(phase2, environment);

    // The services' alarms are in their own stacks: the overview names them (no reference back).
    this.dashboards = new MigrationDashboards(this, 'Dashboards', {
      envName: config.name,
      legacy: props.legacy,
      dashboards: 'overview',
      services: props.services.map((s) => ({
        config: s.config,
        clusterName: s.cluster.clusterName,
        ecsServiceName: s.ecsServiceName,
        traffic: serviceTraffic(s.config, config.routing.mode),
        alarms: serviceAlarmNamesThatExist(config.name, s.config.name, s.targetGroup !== undefined).map(
          (name) => cloudwatch.Alarm.fromAlarmName(this, `${idOf(s.config.name)}${name}`, name),
        ),
      })),
    });

    this.policies = new OperatorPolicies(this, 'Policies', {
      envName: config.name,
      parameterPrefix: prefix,
      guardFunctionArn: this.flagGuard.function.functionArn,
      writeBackFunctionArns: writeBackFunctionArns(
        this,
        config.name,
        props.services.map((s) => s.config),
      ),
      cutover: phase2.length > 0,
    });

    this.trafficSwitch = this.addTrafficSwitch(
      prefix,
      props.services,
      props.legacy.loadBalancerFullName,
      props.applicationListenerArn,
      props.rulesStackPattern,
    );

    this.hookAlarms = new HookAlarms(this, 'HookAlarms', {
      envName: config.name,
      deadLetters: this.deadLetters,
      topic: this.alerts.topic,
      hooks: [
        { name: 'flag-guard', hook: this.flagGuard, publishesMalformed: true },
        { name: 'auto-rollback', hook: this.autoRollback, publishesMalformed: true },
        ...(this.cutoverSteps
          ? [{ name: 'cutover-steps', hook: this.cutoverSteps, publishesMalformed: false }]
          : []),
        ...(this.trafficSwitch
          ? [{ name: 'traffic-switch', hook: this.trafficSwitch, publishesMalformed: false }]
          : []),
      ],
    });
  }

  /**
   * Shared by the phase-2 services' cutover state machines (in their own stacks, which invoke it by its
   * name): the cutover-steps hook and its lock table (one item per service while a run holds the lock:
   * nothing to keep).
   */
  private addCutoverSteps(
    services: readonly OperatedService[],
    environment: Record<string, string>,
  ): HookFunction | undefined {
    if (services.length === 0) return undefined;
    const config = this.config;
    const locks = new dynamodb.TableV2(this, 'CutoverLocks', {
      partitionKey: { name: 'service', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const steps = new HookFunction(this, 'CutoverSteps', {
      hook: 'cutover-steps',
      functionName: cutoverStepsFunctionName(config.name),
      description: 'Cutover runs: the lock, the checks before and after the bulk migration',
      environment: { ...environment, [LOCK_TABLE_VARIABLE]: locks.tableName },
    });
    locks.grant(steps.role, 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem');
    this.grantSsm(
      steps,
      ['ssm:GetParameters'],
      [...flagPatterns(config.flags.parameterPrefix), overridePattern(config.flags.parameterPrefix)],
    );
    // Every alarm the checks read: the services' own and, through KrakenD, the gateway's.
    const alarmArns = rollbackAlarmPatterns(config.name).map((name) =>
      this.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    steps.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
        resources: alarmArns,
      }),
    );
    acknowledgeOnDefaultPolicy(
      steps.role,
      ...alarmArns.map((arn) => ({
        id: wildcardResourceFinding(this, arn),
        reason:
          "The rollback alarms of this environment's services and gateway, by their conventional names (lib/patterns.ts): one statement for all of them keeps the policy's size independent of the number of services.",
      })),
    );
    // Whether the holder of a lock still runs.
    this.grantOnCutoverRuns(steps, ['states:DescribeExecution'], services);
    return steps;
  }

  /**
   * The traffic-switch hook of the phase-3 services: applies a service's checked gateway document to its
   * ALB rules (weights, or the pin of a native-rewrite service) when the guard labels it last-good, after
   * every settled deploy of a stack holding rules (a deploy in flight resolves the live weights when its
   * change set is made, and would otherwise overwrite an automatic rollback), and on a schedule. Its
   * environment and its policy have a constant size per service: the rules are found at run time.
   */
  private addTrafficSwitch(
    prefix: string,
    services: readonly OperatedService[],
    loadBalancerFullName: string,
    listenerArn?: string,
    rulesStackPattern?: string,
  ) {
    const switchedConfig = services.flatMap((s) => (s.switch ? [{ ...s, switch: s.switch }] : []));
    if (switchedConfig.length === 0) return undefined;
    if (!listenerArn || !rulesStackPattern)
      throw new Error(
        'the traffic switch needs the application listener and the rules stacks (applicationListenerArn, rulesStackPattern)',
      );
    const environment: SwitchEnvironment = {
      parameterPrefix: prefix,
      listenerArn,
      services: switchedConfig.map(
        (s): SwitchedService => ({ service: s.config.name, mode: s.switch.mode, block: s.switch.block }),
      ),
    };
    const hook = new HookFunction(this, 'TrafficSwitch', {
      hook: 'traffic-switch',
      description:
        'Applies the validated gateway documents to the ALB rules and records them for later deploys',
      environment: { [SWITCH_ENV_VARIABLE]: this.toJsonString(environment) },
      timeout: Duration.seconds(60),
    });
    // listener-rule/app/<lb>/<id>/*: the rules of the app's load balancer (its redirect listener has none).
    const listenerRules = this.formatArn({
      service: 'elasticloadbalancing',
      resource: 'listener-rule',
      resourceName: `${loadBalancerFullName}/*`,
    });
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['elasticloadbalancing:ModifyRule'], resources: [listenerRules] }),
    );
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeListeners'],
        resources: ['*'],
      }),
    );
    // Shared statements over the environment's prefix, so that the policy does not grow with services.
    const gatewayDocuments = parameterArn(this, `${prefix}/*/gateway`);
    const liveParameters = parameterArn(this, `${prefix}/*/live/*`);
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ssm:GetParameters'], resources: [gatewayDocuments] }),
    );
    hook.role.addToPrincipalPolicy(
      // Read first: it writes a record only when the value changes (SSM keeps 100 versions).
      new iam.PolicyStatement({
        actions: ['ssm:GetParameters', 'ssm:PutParameter'],
        resources: [liveParameters],
      }),
    );
    acknowledgeOnDefaultPolicy(
      hook.role,
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'elasticloadbalancing:DescribeRules and DescribeListeners support no resource-level permission; ModifyRule is limited to the rules of the application listener.',
      },
      {
        id: wildcardResourceFinding(this, gatewayDocuments),
        reason:
          "Reads (never writes) the gateway documents of this environment's services; one statement for all of them keeps the policy's size independent of the number of services.",
      },
      {
        id: wildcardResourceFinding(this, liveParameters),
        reason:
          "Reads and writes only the live/ records of this environment's services (what it applied at the ALB, which the rules read at deploy time); one statement keeps the policy's size independent of the number of services.",
      },
    );
    // The listener ARN is a cross-stack reference: cdk-nag names the finding by its resolved form, which
    // exists only once the app has resolved its references (before validation).
    this.node.addValidation({
      validate: () => {
        acknowledgeOnDefaultPolicy(hook.role, {
          id: wildcardResourceFinding(this, listenerRules),
          reason:
            "The rules of the app's load balancer: the hook finds a service's rules there by their priorities, so their ids are not known at deploy time.",
        });
        return [];
      },
    });
    this.onParameterChange(
      'GatewayDocumentValidated',
      'The flag guard labelled a version of a gateway document last-good',
      flagPatterns(prefix, ['gateway']),
      ['LabelParameterVersion'],
      hook,
    );
    new events.Rule(this, 'RulesStackSettled', {
      description:
        'A stack holding the ALB rules of a phase-3 service finished a deploy: re-apply the checked weights',
      eventPattern: {
        source: ['aws.cloudformation'],
        detailType: ['CloudFormation Stack Status Change'],
        detail: {
          // Every service stack of the environment (a pattern): the hook re-applies every service anyway.
          'stack-id': [
            {
              wildcard: `arn:${this.partition}:cloudformation:${this.region}:${this.account}:stack/${rulesStackPattern}/*`,
            },
          ],
          'status-details': { status: [...SETTLED_STACK_STATUSES] },
        },
      },
      targets: [hook.eventTarget(this.deadLetters)],
    });
    new events.Rule(this, 'TrafficReconcile', {
      description: 'Re-applies every checked gateway document (missed events, hand edits of a rule)',
      schedule: events.Schedule.rate(Duration.minutes(SWITCH_RECONCILE_MINUTES)),
      targets: [hook.eventTarget(this.deadLetters)],
    });
    return hook;
  }

  /** These Step Functions actions on the executions of these services' cutover state machines. */
  private grantOnCutoverRuns(
    hook: HookFunction,
    actions: string[],
    services: readonly OperatedService[],
  ): void {
    if (services.length === 0) return;
    const executions = [
      this.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${cutoverStateMachinePattern(this.config.name)}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ];
    hook.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: executions }));
    acknowledgeOnDefaultPolicy(
      hook.role,
      ...executions.map((arn) => ({
        id: wildcardResourceFinding(this, arn),
        reason:
          "The executions of the cutover state machines of this environment's services (<name>-*-cutover, lib/patterns.ts): their names are not known in advance, and one statement keeps the policy's size independent of the number of services.",
      })),
    );
  }

  /**
   * Runs `hook` on Parameter Store Change events of these operations on the parameters of these patterns
   * (lib/patterns.ts; the hook keeps the names of its services): the pattern's size is independent of the
   * number of services (EventBridge's 2,048 characters, decision 0017).
   */
  private onParameterChange(
    id: string,
    description: string,
    patterns: readonly string[],
    operations: string[],
    hook: HookFunction,
  ): void {
    new events.Rule(this, id, {
      description,
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['Parameter Store Change'],
        detail: { name: patterns.map((wildcard) => ({ wildcard })), operation: operations },
      },
      targets: [hook.eventTarget(this.deadLetters)],
    });
  }

  /** Publishing to the encrypted topic, which needs the topic key. */
  private grantPublish(hook: HookFunction): void {
    this.alerts.topic.grantPublish(hook.role);
    acknowledgeOnDefaultPolicy(hook.role, ENCRYPTED_TOPIC_PUBLISH);
  }

  /** Invoking the write-back functions of these services (by their conventional names). */
  private grantWriteBack(hook: HookFunction, services: readonly OperatedService[]): void {
    const functions = writeBackFunctionArns(
      this,
      this.config.name,
      services.map((s) => s.config),
    );
    if (functions.length === 0) return;
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: functions }),
    );
    acknowledgeOnDefaultPolicy(hook.role, ...writeBackFunctionFindings(this, functions));
  }

  /** Exactly these actions on the parameters of these patterns (lib/patterns.ts). */
  private grantSsm(hook: HookFunction, actions: string[], patterns: readonly string[]): void {
    const arns = patterns.map((n) => parameterArn(this, n));
    hook.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: arns }));
    acknowledgeOnDefaultPolicy(
      hook.role,
      ...arns.map((arn) => ({
        id: wildcardResourceFinding(this, arn),
        reason:
          "This kind of parameter of every service of this environment (under its parameter prefix, lib/patterns.ts): one statement for all of them keeps the policy's size independent of the number of services.",
      })),
    );
  }
}

/**
 * The write-back functions of this environment's services (those that have one), as one ARN pattern
 * `<name>-*-write-back` (empty when none has one): one statement keeps a policy's size independent of the
 * number of services (the operations stack holds every service's: CloudFormation's 1 MB).
 */
export function writeBackFunctionArns(
  stack: Stack,
  envName: string,
  services: readonly ExtractedServiceConfig[],
): string[] {
  if (!services.some((s) => s.writeBack)) return [];
  return [
    stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: writeBackFunctionPattern(envName),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  ];
}

/** The cdk-nag acknowledgements of a grant on writeBackFunctionArns. */
export function writeBackFunctionFindings(scope: Construct, arns: readonly string[]) {
  return arns.map((arn) => ({
    id: wildcardResourceFinding(scope, arn),
    reason:
      "The write-back functions of this environment's services, by their conventional name <name>-<service>-write-back; one statement for all of them keeps the policy's size independent of the number of services.",
  }));
}

/** The strictest of several services' thresholds (the gateway serves them all). */
function strictest(all: readonly AlarmThresholdsConfig[]): AlarmThresholdsConfig {
  return {
    errorRatePercent: Math.min(...all.map((t) => t.errorRatePercent)),
    p99LatencyMs: Math.min(...all.map((t) => t.p99LatencyMs)),
    unhealthyHosts: Math.min(...all.map((t) => t.unhealthyHosts)),
    evaluationMinutes: Math.min(...all.map((t) => t.evaluationMinutes)),
  };
}
