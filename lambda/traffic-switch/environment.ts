/**
 * What the CDK app tells the traffic-switch hook, through one JSON environment variable. Kept apart from
 * the handler so that the CDK app can import it without loading the AWS SDK.
 */
import type { HookServiceConfig } from '../shared/environment';
import type { SwitchTargets } from './decide';

export interface WeightedSwitch extends SwitchTargets {
  readonly mode: 'weighted';
  readonly service: HookServiceConfig;
  readonly ruleArns: readonly string[];
  readonly liveWeights: { readonly legacy: string; readonly gateway: string };
}

export interface PinSwitch {
  readonly mode: 'pin';
  readonly service: HookServiceConfig;
  readonly pinRuleArn: string;
  /** The alternation of the service's route regexes (see pinRegexBody). */
  readonly pinRegexBody: string;
  readonly livePin: string;
}

export type SwitchedService = WeightedSwitch | PinSwitch;

export interface SwitchEnvironment {
  readonly services: readonly SwitchedService[];
}

export const SWITCH_ENV_VARIABLE = 'MIGRATION_SWITCH_CONFIG';
