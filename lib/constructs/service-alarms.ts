import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AlarmThresholdsConfig, ExtractedServiceConfig } from '../config/types';
import { gatewayAlarmNames, proxyFlagAgeAlarmName, serviceAlarmNames } from '../naming';
import { capabilitiesOf } from '../phases';
import { flagAgeAlarmSeconds } from '../proxy/metrics';
import {
  PERIOD,
  proxyFlagAge,
  proxyMetrics,
  runningTasks,
  serviceConnectMetrics,
  type TrafficMetrics,
  targetGroupMetrics,
} from './migration-metrics';

/** A target group behind the ALB, by the full names its metrics carry. */
export interface TargetGroupNames {
  readonly loadBalancerFullName: string;
  readonly targetGroupFullName: string;
}

export interface ServiceAlarmsProps {
  readonly envName: string;
  readonly service: ExtractedServiceConfig;
  readonly clusterName: string;
  /** The ECS service name (generated), for Container Insights metrics. */
  readonly ecsServiceName: string;
  /**
   * At phase 3 in `alb` mode: the service's own target group, which the ALB sends its routes to without a
   * Service Connect client in between (so the Service Connect metrics no longer see that traffic).
   */
  readonly targetGroup?: TargetGroupNames;
  /**
   * Where phases 1-2 route: through the routing proxy, whose metrics show what users get (its own
   * 502/504 included); or in the monolith, where the Service Connect metrics are all there is.
   */
  readonly routing: 'proxy' | 'in-app';
  /** The flags' cache TTL (`flags.cacheTtlSeconds`): the routing proxy reads every TTL. */
  readonly flagCacheTtlSeconds: number;
  readonly topic: sns.ITopic;
}

/**
 * The alarms that roll a service back. Which alarm watches what, by phase:
 * - 5xx rate and p99 latency: in phases 1-2 with the routing proxy, as the proxy sees the service
 *   (StranglerMigration Proxy5xx/ProxyRequests/ProxyLatency by Service, Side); otherwise (a monolith that
 *   routes itself, or phase 3) as its Service Connect clients see it (the monolith, the KrakenD gateway):
 *   published only while requests flow, so no data means no traffic, not breaching;
 * - running tasks below the configured minimum (Container Insights), every phase: no data means no task
 *   reports, as bad as none running;
 * - at phase 3 in `alb` mode, the same three on the service's own target group (the ALB calls it
 *   directly): 5xx rate and p99 latency not breaching without data, unhealthy hosts the same (the ALB
 *   publishes it every minute while the group is in use).
 * Each notifies the alert topic on ALARM and OK; the auto-rollback reacts to their ALARM state.
 *
 * With the routing proxy, also the age of its flags (`flagAge`): the Maximum over the legacy service's
 * tasks of the seconds since a task's last successful flag load. It notifies the topic only: it is not
 * in `alarms` or `names` (a rollback is a flag write, which stale readers would not see either).
 */
