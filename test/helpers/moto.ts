import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  GetParameterHistoryCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { MigrationConfig } from '../../lib/config/types';
import { type FlagKind, INITIAL_DOCUMENTS, serializeFlag } from '../../lib/flags/documents';
import { flagParameterNames } from '../../lib/flags/parameters';
import { CREDENTIALS, motoClientConfig, motoEndpoint, REGION } from './moto-endpoint';
import { demoInput, config as parse } from './test-app';

export { CREDENTIALS, motoClientConfig, motoEndpoint, REGION } from './moto-endpoint';

/** SDK clients bound to the emulator. */
export function motoClients() {
  const common = motoClientConfig();
  return { ssm: new SSMClient(common), sns: new SNSClient(common), sfn: new SFNClient(common) };
}

/**
 * A configuration whose flags live under a prefix of their own, so that tests (and test files running
 * in parallel) never see each other's parameters: the emulator is shared, its state is not reset.
 */
export function isolatedConfig(mutate: (input: ReturnType<typeof demoInput>) => void = () => {}): {
  config: MigrationConfig;
  /** The same configuration as a file, for the CLI's --config. */
  path: string;
} {
  const input = demoInput();
  input.flags = { parameterPrefix: `/it${randomBytes(4).toString('hex')}/migration` };
  mutate(input);
  const path = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'env.json');
  writeFileSync(path, JSON.stringify(input));
  return { config: parse(input), path };
}

/**
 * Creates a service's flag parameters with the deploy's initial documents and labels the version it
 * created `last-good` (what the deploy's custom resource does), so that readers can read them at once.
 */
export async function deployFlags(ssm: SSMClient, config: MigrationConfig, service = 'users') {
  const names = flagParameterNames(config.flags.parameterPrefix, service);
  for (const kind of ['routing', 'cutover', 'gateway'] as const) {
    const out = await ssm.send(
      new PutParameterCommand({
        Name: names[kind],
        Value: serializeFlag(kind, INITIAL_DOCUMENTS[kind]),
        Type: 'String',
        Overwrite: false,
      }),
    );
    await ssm.send(
      new LabelParameterVersionCommand({
        Name: names[kind],
        ParameterVersion: out.Version,
        Labels: ['last-good'],
      }),
    );
  }
  return names;
}

export async function versionsOf(ssm: SSMClient, name: string) {
  const out = await ssm.send(new GetParameterHistoryCommand({ Name: name }));
  return (out.Parameters ?? []).map((p) => ({ version: p.Version, value: p.Value, labels: p.Labels ?? [] }));
}

export async function createTopic(sns: SNSClient): Promise<string> {
  const out = await sns.send(new CreateTopicCommand({ Name: `alerts-${randomBytes(4).toString('hex')}` }));
  if (!out.TopicArn) throw new Error('no topic');
  return out.TopicArn;
}

/** Runs the bundled CLI as a child process against the emulator. */
export function runCli(args: string[], extraEnv: Record<string, string> = {}) {
  const cli = process.env.MIGRATE_CLI;
  if (!cli) throw new Error('MIGRATE_CLI is not set: run the tests through jest');
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ENDPOINT_URL: motoEndpoint(),
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_MAX_ATTEMPTS: '1',
      // The SDK warns on Node 20 about its future releases; the tests read stderr.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...extraEnv,
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export type { FlagKind };
