/**
 * What the CDK app tells the traffic-switch hook, through one JSON environment variable: for each
 * phase-3 service, the ALB rules it operates. Part of the lib/ contract so that the CDK app never imports
 * the handler (nor the AWS SDK at synth).
 */

/** The ALB weights of a weighted (KrakenD) rule: the monolith's and the gateway's target groups. */
export interface SwitchTargets {
  readonly legacyTargetGroupArn: string;
  /** The gateway's target group (KrakenD). */
  readonly newTargetGroupArn: string;
}

export interface WeightedSwitch extends SwitchTargets {
  readonly mode: 'weighted';
  readonly service: string;
  readonly ruleArns: readonly string[];
}

export interface PinSwitch {
  readonly mode: 'pin';
  readonly service: string;
  readonly pinRuleArn: string;
  /** The alternation of the service's route regexes (see pinRegexBody). */
  readonly pinRegexBody: string;
}

export type SwitchedService = WeightedSwitch | PinSwitch;

export interface SwitchEnvironment {
  readonly parameterPrefix: string;
  readonly services: readonly SwitchedService[];
}

export const SWITCH_ENV_VARIABLE = 'MIGRATION_SWITCH_CONFIG';
