/**
 * What the CDK app tells the hooks about the services, through one JSON environment variable, parsed
 * once per cold start. The same type is written by lib/constructs/hook-functions.ts.
 */
import type { FlagParameterNames } from '../../lib/flags/parameters';

export interface HookServiceConfig {
  readonly service: string;
  readonly phase: number;
  readonly names: FlagParameterNames;
  /** The emergency override parameter (may not exist). */
  readonly overrideName: string;
  readonly routingMaxBytes: number;
  /** How the service is routed at phase 3. */
  readonly gatewayMode: 'krakend' | 'alb';
  /** Alarm names that trigger the service's automatic rollback. */
  readonly alarmNames: readonly string[];
}

export interface HookEnvironment {
  readonly services: readonly HookServiceConfig[];
  readonly alertTopicArn: string;
}

export const HOOK_ENV_VARIABLE = 'MIGRATION_HOOK_CONFIG';

export function readHookEnvironment(env: NodeJS.ProcessEnv = process.env): HookEnvironment {
  const raw = env[HOOK_ENV_VARIABLE];
  if (!raw)
    throw new Error(`${HOOK_ENV_VARIABLE} is not set: the function was deployed without its configuration`);
  const parsed = JSON.parse(raw) as HookEnvironment;
  if (!Array.isArray(parsed.services) || typeof parsed.alertTopicArn !== 'string') {
    throw new Error(`${HOOK_ENV_VARIABLE} must hold {"services": [...], "alertTopicArn": "..."}`);
  }
  return parsed;
}
