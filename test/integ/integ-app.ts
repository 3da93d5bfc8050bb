/**
 * What the integ tests (test/integ/integ.*.ts) share: the app they synthesize, and the changes that let
 * `integ-runner` destroy what it deployed on a sandbox account. They deploy one app per test and cannot
 * run the CLI between deploys; scripts/sandbox-proof.sh proves the phase transitions and the flag flips.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';
import { addNagChecks, buildMigrationApp, type MigrationStacks } from '../../lib/app';
import type { MigrationConfig } from '../../lib/config/types';
import { parseConfigOrThrow } from '../../lib/environment/parse';
import { allAtPhase, demoInput } from '../helpers/config-input';

const CDK_JSON = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/**
 * An app with cdk.json's feature flags, as `cdk synth` builds it. integ-runner passes its own set of
 * recommended flags on the command line: `postCliContext` makes ours win, so that the snapshot is the
 * template this repository deploys. Lambda bundling runs (local esbuild, as in `cdk synth`).
 */
export function integApp(options: IntegAppOptions = {}): App {
  return new App({
    outdir: options.outdir,
    builtinCloudFormationValidation: options.validate ?? true,
    postCliContext: { ...CDK_JSON.context, ...options.context },
  });
}

export interface IntegAppOptions {
  /** @default - the CDK CLI's output folder (CDK_OUTDIR) */
  readonly outdir?: string;
  /** Context on top of cdk.json's. */
  readonly context?: Record<string, unknown>;
  /**
   * CDK's built-in CloudFormation Validate, as `cdk synth` runs it. The snapshot test turns it off: it
   * more than doubles a synthesis, and test/stacks/validation.cases.ts runs it over every phase and mode.
   * @default true
   */
  readonly validate?: boolean;
}

/** The demo config with every service at `phase` (and anything else `mutate` changes). */
// biome-ignore lint/suspicious/noExplicitAny: a raw JSON document, validated by parseConfig
export function demoAt(phase: number, mutate: (input: any) => void = () => {}): MigrationConfig {
  const input = demoInput();
  allAtPhase(phase)(input);
  // integ-runner destroys what it deployed: the load balancer's deletion protection would refuse it.
  input.alb.deletionProtection = false;
  mutate(input);
  return parseConfigOrThrow(input, '(integ)');
}

/**
 * Builds the migration app of `config` for a sandbox test, with cdk-nag as in bin/app.ts. The only
 * differences from a real deploy: termination protection and the databases' deletion protection are off,
 * so that integ-runner's clean-up can delete the stacks (scripts/sandbox-proof.sh lifts both with the
 * AWS CLI instead). Retained resources stay behind by design: see docs/runbook.md, "Integ tests".
 */
export function buildSandboxApp(app: App, config: MigrationConfig): MigrationStacks & { assertions: Stack } {
  const stacks = buildMigrationApp(app, config);
  for (const stack of stacks.all) {
    stack.terminationProtection = false;
    for (const c of stack.node.findAll()) {
      if (!(c instanceof rds.CfnDBInstance)) continue;
      c.deletionProtection = false;
      Validations.of(c).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: 'integ test on a sandbox account: integ-runner deletes the stacks after the assertions',
      });
    }
  }
  const assertions = new Stack(app, `${config.name}-integ-assertions`);
  addNagChecks(app);
  return { ...stacks, assertions };
}

/**
 * integ-tests' assertion provider (a Lambda that makes the SDK calls and compares the results) is the
 * library's own code: acknowledge what cdk-nag finds in it, on the assertion stack only.
 */
export function acknowledgeAssertionProvider(assertions: Stack): void {
  Validations.of(assertions).acknowledge(
    {
      id: 'AwsSolutions-IAM4',
      reason: 'integ-tests assertion provider: its role uses AWSLambdaBasicExecutionRole (test-only stack)',
    },
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'integ-tests assertion provider: awsApiCall grants the called API on * (read-only calls, test-only stack)',
    },
    {
      id: 'AwsSolutions-L1',
      reason: 'integ-tests assertion provider: the library pins its own Lambda runtime (test-only stack)',
    },
  );
}
