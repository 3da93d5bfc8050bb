/**
 * Where a write would land, checked before it is made: the region the CLI resolved and the account of
 * the caller's credentials (STS GetCallerIdentity, which needs no IAM permission) must be the
 * environment file's. Flags of one environment written into another account or region are a silent
 * outage there (their readers take them) and a no-op here. Skipped only when the file names no account
 * (an environment-agnostic file, such as the embedded demo: nothing to compare with).
 */
import type { MigrationConfig } from '../config/types';
import { RefusedError } from './errors';
import type { Command } from './parse-args';

/** Where the resolved region came from, for the message that says what to change. */
export type RegionSource = '--region' | 'AWS_REGION' | 'AWS_DEFAULT_REGION' | 'the environment file';

/** The caller's identity as STS reports it. */
export interface CallerIdentity {
  readonly account: string;
  readonly arn?: string;
}

/** The commands that write (a flag, a cutover run, the clients' DNS name); `status`, `history`, `dns status` only read. */
export function writes(command: Command): boolean {
  switch (command.name) {
    case 'route':
    case 'gateway':
    case 'rollback':
    case 'cutover':
      return true;
    case 'help':
    case 'status':
    case 'history':
      return false;
    case 'dns':
      // The clients' DNS name in the environment's hosted zone: stepping it is a write.
      return command.action !== 'status';
    // A drain applies the service's pending writes to the legacy database of the account it runs in.
    case 'pending':
      return command.drain;
  }
}

/** The region the CLI resolved, and where it came from (as the AWS CLI resolves it). */
export function resolveRegion(
  option: string | undefined,
  env: NodeJS.ProcessEnv,
  config: MigrationConfig,
): { region: string | undefined; from: RegionSource } {
  if (option !== undefined) return { region: option, from: '--region' };
  if (env.AWS_REGION) return { region: env.AWS_REGION, from: 'AWS_REGION' };
  if (env.AWS_DEFAULT_REGION) return { region: env.AWS_DEFAULT_REGION, from: 'AWS_DEFAULT_REGION' };
  return { region: config.region, from: 'the environment file' };
}

/**
 * Refuses (exit 3, nothing written) a write to another region or account than the environment file's.
 * The region is compared first: it needs no call. `whoAmI` is called only when the file names an account.
 */
export async function checkWriteTarget(
  config: MigrationConfig,
  configName: string,
  resolved: { region: string | undefined; from: RegionSource },
  whoAmI: () => Promise<CallerIdentity>,
): Promise<void> {
  if (config.account === undefined) return;
  const file = `${configName} (environment ${config.name})`;
  if (config.region !== undefined && resolved.region !== undefined && resolved.region !== config.region) {
    const fix =
      resolved.from === '--region'
        ? `pass --region ${config.region} or leave --region out`
        : `pass --region ${config.region}, or set ${resolved.from} to ${config.region}`;
    throw new RefusedError(
      `refused: this would write to region ${resolved.region} (from ${resolved.from}), but ${file} is for region ${config.region}; ${fix}, or use the environment file of ${resolved.region}. Nothing was written.`,
    );
  }
  const caller = await whoAmI();
  if (caller.account !== config.account) {
    throw new RefusedError(
      `refused: the credentials are for account ${caller.account}${caller.arn ? ` (${caller.arn})` : ''}, but ${file} is for account ${config.account}; use a profile of account ${config.account} (--profile or AWS_PROFILE), or the environment file of account ${caller.account}. Nothing was written.`,
    );
  }
}

/** The caller's identity from STS, with the CLI's region, profile and retry settings. */
export function stsIdentity(
  region: string | undefined,
  profile: string | undefined,
  env: NodeJS.ProcessEnv,
): () => Promise<CallerIdentity> {
  return async () => {
    const sdk = await import('@aws-sdk/client-sts');
    const sts = new sdk.STSClient({ region, profile, maxAttempts: env.AWS_MAX_ATTEMPTS ? undefined : 3 });
    try {
      const out = await sts.send(new sdk.GetCallerIdentityCommand({}));
      if (!out.Account) throw new Error('STS GetCallerIdentity returned no account');
      return { account: out.Account, ...(out.Arn ? { arn: out.Arn } : {}) };
    } finally {
      sts.destroy();
    }
  };
}
