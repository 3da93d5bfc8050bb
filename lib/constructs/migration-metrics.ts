/**
 * The metrics the alarms watch and the dashboards show, defined once: each with the namespace, name and
 * exactly the dimension set its publisher emits (CloudWatch does not aggregate across dimension sets: a
 * metric named with other dimensions has no data, and its alarm never fires). The publishers and their
 * documentation are listed in PUBLISHED_METRICS, which test/stacks/operations.cases.ts checks every
 * alarm of the app against.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMESPACE } from '../hooks/contract';
import { PROXY_FLAG_AGE_DIMENSIONS, PROXY_FLAG_AGE_METRIC } from '../proxy/metrics';

export const PERIOD = Duration.minutes(1);

/**
 * A metric as an alarm reads it. No label: a labelled metric makes CloudWatch treat the alarm as a
 * metric-math alarm; the dashboards label their copies with `.with({ label })`.
 */
const metric = (
  namespace: string,
  metricName: string,
  dimensionsMap: Record<string, string>,
  statistic: string,
) => new cloudwatch.Metric({ namespace, metricName, dimensionsMap, statistic, period: PERIOD });

/** A service's traffic as one publisher sees it: the alarms and the dashboards read the same one. */
export interface TrafficMetrics {
  readonly errors: () => cloudwatch.Metric;
  readonly requests: () => cloudwatch.Metric;
  /** Milliseconds. */
  readonly latency: (statistic: string) => cloudwatch.Metric;
}

/**
 * A service as its Service Connect clients see it (the routing proxy in the legacy task, the KrakenD
 * gateway): 5xx and response time by the target's discovery name; requests by the service's own.
 */
export function serviceConnectMetrics(service: string): TrafficMetrics {
  return {
    errors: () => metric('AWS/ECS', 'HTTPCode_Target_5XX_Count', { TargetDiscoveryName: service }, 'Sum'),
    requests: () => metric('AWS/ECS', 'RequestCount', { DiscoveryName: service }, 'Sum'),
    /** Milliseconds. */
    latency: (statistic: string) =>
      metric('AWS/ECS', 'TargetResponseTime', { TargetDiscoveryName: service }, statistic),
  };
}

/**
 * A service as the routing proxy in the legacy task sees it (docs/routing-proxy.md, "Metrics"): what
 * users get from the service, the proxy's own 502/504 included.
 */
export function proxyMetrics(service: string): TrafficMetrics {
  const dims = { Service: service, Side: 'service' };
  return {
    errors: () => metric(METRIC_NAMESPACE, 'Proxy5xx', dims, 'Sum'),
    requests: () => metric(METRIC_NAMESPACE, 'ProxyRequests', dims, 'Sum'),
    /** Milliseconds. */
    latency: (statistic: string) => metric(METRIC_NAMESPACE, 'ProxyLatency', dims, statistic),
  };
}

/**
 * The oldest flags any routing proxy task decides a service with (docs/routing-proxy.md, "Metrics"): the
 * seconds since a task's last successful flag load, published by every task with the dimension
 * `Service` only, so that the Maximum of a period is taken over the legacy service's tasks.
 */
export function proxyFlagAge(service: string): cloudwatch.Metric {
  return metric(METRIC_NAMESPACE, PROXY_FLAG_AGE_METRIC, { Service: service }, 'Maximum');
}

/** A target group behind the ALB (the monolith, the gateway, an `alb`-mode service). */
export function targetGroupMetrics(loadBalancerFullName: string, targetGroupFullName: string) {
  const dims = { LoadBalancer: loadBalancerFullName, TargetGroup: targetGroupFullName };
  return {
    errors: () => metric('AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', dims, 'Sum'),
    requests: () => metric('AWS/ApplicationELB', 'RequestCount', dims, 'Sum'),
    /** Seconds. */
    latency: (statistic: string) => metric('AWS/ApplicationELB', 'TargetResponseTime', dims, statistic),
    unhealthyHosts: () => metric('AWS/ApplicationELB', 'UnHealthyHostCount', dims, 'Maximum'),
    healthyHosts: () => metric('AWS/ApplicationELB', 'HealthyHostCount', dims, 'Minimum'),
  };
}

/** Running tasks of an ECS service (Container Insights). */
export function runningTasks(clusterName: string, ecsServiceName: string) {
  return metric(
    'ECS/ContainerInsights',
    'RunningTaskCount',
    { ClusterName: clusterName, ServiceName: ecsServiceName },
    'Minimum',
  );
}

