import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../hooks/contract';
import { writeBackAlarmNames, writeBackFunctionName } from '../naming';

export interface WriteBackAlarmsProps {
  readonly envName: string;
  readonly service: string;
  /** services[].writeBack.alarmAfterMinutes. */
  readonly alarmAfterMinutes: number;
  readonly topic: sns.ITopic;
}

/**
 * A human hears when a service's writes do not reach the legacy database (docs/data-contract.md):
 * - `<name>-<svc>-write-back-lag`: the oldest row not yet written back is older than
 *   `alarmAfterMinutes` (WriteBackOldestPendingSeconds, which the function publishes with the `Service`
 *   dimension only on every drain: a row that cannot be applied makes it grow). No data: the function has
 *   not run (before phase 1, after the cutover), not breaching; its failures are the next alarm's;
 * - `<name>-<svc>-write-back-errors`: the function failed (AWS/Lambda Errors, by its conventional name).
 * Both notify the alert topic on ALARM and OK. They live with the topic (the operations stack, deployed
 * after the service stacks) and name the function by its name: no reference crosses the stacks.
 */
export class WriteBackAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: WriteBackAlarmsProps) {
    super(scope, id);
    const names = writeBackAlarmNames(props.envName, props.service);
    const period = Duration.minutes(1);
    const lag = new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: 'WriteBackOldestPendingSeconds',
      dimensionsMap: { Service: props.service },
      statistic: 'Maximum',
      period,
    }).createAlarm(this, 'Lag', {
      alarmName: names.lag,
      alarmDescription: `A write made on ${props.service} waits over ${props.alarmAfterMinutes} min to reach the legacy database: npm run migrate -- pending ${props.service} (docs/runbook.md)`,
      threshold: props.alarmAfterMinutes * 60,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const errors = new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensionsMap: { FunctionName: writeBackFunctionName(props.envName, props.service) },
      statistic: 'Sum',
      period,
    }).createAlarm(this, 'Errors', {
      alarmName: names.errors,
      alarmDescription: `The write-back function of ${props.service} failed: read its log group (docs/runbook.md)`,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms = [lag, errors];
    for (const a of this.alarms) {
      a.addAlarmAction(new actions.SnsAction(props.topic));
      a.addOkAction(new actions.SnsAction(props.topic));
    }
  }
}
