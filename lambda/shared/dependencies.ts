import { SSMClient } from '@aws-sdk/client-ssm';
import { type HookService, hookServices, readHookEnvironment } from '../../lib/hooks/contract';
import type { WriteBackChannel } from '../../lib/write-back/invoke';
import { Alerts } from './alerts';
import { lazy } from './lazy';
import { jsonLogger, type Logger } from './log';
import { lambdaWriteBackChannel } from './write-back';

/** What the flag hooks work with; tests pass their own (mocked or emulator-bound clients). */
export interface HookDependencies {
  /** The migrating services, with every name derived from the hook environment. */
  readonly services: readonly HookService[];
  readonly ssm: SSMClient;
  readonly alerts: Alerts;
  readonly logger: Logger;
  /**
   * The channel to the services' write-back functions (the guard asks what is pending, the rollback
   * drains). Absent: the services' writes cannot be checked, which the hooks say.
   */
  readonly writeBack?: WriteBackChannel;
}

/** The real dependencies, built once per cold start by each handler. */
export function defaultHookDependencies(hook: string): HookDependencies {
  const env = readHookEnvironment();
  return {
    services: hookServices(env),
    ssm: new SSMClient({}),
    alerts: new Alerts(
      env.alertTopicArn,
      lazy(async () => new (await import('./aws-sns')).SNSClient({})),
    ),
    logger: jsonLogger(hook),
    writeBack: lambdaWriteBackChannel(),
  };
}
