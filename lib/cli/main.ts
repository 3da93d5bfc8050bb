/**
 * The operator CLI's entry: parse, load the environment config, build the SSM client, run, and turn
 * every failure into one clear line and an exit code (2 usage, 3 refused by the rules, 1 AWS/other;
 * see failures.ts).
 */
import { selectConfig } from '../environment/load';
import { flagGuardFunctionName } from '../naming';
import { type Invoke, writeBackChannel } from '../write-back/invoke';
import { type CallerIdentity, checkWriteTarget, resolveRegion, stsIdentity, writes } from './account-check';
import { describeFailure, type FailureContext } from './failures';
import { parseArgs, USAGE } from './parse-args';
import type { CliDependencies, GuardVerdict } from './run';

export interface MainIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /**
   * The AWS side, for tests: clients bound to an emulator and the flag guard called in process.
   * @default - SDK clients from the environment, and the deployed flag guard invoked with Lambda
   */
  readonly connect?: (region: string | undefined) => Connection;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the commands reach AWS with. */
export type Connection = Pick<
  CliDependencies,
  'ssm' | 'stepFunctions' | 'checkNow' | 'dnsClients' | 'serviceConnect' | 'writeBack'
> & {
  /** Who the credentials are (STS), checked before a write. @default - STS GetCallerIdentity */
  readonly callerIdentity?: () => Promise<CallerIdentity>;
};

/** The environment variable that names the environment file when --config is not given. */
export const CONFIG_VARIABLE = 'MIGRATE_CONFIG';
/** Seconds the CLI waits for the flag guard to check a write (default 60). */
export const CONFIRM_TIMEOUT_VARIABLE = 'MIGRATE_CONFIRM_TIMEOUT_SECONDS';
/** Seconds the CLI spends writing leaving users' writes back before it refuses (default 60). */
export const DRAIN_TIMEOUT_VARIABLE = 'MIGRATE_DRAIN_TIMEOUT_SECONDS';
/** Where the CLI writes its lists of users (default: the system's temporary directory). */
export const REPORT_DIR_VARIABLE = 'MIGRATE_REPORT_DIR';

/**
 * SDK clients from the environment: SSM and Step Functions retry throttling with exponential backoff
 * and jitter (the SDK's adaptive mode); the flag guard is invoked by its contract name.
 */
async function connect(
  region: string | undefined,
  profile: string | undefined,
  envName: string,
  env: NodeJS.ProcessEnv,
): Promise<Connection> {
  // Loaded only when a command gets this far: a mistyped command answers without loading the SDK.
  const ssmSdk = await import('@aws-sdk/client-ssm');
  // AWS_MAX_ATTEMPTS, when set, is honoured by the SDK itself (tests set 1 against the emulator).
  const retries = { retryMode: 'adaptive', maxAttempts: env.AWS_MAX_ATTEMPTS ? undefined : 6 } as const;
  // One Lambda client, made on first use: the flag guard and the write-back functions are invoked by name.
  let lambda:
    | Promise<{
        client: import('@aws-sdk/client-lambda').LambdaClient;
        sdk: typeof import('@aws-sdk/client-lambda');
      }>
    | undefined;
  const invoke: Invoke = async (functionName, payload, signal) => {
    lambda ??= import('@aws-sdk/client-lambda').then((sdk) => ({
      sdk,
      client: new sdk.LambdaClient({ region, profile, maxAttempts: env.AWS_MAX_ATTEMPTS ? undefined : 3 }),
    }));
    const { sdk, client } = await lambda;
    const out = await client.send(new sdk.InvokeCommand({ FunctionName: functionName, Payload: payload }), {
      abortSignal: signal,
    });
    return {
      payload: new TextDecoder().decode(out.Payload ?? new Uint8Array()),
      ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
    };
  };
  return {
    ssm: new ssmSdk.SSMClient({ region, profile, ...retries }),
    stepFunctions: async () => {
      const sdk = await import('@aws-sdk/client-sfn');
      return new sdk.SFNClient({ region, profile, ...retries });
    },
    dnsClients: async () => {
      const [route53, cloudFormation] = await Promise.all([
        import('@aws-sdk/client-route-53'),
        import('@aws-sdk/client-cloudformation'),
      ]);
      return {
        route53: new route53.Route53Client({ region, profile, ...retries }),
        cloudFormation: new cloudFormation.CloudFormationClient({ region, profile, ...retries }),
      };
    },
    serviceConnect: async () => {
      const [ecs, cloudFormation] = await Promise.all([
        import('@aws-sdk/client-ecs'),
        import('@aws-sdk/client-cloudformation'),
      ]);
      return {
        ecs: new ecs.ECSClient({ region, profile, ...retries }),
        cloudFormation: new cloudFormation.CloudFormationClient({ region, profile, ...retries }),
      };
    },
    checkNow: async (parameterName: string): Promise<GuardVerdict> => {
      const out = await invoke(
        flagGuardFunctionName(envName),
        JSON.stringify({
          source: 'migration.cli',
          'detail-type': 'Parameter Store Change',
          detail: { name: parameterName, operation: 'Update' },
        }),
        AbortSignal.timeout(60_000),
      );
      const payload = JSON.parse(out.payload || 'null') as GuardVerdict & { errorMessage?: string };
      if (out.functionError)
        throw new Error(`the flag guard failed: ${payload.errorMessage ?? out.functionError}`);
      return payload;
    },
    writeBack: writeBackChannel(invoke),
  };
}

