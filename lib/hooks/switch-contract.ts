/**
 * What the CDK app tells the traffic-switch hook, through one JSON environment variable: the listener
 * and, for each phase-3 service, its routing mode and listener-rule block. The hook finds the service's
 * rules on the listener at run time by their priorities (lib/gateway/alb-rules.ts), and the target
 * groups from the rules and the listener's default action, so the environment holds no rule or target
 * group ARN: it grows by a few bytes per service, never with rules, and no replaced rule goes stale in it.
 * Part of the lib/ contract so that the CDK app never imports the handler (nor the AWS SDK at synth).
 */
import type { GatewayMode } from '../gateway/alb-rules';

export interface SwitchedService {
  readonly service: string;
  /** `krakend`: weighted rules to the gateway; `alb`: the pin rule of the native rewrite. */
  readonly mode: GatewayMode;
  /** The service's listener-rule block (see priorityRange). */
  readonly block: number;
}

export interface SwitchEnvironment {
  readonly parameterPrefix: string;
  /** The application listener (HTTPS with a certificate, else HTTP) that holds every service's rules. */
  readonly listenerArn: string;
  readonly services: readonly SwitchedService[];
}

export const SWITCH_ENV_VARIABLE = 'MIGRATION_SWITCH_CONFIG';

/** The stack states after which the hook re-applies every checked gateway document (a deploy is done). */
export const SETTLED_STACK_STATUSES = [
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE',
] as const;

/** Minutes between the scheduled re-applications (missed events, hand edits of a rule). */
export const SWITCH_RECONCILE_MINUTES = 5;
