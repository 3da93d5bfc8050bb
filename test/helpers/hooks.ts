import type { SFNClient } from '@aws-sdk/client-sfn';
import type { GuardDependencies } from '../../lambda/flag-guard/handler';
import type { Lazy } from '../../lambda/shared/lazy';
import { type HookService, hookServices } from '../../lib/hooks/contract';

/** A client a test already has (mocked or bound to the emulator), where a hook takes a Lazy one. */
export const ready =
  <T>(client: T): Lazy<T> =>
  () =>
    Promise.resolve(client);

/** What the operations stack tells the hooks about the `users` service, resolved as the hooks do it. */
export function hookService(
  prefix: string,
  options: {
    phase?: number;
    gatewayMode?: 'krakend' | 'alb';
    cutoverRecorded?: { runId: string; completedAt: string };
    envName?: string;
  } = {},
): HookService {
  const [service] = hookServices({
    envName: options.envName ?? 'demo',
    parameterPrefix: prefix,
    tier: 'standard',
    alertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
    statesArnPrefix: 'arn:aws:states:eu-west-1:123456789012:',
    services: [
      {
        name: 'users',
        phase: options.phase ?? 1,
        gateway: options.gatewayMode ?? 'krakend',
        ...(options.cutoverRecorded ? { cutoverRecorded: options.cutoverRecorded } : {}),
      },
    ],
  });
  return service;
}

/**
 * A Step Functions stand-in for the flag guard's run check: the named run is still running and its bulk
 * migration and verification exited 0 (what the cutover state machine's history holds when it writes the
 * cutover).
 */
export function verifiedRun(): GuardDependencies['sfn'] {
  return ready({
    send: async (command: { constructor: { name: string } }) =>
      command.constructor.name === 'DescribeExecutionCommand'
        ? { status: 'RUNNING' }
        : {
            events: [
              {
                type: 'TaskStateExited',
                stateExitedEventDetails: { name: 'RunBulkMigration', output: '{"task":{"exitCode":0}}' },
              },
              {
                type: 'TaskStateExited',
                stateExitedEventDetails: {
                  name: 'RunVerification',
                  output: '{"task":{"exitCode":0},"verification":{"task":{"exitCode":0}}}',
                },
              },
            ],
          },
  } as unknown as SFNClient);
}
