import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../hooks/contract';
import type { HookFunction } from './hook-function';

export interface HookAlarmsProps {
  readonly envName: string;
  /** The hooks, by the name they publish their own metrics under (`Hook` dimension). */
  readonly hooks: readonly {
    readonly name: string;
    readonly hook: HookFunction;
    readonly publishesMalformed: boolean;
  }[];
  /** Where failed deliveries and failed invocations end. */
  readonly deadLetters: sqs.IQueue;
  readonly topic: sns.ITopic;
}

/**
 * A human hears of every hook failure: per hook, its Lambda errors and throttles (AWS/Lambda, by
 * FunctionName) and the events it could not read (its own MalformedEvent metric, by Hook); and the
 * dead-letter queue's depth, where EventBridge delivery failures and failed asynchronous invocations
 * end. Each notifies the alert topic on ALARM and OK; no data is "nothing failed".
 */
export class HookAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: HookAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(1);
    const alarm = (alarmId: string, alarmName: string, metric: cloudwatch.Metric, description: string) =>
      metric.createAlarm(this, alarmId, {
        alarmName,
        alarmDescription: description,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No datapoint: nothing was invoked, or the queue is empty and idle.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const alarms: cloudwatch.Alarm[] = [];
    for (const { name, hook, publishesMalformed } of props.hooks) {
      const id = name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
      alarms.push(
        alarm(
          `${id}Errors`,
          `${props.envName}-hook-${name}-errors`,
          hook.function.metricErrors({ period, statistic: 'Sum' }),
          `The ${name} hook threw: its event was retried, then sent to the dead-letter queue. Read its log group.`,
        ),
        alarm(
          `${id}Throttles`,
          `${props.envName}-hook-${name}-throttles`,
          hook.function.metricThrottles({ period, statistic: 'Sum' }),
          `The ${name} hook was throttled (the account's concurrency is exhausted).`,
        ),
      );
      if (publishesMalformed) {
        alarms.push(
          alarm(
            `${id}Malformed`,
            `${props.envName}-hook-${name}-malformed-events`,
            new cloudwatch.Metric({
              namespace: METRIC_NAMESPACE,
              metricName: 'MalformedEvent',
              dimensionsMap: { Hook: name },
              statistic: 'Sum',
              period,
            }),
            `The ${name} hook received an event it could not read and ignored it. Read its log group.`,
          ),
        );
      }
    }
    alarms.push(
      alarm(
        'DeadLetters',
        `${props.envName}-hook-dead-letters`,
        props.deadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        'An event a hook could not handle is in the dead-letter queue: read it, fix the cause, re-apply the intended value (docs/runbook.md).',
      ),
    );
    for (const a of alarms) {
      a.addAlarmAction(new actions.SnsAction(props.topic));
      a.addOkAction(new actions.SnsAction(props.topic));
    }
    this.alarms = alarms;
  }
}
