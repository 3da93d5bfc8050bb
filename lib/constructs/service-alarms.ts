import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import { serviceAlarmNames } from '../naming';

export interface ServiceAlarmsProps {
  readonly envName: string;
  readonly service: ExtractedServiceConfig;
  readonly clusterName: string;
  /** The ECS service name (generated), for Container Insights metrics. */
  readonly ecsServiceName: string;
  readonly topic: sns.ITopic;
}

/**
 * The alarms that roll a service back: its 5xx rate and p99 response time as seen by Service Connect
 * (metrics published per target discovery name), and its running tasks below the configured minimum
 * (Container Insights). Each notifies the alert topic; the auto-rollback hook reacts to their ALARM state.
 */
export class ServiceAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly names: ReturnType<typeof serviceAlarmNames>;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const { service } = props;
    const thresholds = service.alarms;
    const period = Duration.minutes(1);
    this.names = serviceAlarmNames(props.envName, service.name);
    const target = { TargetDiscoveryName: service.name };

    const errors = new cloudwatch.Metric({
      namespace: 'AWS/ECS',
      metricName: 'HTTPCode_Target_5XX_Count',
      dimensionsMap: target,
      statistic: 'Sum',
      period,
    });
    const requests = new cloudwatch.Metric({
      namespace: 'AWS/ECS',
      metricName: 'RequestCount',
      dimensionsMap: { DiscoveryName: service.name },
      statistic: 'Sum',
      period,
    });
    const errorRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { errors, requests },
      label: `${service.name} 5xx %`,
      period,
    });
    const latency = new cloudwatch.Metric({
      namespace: 'AWS/ECS',
      metricName: 'TargetResponseTime',
      dimensionsMap: target,
      statistic: 'p99',
      period,
    });
    const running = new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: props.clusterName, ServiceName: props.ecsServiceName },
      statistic: 'Minimum',
      period,
    });
    const missing = new cloudwatch.MathExpression({
      expression: `${service.minCount} - running`,
      usingMetrics: { running },
      label: `${service.name} tasks missing below minCount`,
      period,
    });

    const common = {
      evaluationPeriods: thresholds.evaluationMinutes,
      datapointsToAlarm: thresholds.evaluationMinutes,
    };
    this.alarms = [
      errorRate.createAlarm(this, 'ErrorRate', {
        ...common,
        alarmName: this.names.errorRate,
        alarmDescription: `${service.name}: 5xx above ${thresholds.errorRatePercent}% of requests. Triggers the automatic rollback.`,
        threshold: thresholds.errorRatePercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      latency.createAlarm(this, 'Latency', {
        ...common,
        alarmName: this.names.latency,
        alarmDescription: `${service.name}: p99 response time above ${thresholds.p99LatencyMs} ms. Triggers the automatic rollback.`,
        threshold: thresholds.p99LatencyMs,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      missing.createAlarm(this, 'Unhealthy', {
        ...common,
        alarmName: this.names.unhealthy,
        alarmDescription: `${service.name}: ${thresholds.unhealthyHosts} or more tasks below minCount (${service.minCount}). Triggers the automatic rollback.`,
        threshold: thresholds.unhealthyHosts,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data means no task reports: as bad as none running.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    ];
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(new actions.SnsAction(props.topic));
      alarm.addOkAction(new actions.SnsAction(props.topic));
    }
  }
}
