import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { BulkMigrationTask } from '../constructs/bulk-migration';
import { CutoverStateMachine } from '../constructs/cutover-state-machine';
import { MigrationDashboards } from '../constructs/migration-dashboards';
import { ServiceAlarms, serviceTraffic } from '../constructs/service-alarms';
import { WriteBackAlarms } from '../constructs/write-back-alarms';
import { cutoverStepsFunctionName, flagGuardFunctionName } from '../naming';
import { MigrationStack, type MigrationStackProps } from './migration-stack';
import type { OperatedService } from './operations-stack';

export interface ServiceOperationsStackProps extends MigrationStackProps {
  readonly service: OperatedService;
  /** The alert topic of the environment's operations stack, and its key (the topic is encrypted). */
  readonly alerts: { readonly topicArn: string; readonly keyArn: string };
  /** The monolith's load balancer and target group full names, for the legacy side of the dashboard. */
  readonly legacy: { readonly loadBalancerFullName: string; readonly targetGroupFullName: string };
}

/**
 * The operations of one migrating service, `<name>-65-<service>-operations` (decision 0017): its alarms,
 * its write-back's alarms, its dashboard and, from phase 2, its cutover state machine. The environment's
 * operations stack keeps what is shared (the alert topic, the hooks, their rules and the cutover lock),
 * which reaches every service by name patterns; this stack uses the topic and finds the flag guard and the
 * cutover-steps hook by their names, so the environment's stack never grows with services.
 */
export class ServiceOperationsStack extends MigrationStack {
  readonly alarms: ServiceAlarms;
  /** With a write-back: its lag and its function's errors. */
  readonly writeBackAlarms?: WriteBackAlarms;
  /** From phase 2: the cutover (bulk migration, then the point of no return). */
  readonly cutover?: CutoverStateMachine;
  readonly dashboards: MigrationDashboards;

  constructor(scope: Construct, id: string, props: ServiceOperationsStackProps) {
    super(scope, id, props, {
      phase: 1,
      stateful: false,
      summary: `${props.service.config.name}: alarms, dashboard, cutover state machine`,
    });
    const { config, service } = props;
    const topic = sns.Topic.fromTopicAttributes(this, 'Alerts', props.alerts);

    this.alarms = new ServiceAlarms(this, 'Alarms', {
      envName: config.name,
      service: service.config,
      clusterName: service.cluster.clusterName,
      ecsServiceName: service.ecsServiceName,
      targetGroup: service.targetGroup,
      routing: config.routing.mode,
      flagCacheTtlSeconds: config.flags.cacheTtlSeconds,
      topic,
    });
    this.writeBackAlarms = service.config.writeBack
      ? new WriteBackAlarms(this, 'WriteBackAlarms', {
          envName: config.name,
          service: service.config.name,
          alarmAfterMinutes: service.config.writeBack.alarmAfterMinutes,
          topic,
        })
      : undefined;
    this.cutover = service.bulkMigration
      ? new CutoverStateMachine(this, 'Cutover', {
          envName: config.name,
          service: service.config,
          cluster: service.cluster,
          task: service.bulkMigration as BulkMigrationTask,
          securityGroupIds: service.securityGroupIds,
          flagNames: service.flagNames,
          topic,
          steps: lambda.Function.fromFunctionName(this, 'Steps', cutoverStepsFunctionName(config.name)),
          guard: lambda.Function.fromFunctionName(this, 'Guard', flagGuardFunctionName(config.name)),
        })
      : undefined;
    this.dashboards = new MigrationDashboards(this, 'Dashboards', {
      envName: config.name,
      legacy: props.legacy,
      dashboards: 'services',
      services: [
        {
          config: service.config,
          clusterName: service.cluster.clusterName,
          ecsServiceName: service.ecsServiceName,
          traffic: serviceTraffic(service.config, config.routing.mode),
          alarms: this.alarms.alarms,
        },
      ],
    });
  }
}
