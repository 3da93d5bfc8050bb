import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { HookEnvironment, HookServiceConfig } from '../../lambda/shared/environment';
import { HOOK_ENV_VARIABLE } from '../../lambda/shared/environment';
import {
  SWITCH_ENV_VARIABLE,
  type SwitchEnvironment,
  type SwitchedService,
} from '../../lambda/traffic-switch/environment';
import type { ExtractedServiceConfig } from '../config/types';
import { AlertTopic } from '../constructs/alert-topic';
import { type BulkMigrationTask, CutoverStateMachine } from '../constructs/bulk-migration';
import { parameterArn } from '../constructs/flag-parameters';
import { HookFunction, hookDeadLetterQueue } from '../constructs/hook-function';
import { MigrationDashboards } from '../constructs/migration-dashboards';
import { acknowledgeOnDefaultPolicy, ENCRYPTED_TOPIC_PUBLISH } from '../constructs/nag';
import { ServiceAlarms } from '../constructs/service-alarms';
import { TIER_MAX_BYTES } from '../flags/documents';
import {
  type FlagParameterNames,
  livePinParameterName,
  liveWeightParameterNames,
  overrideParameterName,
} from '../flags/parameters';
import { MigrationStack, type MigrationStackProps } from './migration-stack';

/** What the operations stack needs to know about one migrating service. */
export interface OperatedService {
  readonly config: ExtractedServiceConfig;
  readonly flagNames: FlagParameterNames;
  readonly cluster: ecs.ICluster;
  readonly ecsServiceName: string;
  /** The service's task security group (the bulk migration runs with it). */
  readonly securityGroupId: string;
  /** From phase 2. */
  readonly bulkMigration?: BulkMigrationTask;
  /** At phase 3: the ALB rules the traffic-switch hook operates. */
  readonly switch?: SwitchTarget;
}

/** The ALB rules of a phase-3 service: weighted (through KrakenD) or pinned (native rewrite). */
export type SwitchTarget =
  | {
      readonly mode: 'weighted';
      readonly ruleArns: readonly string[];
      readonly legacyTargetGroupArn: string;
      readonly newTargetGroupArn: string;
    }
  | { readonly mode: 'pin'; readonly pinRuleArn: string; readonly pinRegexBody: string };

export interface OperationsStackProps extends MigrationStackProps {
  readonly services: readonly OperatedService[];
  /** The monolith's load balancer and target group full names, for the legacy side of the dashboards. */
  readonly legacy: { readonly loadBalancerFullName: string; readonly targetGroupFullName: string };
}

/**
 * Traffic control and alerting, from phase 1: the alert topic, the per-service alarms, the flag guard
 * (validates every write to a flag parameter and undoes bad ones) and the automatic rollback (reacts to
 * the alarms). Both hooks are EventBridge targets with retries and a dead-letter queue.
 */
export class OperationsStack extends MigrationStack {
  readonly alerts: AlertTopic;
  readonly flagGuard: HookFunction;
  readonly autoRollback: HookFunction;
  readonly alarms: readonly ServiceAlarms[];
  readonly deadLetters: sqs.Queue;
  /** Per service from phase 2: the cutover (bulk migration, then the point of no return). */
  readonly cutovers: readonly CutoverStateMachine[];
  readonly dashboards: MigrationDashboards;
  /** From phase 3 of any service: applies the gateway document at the ALB. */
  readonly trafficSwitch?: HookFunction;

  constructor(scope: Construct, id: string, props: OperationsStackProps) {
    super(scope, id, props, {
      phase: 1,
      stateful: false,
      summary: 'alerts, alarms, dashboards, traffic-control hooks, cutover state machines',
    });
    const { config } = props;

    this.alerts = new AlertTopic(this, 'Alerts', { emails: config.notifications.emails });
    this.alarms = props.services.map(
      (s) =>
        new ServiceAlarms(this, `${pascal(s.config.name)}Alarms`, {
          envName: config.name,
          service: s.config,
          clusterName: s.cluster.clusterName,
          ecsServiceName: s.ecsServiceName,
          topic: this.alerts.topic,
        }),
    );

    const hookServices: HookServiceConfig[] = props.services.map((s, i) => ({
      service: s.config.name,
      phase: s.config.phase,
      names: s.flagNames,
      overrideName: overrideParameterName(config.flags.parameterPrefix, s.config.name),
      routingMaxBytes: TIER_MAX_BYTES[config.flags.tier],
      gatewayMode: s.config.gateway,
      alarmNames: Object.values(this.alarms[i].names),
    }));
    const hookEnvironment: HookEnvironment = {
      alertTopicArn: this.alerts.topic.topicArn,
      services: hookServices,
    };
    const environment = { [HOOK_ENV_VARIABLE]: this.toJsonString(hookEnvironment) };

    this.deadLetters = hookDeadLetterQueue(this, 'DeadLetters');

    const allNames = props.services.flatMap((s) => Object.values(s.flagNames));
    this.flagGuard = new HookFunction(this, 'FlagGuard', {
      hook: 'flag-guard',
      description: 'Validates every write to a migration flag; restores the last good value on a bad one',
      environment,
    });
    this.grantSsm(
      this.flagGuard,
      ['ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:LabelParameterVersion', 'ssm:PutParameter'],
      allNames,
    );
    // The emergency override is read, never written, by the guard.
    this.grantSsm(
      this.flagGuard,
      ['ssm:GetParameter'],
      props.services.map((s) => overrideParameterName(config.flags.parameterPrefix, s.config.name)),
    );
    this.grantPublish(this.flagGuard);
    this.onParameterChange(
      'FlagChanged',
      'A migration flag parameter was created or updated',
      allNames,
      ['Create', 'Update'],
      this.flagGuard,
    );

    this.autoRollback = new HookFunction(this, 'AutoRollback', {
      hook: 'auto-rollback',
      description: 'Switches a service back when one of its alarms goes to ALARM, as far as no data is lost',
      environment,
    });
    this.grantSsm(this.autoRollback, ['ssm:GetParameterHistory'], allNames);
    this.grantSsm(
      this.autoRollback,
      ['ssm:PutParameter'],
      props.services.flatMap((s) => [s.flagNames.routing, s.flagNames.gateway]),
    );
    this.grantPublish(this.autoRollback);
    new events.Rule(this, 'AlarmRaised', {
      description: 'An alarm of a migrating service went to ALARM',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: {
          alarmName: this.alarms.flatMap((a) => Object.values(a.names)),
          state: { value: ['ALARM'] },
        },
      },
      targets: [this.autoRollback.eventTarget(this.deadLetters)],
    });

