/** What the hooks use of Lambda: imported on the first invocation of a write-back function, a chunk of its own. */
export { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
