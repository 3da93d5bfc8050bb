/**
 * What every command of the operator CLI works with: its dependencies (the config, the AWS clients, the
 * channels to the flag guard and the write-back functions), and a service's flag store.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { ExtractedServiceConfig, MigrationConfig } from '../config/types';
import { flagParameterNames, overrideParameterName } from '../flags/parameters';
import { FlagStore } from '../flags/ssm-store';
import { capabilitiesOf } from '../phases';
import type { DnsClients } from './dns';
import type { ServiceConnectClients } from './endpoint-check';
import { RefusedError, UsageError } from './errors';
import type { WriteBackDependencies } from './write-back';

/** What the flag guard answered when asked to check a parameter (its result's status and version). */
export interface GuardVerdict {
  readonly status: string;
  readonly version?: number;
  readonly problems?: readonly string[];
}

export interface CliDependencies extends WriteBackDependencies {
  readonly config: MigrationConfig;
  readonly ssm: SSMClient;
  /** Step Functions, built only for the commands that need it. */
  readonly stepFunctions: () => Promise<SFNClient>;
  /** Route 53 and CloudFormation, built only for the `dns` command. */
  readonly dnsClients?: () => Promise<DnsClients>;
  /**
   * ECS and CloudFormation, built only for a routing write that leaves `off`: the legacy tasks must be
   * able to resolve the service's endpoint (endpoint-check.ts).
   * @default - not checked (a connection to an emulator, which runs no ECS service)
   */
  readonly serviceConnect?: () => Promise<ServiceConnectClients>;
  /**
   * Asks the flag guard to check a parameter now (a synchronous invocation). Absent, or failing (no
   * permission, not deployed), the CLI waits for the guard's own check of the change event instead.
   */
  readonly checkNow?: (parameterName: string) => Promise<GuardVerdict>;
  readonly out: (line: string) => void;
  readonly now?: () => Date;
  /** Waits between polls (a running cutover, a label the guard has not placed yet). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long to wait for the flag guard's check of a write. @default 60 */
  readonly confirmTimeoutSeconds?: number;
}

export function serviceOf(config: MigrationConfig, name: string): ExtractedServiceConfig {
  const service = config.services.find((s) => s.name === name);
  if (!service) {
    throw new UsageError(
      `unknown service ${JSON.stringify(name)}; the configuration has ${config.services.map((s) => s.name).join(', ') || 'no service'}`,
    );
  }
  return service;
}

export function storeOf(
  name: string,
  deps: CliDependencies,
): { service: ExtractedServiceConfig; store: FlagStore } {
  const service = serviceOf(deps.config, name);
  if (!capabilitiesOf(service).migrating) {
    throw new RefusedError(
      `${service.name} is at phase 0: its flags exist from phase 1; deploy phase 1 first`,
    );
  }
  const prefix = deps.config.flags.parameterPrefix;
  const store = new FlagStore(flagParameterNames(prefix, service.name), deps.ssm, {
    tier: deps.config.flags.tier,
    overrideName: overrideParameterName(prefix, service.name),
    cutoverRecorded: service.cutoverRecorded,
  });
  return { service, store };
}