    this.cutovers = props.services.flatMap((s, i) =>
      s.bulkMigration
        ? [
            new CutoverStateMachine(this, `${pascal(s.config.name)}Cutover`, {
              envName: config.name,
              service: s.config,
              cluster: s.cluster,
              task: s.bulkMigration,
              securityGroupId: s.securityGroupId,
              flagNames: s.flagNames,
              alarmNames: Object.values(this.alarms[i].names),
              topic: this.alerts.topic,
            }),
          ]
        : [],
    );

    this.dashboards = new MigrationDashboards(this, 'Dashboards', {
      envName: config.name,
      legacy: props.legacy,
      services: props.services.map((s, i) => ({
        config: s.config,
        clusterName: s.cluster.clusterName,
        ecsServiceName: s.ecsServiceName,
        alarms: this.alarms[i],
      })),
    });

    this.trafficSwitch = this.addTrafficSwitch(config.flags.parameterPrefix, props.services, hookServices);
  }

  /**
   * The traffic-switch hook of the phase-3 services: reacts to the guard labelling a gateway document
   * last-good and applies it to the service's ALB rules (weights, or the pin of a native-rewrite service).
   */
  private addTrafficSwitch(
    prefix: string,
    services: readonly OperatedService[],
    hookServices: readonly HookServiceConfig[],
  ) {
    const switched: SwitchedService[] = services.flatMap((s, i): SwitchedService[] => {
      if (!s.switch) return [];
      const service = hookServices[i];
      return s.switch.mode === 'weighted'
        ? [{ ...s.switch, service, liveWeights: liveWeightParameterNames(prefix, s.config.name) }]
        : [{ ...s.switch, service, livePin: livePinParameterName(prefix, s.config.name) }];
    });
    if (switched.length === 0) return undefined;
    const hook = new HookFunction(this, 'TrafficSwitch', {
      hook: 'traffic-switch',
      description: 'Applies a validated gateway document to the ALB rules and records it for later deploys',
      environment: {
        [SWITCH_ENV_VARIABLE]: this.toJsonString({ services: switched } satisfies SwitchEnvironment),
      },
    });
    const ruleArns = switched.flatMap((s) => (s.mode === 'weighted' ? s.ruleArns : [s.pinRuleArn]));
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['elasticloadbalancing:ModifyRule'], resources: ruleArns }),
    );
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['elasticloadbalancing:DescribeRules'], resources: ['*'] }),
    );
    this.grantSsm(
      hook,
      ['ssm:GetParameterHistory'],
      switched.flatMap((s) => Object.values(s.service.names)),
    );
    this.grantSsm(
      hook,
      ['ssm:PutParameter'],
      switched.flatMap((s) => (s.mode === 'weighted' ? Object.values(s.liveWeights) : [s.livePin])),
    );
    acknowledgeOnDefaultPolicy(hook.role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'elasticloadbalancing:DescribeRules supports no resource-level permission; ModifyRule is limited to the migration rules.',
    });
    this.onParameterChange(
      'GatewayDocumentValidated',
      'The flag guard labelled a version of a gateway document last-good',
      switched.map((s) => s.service.names.gateway),
      ['LabelParameterVersion'],
      hook,
    );
    return hook;
  }

  /** Runs `hook` on Parameter Store Change events of these operations on these parameters. */
  private onParameterChange(
    id: string,
    description: string,
    names: readonly string[],
    operations: string[],
    hook: HookFunction,
  ): void {
    new events.Rule(this, id, {
      description,
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['Parameter Store Change'],
        detail: { name: [...names], operation: operations },
      },
      targets: [hook.eventTarget(this.deadLetters)],
    });
  }

  /** Publishing to the encrypted topic, which needs the topic key. */
  private grantPublish(hook: HookFunction): void {
    this.alerts.topic.grantPublish(hook.role);
    acknowledgeOnDefaultPolicy(hook.role, ENCRYPTED_TOPIC_PUBLISH);
  }

  /** Exactly these actions on exactly these parameters. */
  private grantSsm(hook: HookFunction, actions: string[], names: readonly string[]): void {
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions, resources: names.map((n) => parameterArn(this, n)) }),
    );
  }
}

function pascal(name: string): string {
  return name[0].toUpperCase() + name.slice(1);
}
