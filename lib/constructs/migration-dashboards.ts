import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import { METRIC_NAMESPACE } from '../hooks/contract';
import { idOf } from '../naming';
import { runningTasks, type TrafficMetrics, targetGroupMetrics } from './migration-metrics';

/** One migrating service as the dashboards see it. */
export interface DashboardService {
  readonly config: ExtractedServiceConfig;
  readonly clusterName: string;
  readonly ecsServiceName: string;
  /** What the service's alarms watch (serviceTraffic). */
  readonly traffic: TrafficMetrics;
  /** Its rollback alarms (by name when they live in another stack). */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

export interface MigrationDashboardsProps {
  readonly envName: string;
  /**
   * The monolith's target group and load balancer (full names, the metric dimensions): legacy's side of
   * every comparison. Plain strings: the group's own metric helpers derive the load balancer name by
   * splitting a cross-stack value, which cfn-lint rejects.
   */
  readonly legacy: { readonly loadBalancerFullName: string; readonly targetGroupFullName: string };
  readonly services: readonly DashboardService[];
  /**
   * Which dashboards: `overview` (the whole migration, in the operations stack), `services` (one per
   * service, in the service's operations stack: decision 0017).
   */
  readonly dashboards: 'overview' | 'services';
}

const PERIOD = Duration.minutes(1);

/**
 * A dashboard per extracted service comparing the monolith with the new service (requests, 5xx, p50 and
 * p99 latency, healthy hosts and running tasks, the flag guard's restores, automatic rollbacks and the
 * applied gateway weight, the alarms), and one for the whole migration.
 */
export class MigrationDashboards extends Construct {
  readonly perService: readonly cloudwatch.Dashboard[];
  readonly overview?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MigrationDashboardsProps) {
    super(scope, id);
    const legacy = legacyMetrics(props.legacy);
    this.perService =
      props.dashboards === 'services'
        ? props.services.map((s) => this.serviceDashboard(props.envName, s, legacy))
        : [];
    this.overview = props.dashboards === 'overview' ? this.overviewDashboard(props, legacy) : undefined;
  }

  /** Legacy against the service: traffic, errors, latency, capacity, flag changes and the alarms. */
  private serviceDashboard(
    envName: string,
    s: DashboardService,
    legacy: LegacyMetrics,
  ): cloudwatch.Dashboard {
    const name = s.config.name;
    // What the service's alarms watch: the routing proxy's view in phases 1-2, Service Connect's after.
    const sc = s.traffic;
    const own = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        dimensionsMap: { Service: name },
        statistic,
        period: PERIOD,
        label: metricName,
      });
    const running = runningTasks(s.clusterName, s.ecsServiceName).with({
      label: `${name} running tasks`,
    });
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6 });

    return new cloudwatch.Dashboard(this, idOf(name), {
      dashboardName: `${envName}-${name}-migration`,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: `# ${name}: legacy vs new service\nPhase ${s.config.phase}. Flags: \`npm run migrate -- status\`. Runbook: docs/runbook.md.`,
            width: 24,
            height: 2,
          }),
        ],
        [
          graph(`Requests per minute: legacy vs ${name}`, [
            legacy.requestCount(),
            sc.requests().with({ label: `${name} Sum` }),
          ]),
          graph(`5xx per minute: legacy vs ${name}`, [
            legacy.errors(),
            sc.errors().with({ label: `${name} Sum` }),
          ]),
        ],
        [
          graph(`Latency p50 and p99 (ms): legacy vs ${name}`, [
            legacy.latencyMs('p50'),
            legacy.latencyMs('p99'),
            sc.latency('p50').with({ label: `${name} p50` }),
            sc.latency('p99').with({ label: `${name} p99` }),
          ]),
          graph(`Healthy legacy hosts vs running ${name} tasks`, [legacy.healthyHosts(), running]),
        ],
        [
          graph(
            'Flag restores and automatic rollbacks',
            [own('FlagRestored'), own('AutoRollback'), own('AutoRollbackNotPossible')],
            [own('GatewayWeight', 'Maximum')],
          ),
          new cloudwatch.AlarmStatusWidget({
            title: `${name} rollback alarms`,
            alarms: [...s.alarms],
            width: 12,
            height: 6,
          }),
        ],
      ],
    });
  }

  /** The whole migration: every service's phase and traffic, every rollback alarm. */
  private overviewDashboard(props: MigrationDashboardsProps, legacy: LegacyMetrics): cloudwatch.Dashboard {
    return new cloudwatch.Dashboard(this, 'Overview', {
      dashboardName: `${props.envName}-migration`,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: `# ${props.envName} migration\n${props.services.map((s) => `- **${s.config.name}**: phase ${s.config.phase}`).join('\n')}`,
            width: 24,
            height: 3,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Requests per minute by service',
            left: [
              legacy.requestCount(),
              ...props.services.map((s) => s.traffic.requests().with({ label: s.config.name })),
            ],
            width: 12,
            height: 6,
          }),
          ...alarmStatusWidgets(
            'All rollback alarms',
            props.services.flatMap((s) => [...s.alarms]),
          ),
        ],
      ],
    });
  }
}

/** CloudWatch shows at most 100 alarms in one alarm status widget (3 to 6 per service: 17 services). */
export const ALARMS_PER_STATUS_WIDGET = 100;

/** As many alarm status widgets as the alarms need, numbered when more than one. */
function alarmStatusWidgets(
  title: string,
  alarms: readonly cloudwatch.IAlarm[],
): cloudwatch.AlarmStatusWidget[] {
  const count = Math.max(1, Math.ceil(alarms.length / ALARMS_PER_STATUS_WIDGET));
  return Array.from(
    { length: count },
    (_, i) =>
      new cloudwatch.AlarmStatusWidget({
        title: count > 1 ? `${title} (${i + 1}/${count})` : title,
        alarms: alarms.slice(i * ALARMS_PER_STATUS_WIDGET, (i + 1) * ALARMS_PER_STATUS_WIDGET),
        width: 12,
        height: 6,
      }),
  );
}

type LegacyMetrics = ReturnType<typeof legacyMetrics>;

/** The monolith's side of every comparison: its target group, the same definitions as the alarms. */
function legacyMetrics(names: MigrationDashboardsProps['legacy']) {
  const legacyGroup = targetGroupMetrics(names.loadBalancerFullName, names.targetGroupFullName);
  const legacy = {
    requestCount: () => legacyGroup.requests().with({ label: 'legacy' }),
    errors: () => legacyGroup.errors().with({ label: 'legacy' }),
    latency: (stat: string) => legacyGroup.latency(stat).with({ label: `legacy ${stat}` }),
    healthyHosts: () => legacyGroup.healthyHosts().with({ label: 'legacy healthy hosts' }),
  };
  const legacyLatency = (stat: string) =>
    new cloudwatch.MathExpression({
      expression: `${stat}Seconds * 1000`,
      usingMetrics: { [`${stat}Seconds`]: legacy.latency(stat) },
      label: `legacy ${stat} (ms)`,
      period: PERIOD,
    });
  return { ...legacy, latencyMs: legacyLatency };
}
