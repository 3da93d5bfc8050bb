/** What the write-back function uses of Secrets Manager: imported on the first connection, a chunk of its own. */
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
