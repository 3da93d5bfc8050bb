import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Alerts } from './alerts';
import { type HookEnvironment, readHookEnvironment } from './environment';
import { jsonLogger, type Logger } from './log';

/** What the flag hooks work with; tests pass their own (mocked or emulator-bound clients). */
export interface HookDependencies {
  readonly env: HookEnvironment;
  readonly ssm: SSMClient;
  readonly alerts: Alerts;
  readonly logger: Logger;
}

/** The real dependencies, built once per cold start by each handler. */
export function defaultHookDependencies(hook: string): HookDependencies {
  const env = readHookEnvironment();
  return {
    env,
    ssm: new SSMClient({}),
    alerts: new Alerts(env.alertTopicArn, new SNSClient({})),
    logger: jsonLogger(hook),
  };
}
