/** What cutover-steps uses of DynamoDB (the lock): imported by the steps that take or free it (lazy.ts). */
export {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
