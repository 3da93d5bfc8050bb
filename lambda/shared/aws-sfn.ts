/** What the hooks use of Step Functions: imported on first use (lazy.ts), a chunk of its own. */
export { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
