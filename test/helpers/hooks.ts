import { type HookService, hookServices } from '../../lib/hooks/contract';

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
