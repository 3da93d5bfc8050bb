/**
 * Turns every failure of a CLI run into one line that says what to do, and its exit code: 2 usage or
 * configuration, 3 refused by the rules, 1 AWS and everything else.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/parse';
import { RefusedError, RunFailedError, UsageError } from './errors';

/** What the run was reaching AWS with, for the messages that depend on it. */
export interface FailureContext {
  /** The region the clients were built with. */
  readonly region?: string;
  /** The profile asked for, and where: `--profile` or `AWS_PROFILE`. */
  readonly profile?: { readonly name: string; readonly from: '--profile' | 'AWS_PROFILE' };
  /** The environment the SDK reads (shared config file locations, AWS_ENDPOINT_URL). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Node's network error codes the SDK passes through, in words. */
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

interface ErrorFields {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly address?: string;
  readonly port?: number;
  readonly hostname?: string;
  /** An AggregateError's attempts (one per address of a host name). */
  readonly errors?: readonly ErrorFields[];
}

export function describeFailure(e: unknown, context: FailureContext = {}): { code: number; message: string } {
  if (e instanceof UsageError || e instanceof ConfigError) return { code: 2, message: `error: ${e.message}` };
  if (e instanceof RefusedError)
    return { code: 3, message: `${e.message.startsWith('refused') ? '' : 'refused: '}${e.message}` };
  if (e instanceof RunFailedError) return { code: 1, message: `failed: ${e.message}` };
  const err = (typeof e === 'object' && e !== null ? e : {}) as ErrorFields;
  const network = networkFailure(err, context);
  if (network) return { code: 1, message: `error: ${network}` };
  switch (err.name) {
    case 'CredentialsProviderError':
      return { code: 1, message: `error: ${noCredentials(context)}` };
    case 'AccessDeniedException':
    case 'AccessDenied':
      return {
        code: 1,
        message: `error: access denied: ${err.message}. The caller needs ssm:GetParameter* and ssm:PutParameter on the flag parameters`,
      };
    case 'ParameterNotFound':
      return {
        code: 1,
        message: `error: a flag parameter does not exist (${err.message}); deploy the service's data stack (phase 1), or check --config and --region`,
      };
    case 'ThrottlingException':
      return {
        code: 1,
        message: `error: SSM kept throttling after retries (${err.message}); try again in a minute`,
      };
    default: {
      if (/Region is missing/i.test(err.message ?? '')) {
        return {
          code: 1,
          message:
            'error: no AWS region; pass --region, set AWS_REGION, or set region in the environment file',
        };
      }
      // One prefix only: "error: TypeError: ...", never "error: Error: ...".
      // The SDK wraps what is not an Error of this realm as "AWS SDK error wrapper for Error: ...".
      const text = (err.message || String(e)).replace(/^(AWS SDK error wrapper for )?(Error: )?/, '');
      const name =
        err.name && err.name !== 'Error' && !text.startsWith(`${err.name}:`) ? `${err.name}: ` : '';
      return { code: 1, message: `error: ${name}${text}` };
    }
  }
}

/** A connection that failed below HTTP: names the endpoint and what to check. */
function networkFailure(err: ErrorFields, context: FailureContext): string | undefined {
  const isNetwork = (code: string | undefined): code is string =>
    code !== undefined && Object.hasOwn(NETWORK_ERRORS, code);
  const known = [err, ...(err.errors ?? [])].filter((a) => isNetwork(a.code));
  const located = known.find((a) => a.address !== undefined || a.hostname !== undefined);
  // An error from another realm (jest's vm) reaches us as text only: "... connect ECONNREFUSED 127.0.0.1:4566".
  const text = /\b(E[A-Z_]+) (\S+)$/.exec(err.message ?? '');
  const code = located?.code ?? known[0]?.code ?? (isNetwork(text?.[1]) ? text[1] : undefined);
  if (code === undefined) return undefined;
  const endpoint = located
    ? (located.hostname ?? `${located.address}${located.port !== undefined ? `:${located.port}` : ''}`)
    : text?.[1] === code
      ? text[2]
      : 'the AWS endpoint';
  const override = context.env?.AWS_ENDPOINT_URL;
  return (
    `cannot reach ${endpoint} (${code}, ${NETWORK_ERRORS[code]})${context.region ? ` for region ${context.region}` : ''}; ` +
    `check the region (--region, AWS_REGION), ${override ? `AWS_ENDPOINT_URL (${override})` : 'AWS_ENDPOINT_URL if you use one'}, ` +
    'and the network (VPN, proxy, firewall)'
  );
}

function noCredentials({ profile, env = {} }: FailureContext): string {
  if (profile === undefined)
    return 'no AWS credentials found; set AWS_PROFILE or pass --profile (or run aws sso login)';
  const { name, from } = profile;
  const files = sharedFiles(env);
  if (!profileIsDefined(name, env))
    return (
      `the AWS profile ${JSON.stringify(name)} (from ${from}) is not defined: no [profile ${name}] in ${files.config.shown} ` +
      `and no [${name}] in ${files.credentials.shown}; use one that aws configure list-profiles shows ` +
      `(with --profile or AWS_PROFILE), or create it with aws configure --profile ${name}`
    );
  return (
    `the AWS profile ${JSON.stringify(name)} (from ${from}) gave no credentials; ` +
    `run aws sso login --profile ${name} if it uses SSO, else check its keys in ${files.config.shown} or ${files.credentials.shown}`
  );
}

/** The shared config and credentials files, where the SDK looks for them. */
function sharedFiles(env: NodeJS.ProcessEnv) {
  const home = env.HOME || env.USERPROFILE || homedir();
  const file = (variable: string, fallback: string) => {
    const given = env[variable];
    return given
      ? { path: given, shown: `${given} (${variable})` }
      : { path: join(home, '.aws', fallback), shown: `~/.aws/${fallback}` };
  };
  return {
    config: file('AWS_CONFIG_FILE', 'config'),
    credentials: file('AWS_SHARED_CREDENTIALS_FILE', 'credentials'),
  };
}

/**
 * Whether the shared files define a profile: `[profile <name>]` (or `[default]`) in the config file,
 * `[<name>]` in the credentials file, as the AWS CLI and SDK read them.
 */
export function profileIsDefined(name: string, env: NodeJS.ProcessEnv): boolean {
  const { config, credentials } = sharedFiles(env);
  const inConfig = sections(config.path).some(
    (s) => (s === 'default' && name === 'default') || /^profile\s+(.+)$/.exec(s)?.[1] === name,
  );
  return inConfig || sections(credentials.path).includes(name);
}

function sections(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return [...text.matchAll(/^[ \t]*\[([^\]\n]+)\]/gm)].map((m) => m[1].trim());
}