export interface PublishedMetric {
  readonly namespace: string;
  readonly metric: string;
  /** Every dimension set the publisher emits the metric with (names only, in any order). */
  readonly dimensionSets: readonly (readonly string[])[];
  /** Who publishes it, and where that is documented. */
  readonly source: string;
}

const ECS_SC =
  'ECS Service Connect proxies (Amazon ECS developer guide, "Amazon ECS CloudWatch metrics", Service Connect metrics): target metrics by TargetDiscoveryName, alone or with the calling ClusterName/ServiceName; RequestCount also by DiscoveryName';
const ALB =
  'Elastic Load Balancing ("CloudWatch metrics for your Application Load Balancer"), per target group';

/** The metrics the app's alarms may watch, with the dimension sets their publishers emit. */
export const PUBLISHED_METRICS: readonly PublishedMetric[] = [
  ...['HTTPCode_Target_5XX_Count', 'TargetResponseTime'].map((m) => ({
    namespace: 'AWS/ECS',
    metric: m,
    dimensionSets: [['TargetDiscoveryName'], ['ClusterName', 'ServiceName', 'TargetDiscoveryName']],
    source: ECS_SC,
  })),
  {
    namespace: 'AWS/ECS',
    metric: 'RequestCount',
    dimensionSets: [
      ['DiscoveryName'],
      ['ClusterName', 'ServiceName', 'DiscoveryName'],
      ['TargetDiscoveryName'],
      ['ClusterName', 'ServiceName', 'TargetDiscoveryName'],
    ],
    source: ECS_SC,
  },
  {
    namespace: 'ECS/ContainerInsights',
    metric: 'RunningTaskCount',
    dimensionSets: [['ClusterName', 'ServiceName']],
    source:
      'Container Insights (enhanced observability) on the cluster, "Amazon ECS Container Insights metrics"',
  },
  ...[
    'HTTPCode_Target_5XX_Count',
    'TargetResponseTime',
    'RequestCount',
    'UnHealthyHostCount',
    'HealthyHostCount',
  ].map((m) => ({
    namespace: 'AWS/ApplicationELB',
    metric: m,
    dimensionSets: [
      ['LoadBalancer', 'TargetGroup'],
      ['AvailabilityZone', 'LoadBalancer', 'TargetGroup'],
    ],
    source: ALB,
  })),
  ...['Errors', 'Throttles'].map((m) => ({
    namespace: 'AWS/Lambda',
    metric: m,
    dimensionSets: [['FunctionName'], ['FunctionName', 'Resource']],
    source: 'Lambda ("Types of metrics for Lambda functions")',
  })),
  {
    namespace: 'AWS/SQS',
    metric: 'ApproximateNumberOfMessagesVisible',
    dimensionSets: [['QueueName']],
    source: 'Amazon SQS ("Available CloudWatch metrics for Amazon SQS")',
  },
  ...['ProxyRequests', 'Proxy5xx', 'ProxyLatency'].map((m) => ({
    namespace: METRIC_NAMESPACE,
    metric: m,
    dimensionSets: [['Service', 'Side']],
    source:
      'the routing proxy (proxy/log.ts: every access log line is an EMF record; docs/routing-proxy.md, "Metrics")',
  })),
  ...[
    'WriteBackPendingRows',
    'WriteBackPendingUsers',
    'WriteBackOldestPendingSeconds',
    'WriteBackFailedRows',
  ].map((m) => ({
    namespace: METRIC_NAMESPACE,
    metric: m,
    dimensionSets: [['Service']],
    source:
      'lambda/write-back (logger.metric with { Service } on every drain and pending report; docs/data-contract.md)',
  })),
  {
    namespace: METRIC_NAMESPACE,
    metric: PROXY_FLAG_AGE_METRIC,
    dimensionSets: [[...PROXY_FLAG_AGE_DIMENSIONS]],
    source:
      'the routing proxy (proxy/flags.ts publishes lib/proxy/metrics.ts flagAgeLine per service on a timer; docs/routing-proxy.md, "Metrics")',
  },
  {
    namespace: METRIC_NAMESPACE,
    metric: 'MalformedEvent',
    dimensionSets: [['Hook']],
    source: 'lambda/flag-guard and lambda/auto-rollback (logger.metric with { Hook })',
  },
];