export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let context: FailureContext = { env: io.env };
  try {
    const { command, options } = parseArgs(argv);
    if (command.name === 'help') {
      io.out(USAGE);
      return 0;
    }
    const configPath = options.config ?? (io.env[CONFIG_VARIABLE] || undefined);
    const config = selectConfig(configPath, {
      where:
        options.config === undefined
          ? `in ${CONFIG_VARIABLE} (used when --config <path> is not given)`
          : 'given with --config <path>',
      example: '--config envs/prod.json',
    });
    // Like the AWS CLI: --region, then AWS_REGION, then AWS_DEFAULT_REGION; then the environment file's.
    const resolved = resolveRegion(options.region, io.env, config);
    const { region } = resolved;
    const profile =
      options.profile !== undefined
        ? ({ name: options.profile, from: '--profile' } as const)
        : io.env.AWS_PROFILE
          ? ({ name: io.env.AWS_PROFILE, from: 'AWS_PROFILE' } as const)
          : undefined;
    context = { ...context, region, profile };
    const connection = io.connect
      ? io.connect(region)
      : await connect(region, options.profile, config.name, io.env);
    const live = async () => {
      // Before any write: the caller's account and the region are the environment file's (account-check.ts).
      if (writes(command))
        await checkWriteTarget(
          config,
          configPath ?? '(embedded demo)',
          resolved,
          connection.callerIdentity ?? stsIdentity(region, options.profile, io.env),
        );
      const { runCommand } = await import('./run');
      const timeout = Number(io.env[CONFIRM_TIMEOUT_VARIABLE] ?? 60);
      const drainTimeout = Number(io.env[DRAIN_TIMEOUT_VARIABLE] ?? 60);
      await runCommand(
        command,
        { ...options, config: configPath },
        {
          config,
          ...connection,
          out: io.out,
          now: io.now,
          sleep: io.sleep,
          confirmTimeoutSeconds: Number.isFinite(timeout) && timeout >= 0 ? timeout : 60,
          drainTimeoutSeconds: Number.isFinite(drainTimeout) && drainTimeout > 0 ? drainTimeout : 60,
          reportDir: io.env[REPORT_DIR_VARIABLE] || undefined,
        },
      );
    };
    if (!options.dryRun) await live();
    else {
      // A dry run that cannot read the live state shows the plan from the file alone (offline-plan.ts).
      const { dryRunOrPlan } = await import('./offline-plan');
      const failure = context;
      await dryRunOrPlan(
        live,
        { command, options, config, out: io.out, now: io.now?.() },
        (e) => describeFailure(e, failure).message,
      );
    }
    return 0;
  } catch (e) {
    const { code, message } = describeFailure(e, context);
    io.err(message);
    return code;
  }
}