export class ServiceAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];
  /** With the routing proxy: its flags are stale on some task. Notifies, never rolls back. */
  readonly flagAge?: cloudwatch.Alarm;
  /** The names of the alarms that exist (they are a contract: the hooks match them). */
  readonly names: readonly string[];
  /** The traffic metrics the 5xx-rate and latency alarms watch (the dashboards show the same). */
  readonly traffic: TrafficMetrics;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const { service } = props;
    const t = service.alarms;
    const names = serviceAlarmNames(props.envName, service.name);
    const traffic = serviceTraffic(service, props.routing);
    this.traffic = traffic;
    const alarms = [
      errorRateAlarm(
        this,
        'ErrorRate',
        names.errorRate,
        traffic.errors(),
        traffic.requests(),
        service.name,
        t,
      ),
      latencyAlarm(this, 'Latency', names.latency, traffic.latency('p99'), service.name, t, 1),
      missingTasksAlarm(
        this,
        'Unhealthy',
        names.unhealthy,
        props.clusterName,
        props.ecsServiceName,
        service,
        t,
      ),
    ];
    if (props.targetGroup) {
      const tg = targetGroupMetrics(
        props.targetGroup.loadBalancerFullName,
        props.targetGroup.targetGroupFullName,
      );
      alarms.push(
        errorRateAlarm(
          this,
          'AlbErrorRate',
          names.albErrorRate,
          tg.errors(),
          tg.requests(),
          `${service.name} at the ALB`,
          t,
        ),
        latencyAlarm(
          this,
          'AlbLatency',
          names.albLatency,
          tg.latency('p99'),
          `${service.name} at the ALB`,
          t,
          1000,
        ),
        unhealthyHostsAlarm(
          this,
          'AlbUnhealthy',
          names.albUnhealthy,
          tg.unhealthyHosts(),
          `${service.name} at the ALB`,
          t,
        ),
      );
    }
    notify(alarms, props.topic);
    this.alarms = alarms;
    if (props.routing === 'proxy') {
      const threshold = flagAgeAlarmSeconds(props.flagCacheTtlSeconds);
      this.flagAge = proxyFlagAge(service.name).createAlarm(this, 'ProxyFlagAge', {
        ...common(t),
        alarmName: proxyFlagAgeAlarmName(props.envName, service.name),
        alarmDescription: `${service.name}: a routing proxy task has not loaded the flags for over ${threshold} s (SSM unreachable, throttled, denied or not answering). It decides with older flags, and a flag change (a rollback included) does not reach it: see docs/runbook.md, "The routing proxy's flags are stale". No data: no proxy task reads flags.`,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // Every proxy task publishes it on a timer of its own; none publishing means none runs at
        // phase 1 or later (another deploy, in-app mode), which the task alarms and the ALB show.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      notify([this.flagAge], props.topic);
    }
    this.names = serviceAlarmNamesThatExist(props.envName, service.name, props.targetGroup !== undefined);
  }
}

/** The names of the rollback alarms ServiceAlarms creates: the `alb-` ones only with a target group. */
export function serviceAlarmNamesThatExist(
  envName: string,
  service: string,
  withTargetGroup: boolean,
): string[] {
  const names = serviceAlarmNames(envName, service);
  return [
    names.errorRate,
    names.latency,
    names.unhealthy,
    ...(withTargetGroup ? [names.albErrorRate, names.albLatency, names.albUnhealthy] : []),
  ];
}

export interface GatewayAlarmsProps {
  readonly envName: string;
  readonly clusterName: string;
  readonly ecsServiceName: string;
  readonly minCount: number;
  readonly targetGroup: TargetGroupNames;
  /** Thresholds: the strictest of the services routed through the gateway. */
  readonly thresholds: AlarmThresholdsConfig;
  readonly topic: sns.ITopic;
}

/**
 * The KrakenD gateway's own alarms at phase 3 (KrakenD CE publishes nothing to CloudWatch): its target
 * group's 5xx rate, p99 latency and unhealthy hosts, and its running tasks. Every `krakend`-mode
 * service's automatic rollback reacts to them (the gateway weight back to 0).
 */
export class GatewayAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly names: readonly string[];

  constructor(scope: Construct, id: string, props: GatewayAlarmsProps) {
    super(scope, id);
    const names = gatewayAlarmNames(props.envName);
    const tg = targetGroupMetrics(
      props.targetGroup.loadBalancerFullName,
      props.targetGroup.targetGroupFullName,
    );
    const t = props.thresholds;
    const alarms = [
      errorRateAlarm(this, 'ErrorRate', names.errorRate, tg.errors(), tg.requests(), 'the gateway', t),
      latencyAlarm(this, 'Latency', names.latency, tg.latency('p99'), 'the gateway', t, 1000),
      unhealthyHostsAlarm(this, 'Unhealthy', names.unhealthy, tg.unhealthyHosts(), 'the gateway', t),
      missingTasksAlarm(
        this,
        'Tasks',
        names.tasks,
        props.clusterName,
        props.ecsServiceName,
        { name: 'gateway', minCount: props.minCount },
        t,
      ),
    ];
    notify(alarms, props.topic);
    this.alarms = alarms;
    this.names = Object.values(names);
  }
}

