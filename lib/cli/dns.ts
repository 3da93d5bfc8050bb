/**
 * `npx migrate dns ...`: moves the clients' DNS name (dns.recordName) from the company's load balancer
 * to the app's in weighted steps, and back (lib/dns/weighted-records.ts plans each change). It reads the
 * app's load balancer from the platform stack's outputs, changes the name's records in one atomic Route 53
 * change batch, and waits until Route 53 has it in sync.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { DnsConfig, MigrationConfig } from '../config/types';
import {
  APP_TARGET_OUTPUTS,
  type AppTarget,
  type Change,
  describeState,
  FinishRefused,
  type Plan,
  planFinish,
  planRestore,
  planWeight,
  type RecordSet,
  readState,
} from '../dns/weighted-records';
import { dnsOperatorPolicyName, platformStackName } from '../naming';
import type { DnsCommand } from './dns-args';
import { RefusedError, RunFailedError, UsageError } from './errors';
import type { GlobalOptions } from './parse-args';

export interface DnsClients {
  readonly route53: Route53Client;
  readonly cloudFormation: CloudFormationClient;
}

export interface DnsDependencies {
  readonly config: MigrationConfig;
  /** Built only for this command. */
  readonly dnsClients: () => Promise<DnsClients>;
  readonly out: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long to wait for Route 53 to have a change in sync. @default 60 */
  readonly confirmTimeoutSeconds?: number;
}

export async function runDns(
  command: DnsCommand,
  options: GlobalOptions,
  deps: DnsDependencies,
): Promise<void> {
  const dns = deps.config.dns;
  const recordName = dns?.recordName;
  if (!dns || !recordName)
    throw new UsageError(
      'the environment file names no DNS name to move: set dns.hostedZoneId, dns.zoneName and dns.recordName (docs/existing-estate.md)',
    );
  const clients = await deps.dnsClients();
  const [target, records] = await Promise.all([
    appTarget(clients.cloudFormation, platformStackName(deps.config.name)),
    nameRecords(clients.route53, dns, recordName),
  ]).catch(denied(deps.config.name));
  const reading = readState(recordName, records);
  if (!reading.ok) throw new RefusedError(reading.problem);
  if (command.action === 'status') {
    for (const line of describeState(reading.state, target)) deps.out(line);
    return;
  }
  const known = (): AppTarget => {
    if (target) return target;
    throw new RefusedError(
      `the app's load balancer is not known: deploy the platform stack ${platformStackName(deps.config.name)} first (its outputs name it)`,
    );
  };
  let plan: Plan;
  try {
    plan =
      command.action === 'weight'
        ? planWeight(reading.state, known(), command.percent)
        : command.action === 'finish'
          ? planFinish(reading.state, known())
          : planRestore(reading.state);
  } catch (e) {
    if (e instanceof FinishRefused) throw new RefusedError(e.message);
    throw e;
  }
  deps.out(plan.summary);
  if (plan.changes.length === 0) return;
  if (options.dryRun) {
    deps.out(`dry run: would submit to ${dns.hostedZoneId}: ${JSON.stringify(plan.changes)}`);
    return;
  }
  await submit(
    clients.route53,
    dns.hostedZoneId,
    plan.changes,
    options.reason ?? `migrate dns ${describe(command)}`,
    deps,
  ).catch(denied(deps.config.name));
}

/** An access denial, in words that name the policy to attach (the CLI's default names the flag permissions). */
const denied =
  (envName: string) =>
  (e: unknown): never => {
    const name = (e as Error)?.name ?? '';
    if (name === 'AccessDenied' || name === 'AccessDeniedException')
      throw new Error(
        `access denied: ${(e as Error).message}. The caller needs the ${dnsOperatorPolicyName(envName)} policy (deployed with dns.recordName)`,
      );
    throw e;
  };

const describe = (c: DnsCommand) => (c.action === 'weight' ? `weight ${c.percent}` : c.action);

/** The platform stack's outputs; undefined when the stack or its outputs are not there yet. */
async function appTarget(cfn: CloudFormationClient, stackName: string): Promise<AppTarget | undefined> {
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    // CloudFormation answers ValidationError "Stack with id ... does not exist".
    if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message))
      return undefined;
    throw e;
  }
  const value = (key: string) => outputs.find((o) => o.OutputKey === key)?.OutputValue;
  const dnsName = value(APP_TARGET_OUTPUTS.dnsName);
  const hostedZoneId = value(APP_TARGET_OUTPUTS.hostedZoneId);
  return dnsName && hostedZoneId ? { dnsName, hostedZoneId } : undefined;
}

/** Every record of the name (each type), from the zone's sorted listing. */
async function nameRecords(route53: Route53Client, dns: DnsConfig, name: string): Promise<RecordSet[]> {
  const { ListResourceRecordSetsCommand } = await import('@aws-sdk/client-route-53');
  const out = await route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: dns.hostedZoneId,
      StartRecordName: name,
      MaxItems: 100,
    }),
  );
  return (out.ResourceRecordSets ?? []) as RecordSet[];
}

/** Submits the batch and waits until Route 53 has it in sync everywhere (status INSYNC). */
async function submit(
  route53: Route53Client,
  hostedZoneId: string,
  changes: readonly Change[],
  comment: string,
  deps: DnsDependencies,
): Promise<void> {
  const sdk = await import('@aws-sdk/client-route-53');
  const out = await route53.send(
    new sdk.ChangeResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      ChangeBatch: { Comment: comment.slice(0, 256), Changes: changes as never },
    }),
  );
  const id = out.ChangeInfo?.Id ?? '';
  let status = out.ChangeInfo?.Status;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (deps.confirmTimeoutSeconds ?? 60) * 1000;
  while (status !== 'INSYNC' && Date.now() < deadline) {
    await sleep(5000);
    status = (await route53.send(new sdk.GetChangeCommand({ Id: id }))).ChangeInfo?.Status;
  }
  if (status !== 'INSYNC')
    throw new RunFailedError(
      `the change ${id} is submitted but Route 53 has not reported it in sync yet; check with aws route53 get-change --id ${id}, then npx migrate dns status`,
    );
  deps.out(
    `in sync: change ${id}. Resolvers follow within the record's TTL (60 s for an alias to a load balancer; clients that cache longer follow later)`,
  );
}
