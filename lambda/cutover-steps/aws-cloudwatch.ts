/** What cutover-steps uses of CloudWatch (the alarms): imported by the checks (lazy.ts). */
export {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
} from '@aws-sdk/client-cloudwatch';
