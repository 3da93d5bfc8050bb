/** What the hooks use of SNS: imported on the first alert (lazy.ts), a chunk of its own. */
export { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