const common = (t: AlarmThresholdsConfig) => ({
  evaluationPeriods: t.evaluationMinutes,
  datapointsToAlarm: t.evaluationMinutes,
});

function errorRateAlarm(
  scope: Construct,
  id: string,
  alarmName: string,
  errors: cloudwatch.IMetric,
  requests: cloudwatch.IMetric,
  what: string,
  t: AlarmThresholdsConfig,
): cloudwatch.Alarm {
  return new cloudwatch.MathExpression({
    expression: 'IF(requests > 0, 100 * errors / requests, 0)',
    usingMetrics: { errors, requests },
    label: `${what} 5xx %`,
    period: PERIOD,
  }).createAlarm(scope, id, {
    ...common(t),
    alarmName,
    alarmDescription: `${what}: 5xx above ${t.errorRatePercent}% of requests. Triggers the automatic rollback. No data: no traffic.`,
    threshold: t.errorRatePercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** `toMs` converts the metric's unit: 1 for Service Connect (ms), 1000 for the ALB (seconds). */
function latencyAlarm(
  scope: Construct,
  id: string,
  alarmName: string,
  p99: cloudwatch.Metric,
  what: string,
  t: AlarmThresholdsConfig,
  toMs: number,
): cloudwatch.Alarm {
  return p99.createAlarm(scope, id, {
    ...common(t),
    alarmName,
    alarmDescription: `${what}: p99 response time above ${t.p99LatencyMs} ms. Triggers the automatic rollback. No data: no traffic.`,
    threshold: t.p99LatencyMs / toMs,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

function unhealthyHostsAlarm(
  scope: Construct,
  id: string,
  alarmName: string,
  unhealthy: cloudwatch.Metric,
  what: string,
  t: AlarmThresholdsConfig,
): cloudwatch.Alarm {
  return unhealthy.createAlarm(scope, id, {
    ...common(t),
    alarmName,
    alarmDescription: `${what}: ${t.unhealthyHosts} or more unhealthy targets. Triggers the automatic rollback.`,
    threshold: t.unhealthyHosts,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    // The ALB reports the count every minute while the group is attached; a gap is not a failure.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

function missingTasksAlarm(
  scope: Construct,
  id: string,
  alarmName: string,
  clusterName: string,
  ecsServiceName: string,
  service: { readonly name: string; readonly minCount: number },
  t: AlarmThresholdsConfig,
): cloudwatch.Alarm {
  return new cloudwatch.MathExpression({
    expression: `${service.minCount} - running`,
    usingMetrics: { running: runningTasks(clusterName, ecsServiceName) },
    label: `${service.name} tasks missing below minCount`,
    period: PERIOD,
  }).createAlarm(scope, id, {
    ...common(t),
    alarmName,
    alarmDescription: `${service.name}: ${t.unhealthyHosts} or more tasks below minCount (${service.minCount}). Triggers the automatic rollback.`,
    threshold: t.unhealthyHosts,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    // No data means no task reports: as bad as none running.
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
}

function notify(alarms: readonly cloudwatch.Alarm[], topic: sns.ITopic): void {
  for (const alarm of alarms) {
    alarm.addAlarmAction(new actions.SnsAction(topic));
    alarm.addOkAction(new actions.SnsAction(topic));
  }
}

/**
 * What a service's alarms and dashboards watch: the routing proxy's view in phases 1-2 (through the proxy),
 * Service Connect's otherwise. Pure metric definitions: any stack can draw them.
 */
export function serviceTraffic(service: ExtractedServiceConfig, routing: 'proxy' | 'in-app'): TrafficMetrics {
  return routing === 'proxy' && !capabilitiesOf(service).atAlb
    ? proxyMetrics(service.name)
    : serviceConnectMetrics(service.name);
}
