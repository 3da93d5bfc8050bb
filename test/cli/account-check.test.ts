/**
 * Before any write the CLI checks the account of its credentials (STS GetCallerIdentity) and the region
 * it resolved against the environment file's, and refuses a mismatch naming both. `main` in process with
 * the SDK clients mocked (aws-sdk-client-mock): the STS adapter is the CLI's own.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '../../lib/cli/main';

const sts = mockClient(STSClient);
const ssm = mockClient(SSMClient);
const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'account-check-'));

/** envs/example.json (account 123456789012, eu-west-1) with users at phase 1, or changed by `mutate`. */
function envFile(mutate: (input: Record<string, unknown>) => void = () => {}): string {
  const input = JSON.parse(readFileSync(join(ROOT, 'envs', 'example.json'), 'utf8'));
  input.services[0].phase = 1;
  mutate(input);
  const path = join(dir, `env-${Math.random().toString(36).slice(2, 8)}.json`);
  writeFileSync(path, JSON.stringify(input));
  return path;
}

/** What a write reaches once the check let it through: the SDK's own error, recognisable. */
const pastTheCheck = Object.assign(new Error('reached SSM'), { name: 'ReachedSsm' });

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env,
    connect: (region) => ({
      ssm: new SSMClient({ region }),
      stepFunctions: async () => {
        throw new Error('no Step Functions in this test');
      },
    }),
    sleep: async () => {},
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

beforeEach(() => {
  sts.reset();
  ssm.reset();
  ssm.onAnyCommand().rejects(pastTheCheck);
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
});
afterAll(() => {
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
});

describe('the account and region a write would land in', () => {
  it.each([
    ['route users', ['route', 'users', 'users', '42']],
    ['route percent', ['route', 'users', 'percent', '10']],
    ['route off', ['route', 'users', 'off']],
    ['rollback', ['rollback', 'users']],
    ['gateway', ['gateway', 'users', '50']],
    ['cutover', ['cutover', 'users', '--confirm', 'users']],
  ])('refuses %s with credentials of another account, naming both, and writes nothing', async (_n, args) => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: '111122223333',
      Arn: 'arn:aws:sts::111122223333:assumed-role/operator/alice',
    });
    const path = envFile();
    const result = await cli([...args, '--config', path]);
    expect(result).toEqual({
      code: 3,
      stdout: '',
      stderr: `refused: the credentials are for account 111122223333 (arn:aws:sts::111122223333:assumed-role/operator/alice), but ${path} (environment shop-prod) is for account 123456789012; use a profile of account 123456789012 (--profile or AWS_PROFILE), or the environment file of account 111122223333. Nothing was written.`,
    });
    expect(ssm).not.toHaveReceivedAnyCommand();
  });

  it('refuses a region from AWS_REGION other than the file, before calling STS', async () => {
    const path = envFile();
    const result = await cli(['route', 'users', 'all', '--config', path], { AWS_REGION: 'us-east-1' });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `refused: this would write to region us-east-1 (from AWS_REGION), but ${path} (environment shop-prod) is for region eu-west-1; pass --region eu-west-1, or set AWS_REGION to eu-west-1, or use the environment file of us-east-1. Nothing was written.`,
    );
    expect(sts).not.toHaveReceivedAnyCommand();
    expect(ssm).not.toHaveReceivedAnyCommand();
  });

  it('refuses --region other than the file', async () => {
    const result = await cli(['route', 'users', 'all', '--config', envFile(), '--region', 'eu-central-1']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /region eu-central-1 \(from --region\), but .* is for region eu-west-1; pass --region eu-west-1 or leave --region out/,
    );
  });

  it('lets a write through when account and region are the file', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    const result = await cli(['route', 'users', 'all', '--config', envFile()], {
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
    expect(ssm).toHaveReceivedAnyCommand();
    expect(result.stderr).toMatch(/ReachedSsm: reached SSM/);
  });

  it('skips the check when the file names no account (an environment-agnostic file)', async () => {
    const path = envFile((input) => {
      delete input.account;
      delete input.region;
    });
    const result = await cli(['route', 'users', 'all', '--config', path], { AWS_REGION: 'us-east-1' });
    expect(sts).not.toHaveReceivedAnyCommand();
    expect(result.stderr).toMatch(/ReachedSsm/);
  });

  it('does not call STS for a command that only reads', async () => {
    const result = await cli(['status', '--config', envFile()]);
    expect(sts).not.toHaveReceivedAnyCommand();
    expect(result.stderr).toMatch(/ReachedSsm/);
  });

  it('says so when STS cannot tell who the caller is, and writes nothing', async () => {
    sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredToken',
      }),
    );
    const result = await cli(['route', 'users', 'all', '--config', envFile()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ExpiredToken: The security token included in the request is expired/);
    expect(ssm).not.toHaveReceivedAnyCommand();
  });
});
