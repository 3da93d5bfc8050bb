/**
 * The operator CLI's entry: parse, load the environment config, build the SSM client, run, and turn
 * every failure into one clear line and an exit code (2 usage, 3 refused by the rules, 1 AWS/other).
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { selectConfig } from '../config/load';
import { ConfigError } from '../config/parse-config';
import { flagGuardFunctionName } from '../naming';
import { RefusedError, RunFailedError, UsageError } from './errors';
import { parseArgs, USAGE } from './parse-args';
import type { GuardVerdict } from './run';

export interface MainIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

/** Builds the SSM client: retries throttling with exponential backoff and jitter (the SDK's adaptive mode). */
export async function ssmClient(
  region: string | undefined,
  profile: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<SSMClient> {
  // Loaded only when a command gets this far: a mistyped command answers without loading the SDK.
  const sdk = await import('@aws-sdk/client-ssm');
  return new sdk.SSMClient({
    region,
    profile,
    retryMode: 'adaptive',
    // AWS_MAX_ATTEMPTS, when set, is honoured by the SDK itself (tests set 1 against the emulator).
    maxAttempts: env.AWS_MAX_ATTEMPTS ? undefined : 6,
  });
}

export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  try {
    const { command, options } = parseArgs(argv);
    if (command.name === 'help') {
      io.out(USAGE);
      return 0;
    }
    const config = selectConfig(options.config);
    const ssm = await ssmClient(options.region ?? config.region, options.profile, io.env);
    const { runCommand } = await import('./run');
    const region = options.region ?? config.region;
    const stepFunctions = async () => {
      const sdk = await import('@aws-sdk/client-sfn');
      return new sdk.SFNClient({
        region,
        profile: options.profile,
        retryMode: 'adaptive',
        maxAttempts: io.env.AWS_MAX_ATTEMPTS ? undefined : 6,
      });
    };
    const checkNow = async (parameterName: string): Promise<GuardVerdict> => {
      const sdk = await import('@aws-sdk/client-lambda');
      const lambda = new sdk.LambdaClient({
        region,
        profile: options.profile,
        maxAttempts: io.env.AWS_MAX_ATTEMPTS ? undefined : 3,
      });
      const out = await lambda.send(
        new sdk.InvokeCommand({
          FunctionName: flagGuardFunctionName(config.name),
          Payload: JSON.stringify({
            source: 'migration.cli',
            'detail-type': 'Parameter Store Change',
            detail: { name: parameterName, operation: 'Update' },
          }),
        }),
      );
      const payload = JSON.parse(
        new TextDecoder().decode(out.Payload ?? new Uint8Array()),
      ) as GuardVerdict & {
        errorMessage?: string;
      };
      if (out.FunctionError)
        throw new Error(`the flag guard failed: ${payload.errorMessage ?? out.FunctionError}`);
      return payload;
    };
    await runCommand(command, options, { config, ssm, stepFunctions, checkNow, out: io.out });
    return 0;
  } catch (e) {
    const { code, message } = describeFailure(e);
    io.err(message);
    return code;
  }
}

export function describeFailure(e: unknown): { code: number; message: string } {
  if (e instanceof UsageError) return { code: 2, message: `error: ${e.message}` };
  if (e instanceof ConfigError) return { code: 2, message: `error: ${e.message}` };
  if (e instanceof RefusedError)
    return { code: 3, message: `${e.message.startsWith('refused') ? '' : 'refused: '}${e.message}` };
  if (e instanceof RunFailedError) return { code: 1, message: `failed: ${e.message}` };
  const err = e as { name?: string; message?: string };
  switch (err.name) {
    case 'CredentialsProviderError':
      return {
        code: 1,
        message: 'error: no AWS credentials found; set AWS_PROFILE or pass --profile (or run aws sso login)',
      };
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
    default:
      if (/Region is missing/i.test(err.message ?? '')) {
        return {
          code: 1,
          message:
            'error: no AWS region; pass --region, set AWS_REGION, or set region in the environment file',
        };
      }
      return {
        code: 1,
        message: `error: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message ?? String(e)}`,
      };
  }
}
