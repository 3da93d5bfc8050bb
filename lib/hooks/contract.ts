/**
 * What the CDK app tells the Lambda hooks, and what the hooks publish: the contract between lib/ (which
 * writes it) and lambda/ (which reads it), so that neither side imports the other's internals. The
 * environment is compact (names are derived here with the shared naming functions), so that it stays far
 * below Lambda's 4 KB environment limit as services are added.
 */
import type { CutoverMarker } from '../config/types';
import type { FlagParameterNames } from '../flags/parameters';
import { flagParameterNames, guardRecordNames, overrideParameterName } from '../flags/parameters';
import {
  cutoverStateMachineName,
  gatewayAlarmNames,
  serviceAlarmNames,
  writeBackFunctionName,
} from '../naming';
import { capabilitiesOf } from '../phases';

/** The namespace of every metric the hooks and the routing proxy publish (embedded metric format). */
export const METRIC_NAMESPACE = 'StranglerMigration';

/** One service as the deploy describes it to the hooks. */
export interface HookServiceEntry {
  readonly name: string;
  readonly phase: number;
  /** How the service is routed at phase 3. */
  readonly gateway: 'krakend' | 'alb';
  /** The deploy-time marker of a completed cutover (services[].cutoverRecorded). */
  readonly cutoverRecorded?: CutoverMarker;
  /** The service has a write-back (services[].writeBack): its function is asked before users leave. */
  readonly writeBack?: boolean;
}

export interface HookEnvironment {
  readonly envName: string;
  readonly parameterPrefix: string;
  /** SSM tier of the routing parameters. */
  readonly tier: 'standard' | 'advanced';
  readonly alertTopicArn: string;
  /** `arn:<partition>:states:<region>:<account>:`, for the cutover state machines and their executions. */
  readonly statesArnPrefix: string;
  readonly services: readonly HookServiceEntry[];
}

export const HOOK_ENV_VARIABLE = 'MIGRATION_HOOK_CONFIG';

/** The flag guard's variable naming the automatic rollback's role (lib/write-back/leaving.ts isAutoRollbackWrite). */
export const AUTO_ROLLBACK_ROLE_VARIABLE = 'MIGRATION_AUTO_ROLLBACK_ROLE';

/** A service with every name the hooks need, derived from the environment. */
export interface HookService {
  readonly service: string;
  readonly phase: number;
  readonly names: FlagParameterNames;
  /** The emergency override parameter (may not exist). */
  readonly overrideName: string;
  /** The guard's record of the last checked texts. */
  readonly recordNames: FlagParameterNames;
  readonly tier: 'standard' | 'advanced';
  readonly gatewayMode: 'krakend' | 'alb';
  /** Alarm names that trigger the service's automatic rollback. */
  readonly alarmNames: readonly string[];
  /** Those of them that are the gateway's own (only the gateway weight moves). */
  readonly gatewayAlarmNames: readonly string[];
  readonly cutoverRecorded?: CutoverMarker;
  /** The cutover state machine (it exists from phase 2). */
  readonly cutoverStateMachineArn: string;
  /** The service's write-back function, by name, when it has one (lib/write-back/invoke.ts). */
  readonly writeBackFunction?: string;
}

/**
 * The alarms of a service's automatic rollback, which its cutover checks too: its own (those of a mode it
 * is not in do not exist and never match) and, through KrakenD, the gateway's. The hooks that read them
 * and the policies that let them are derived from this one list.
 */
export function rollbackAlarmNames(
  envName: string,
  service: Pick<HookServiceEntry, 'name' | 'phase' | 'gateway'>,
): { readonly all: readonly string[]; readonly gateway: readonly string[] } {
  const gateway = capabilitiesOf(service).throughGateway ? Object.values(gatewayAlarmNames(envName)) : [];
  return { all: [...Object.values(serviceAlarmNames(envName, service.name)), ...gateway], gateway };
}

export function hookServices(env: HookEnvironment): HookService[] {
  return env.services.map((s) => ({
    service: s.name,
    phase: s.phase,
    names: flagParameterNames(env.parameterPrefix, s.name),
    overrideName: overrideParameterName(env.parameterPrefix, s.name),
    recordNames: guardRecordNames(env.parameterPrefix, s.name),
    tier: env.tier,
    gatewayMode: s.gateway,
    alarmNames: rollbackAlarmNames(env.envName, s).all,
    gatewayAlarmNames: rollbackAlarmNames(env.envName, s).gateway,
    ...(s.cutoverRecorded ? { cutoverRecorded: s.cutoverRecorded } : {}),
    cutoverStateMachineArn: `${env.statesArnPrefix}stateMachine:${cutoverStateMachineName(env.envName, s.name)}`,
    ...(s.writeBack ? { writeBackFunction: writeBackFunctionName(env.envName, s.name) } : {}),
  }));
}

/** The ARN of an execution (by its name, the cutover document's run id) of a state machine. */
export function executionArn(stateMachineArn: string, runId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
}

export function readHookEnvironment(env: NodeJS.ProcessEnv = process.env): HookEnvironment {
  const raw = env[HOOK_ENV_VARIABLE];
  if (!raw)
    throw new Error(`${HOOK_ENV_VARIABLE} is not set: the function was deployed without its configuration`);
  const parsed = JSON.parse(raw) as HookEnvironment;
  if (!Array.isArray(parsed.services) || typeof parsed.alertTopicArn !== 'string') {
    throw new Error(`${HOOK_ENV_VARIABLE} must hold {"services": [...], "alertTopicArn": "...", ...}`);
  }
  return parsed;
}

/**
 * The name of the state that runs the bulk migration in a cutover state machine: the guard finds its
 * exit in the execution history to verify a cutover document.
 */
export const BULK_MIGRATION_STATE = 'RunBulkMigration';

/**
 * The state that runs the service's verification command (services[].bulkMigration.verify) after the
 * migration: the guard accepts a cutover document only from a run whose verification exited 0 too.
 */
export const VERIFICATION_STATE = 'RunVerification';

/** The cutover-steps hook's lock table (one item per service while a cutover runs). */
export const LOCK_TABLE_VARIABLE = 'MIGRATION_CUTOVER_LOCK_TABLE';

/** What the cutover state machine passes to the cutover-steps hook. */
export interface CutoverStepEvent {
  readonly step: 'acquire' | 'precheck' | 'postcheck' | 'release';
  readonly service: string;
  /** `$$.Execution.Id`: the run's execution ARN, the lock's holder. */
  readonly execution: string;
  /** `$$.Execution.StartTime`. */
  readonly startedAt: string;
}
