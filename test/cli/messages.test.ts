/**
 * What the CLI says when it cannot start or cannot reach AWS: `main` in process with injected I/O, each
 * message one line that says what to do, with its exit code.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { describeFailure, profileIsDefined } from '../../lib/cli/failures';
import { type Connection, main } from '../../lib/cli/main';

/** Runs the CLI in process; `ssm` is what the commands reach SSM with. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, ssm?: SSMClient) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env,
    connect: () =>
      ({
        ssm: ssm ?? failing(new Error('no SSM in this test')),
        stepFunctions: async () => {
          throw new Error('no Step Functions in this test');
        },
        checkNow: async () => ({ status: 'labelled' }),
      }) as Connection,
    sleep: async () => {},
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** An SSM client whose every call fails with `error`, as the SDK fails before any request. */
const failing = (error: Error) => ({ send: async () => Promise.reject(error) }) as unknown as SSMClient;

/** What the SDK throws when no provider in its chain finds credentials (also for an unknown profile). */
const noCredentials = () =>
  Object.assign(new Error('Could not load credentials from any providers'), {
    name: 'CredentialsProviderError',
  });

describe('--config and MIGRATE_CONFIG', () => {
  it('names --config <path> when the file given with it cannot be read', async () => {
    const result = await cli(['status', '--config', '/nonexistent/env.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^error: Invalid configuration \/nonexistent\/env\.json .*\n {2}- \(file\): cannot read it \(ENOENT.*\); check the path given with --config <path>$/s,
    );
    expect(result.stderr).not.toContain('-c config');
  });

  it('names MIGRATE_CONFIG when the path came from it', async () => {
    const result = await cli(['status'], { MIGRATE_CONFIG: '/nonexistent/env.json' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /check the path in MIGRATE_CONFIG \(used when --config <path> is not given\)$/,
    );
    expect(result.stderr).not.toContain('-c config');
  });

  it('refuses an empty --config with an example', async () => {
    expect(await cli(['status', '--config='])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'error: --config needs the path of an environment file, such as --config envs/prod.json; leave it out for $MIGRATE_CONFIG or the embedded demo',
    });
  });
});

describe('switches', () => {
  it('says how to write --dry-run when it is given a value, with the usage exit code', async () => {
    expect(await cli(['route', 'users', 'off', '--dry-run=true'])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'error: --dry-run is a switch and takes no value: write --dry-run alone (not --dry-run=true), or leave it out',
    });
  });
});

describe('a connection that fails', () => {
  let closedPort: number;
  beforeAll(async () => {
    // A port that was free a moment ago: nothing listens there, so connecting is refused.
    closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
  });

  it('names the endpoint and what to check, on one line, with the AWS exit code', async () => {
    const ssm = new SSMClient({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${closedPort}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    try {
      const result = await cli(['status'], { AWS_REGION: 'eu-west-1' }, ssm);
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: cannot reach 127.0.0.1:${closedPort} (ECONNREFUSED, connection refused) for region eu-west-1; check the region (--region, AWS_REGION), AWS_ENDPOINT_URL if you use one, and the network (VPN, proxy, firewall)`,
      });
    } finally {
      ssm.destroy();
    }
  });

  it('shows AWS_ENDPOINT_URL when it is set', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), {
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 5000,
    });
    const result = await cli(
      ['status', '--region', 'us-east-1'],
      { AWS_ENDPOINT_URL: 'http://localhost:5000' },
      failing(refused),
    );
    expect(result.stderr).toBe(
      'error: cannot reach 127.0.0.1:5000 (ECONNREFUSED, connection refused) for region us-east-1; check the region (--region, AWS_REGION), AWS_ENDPOINT_URL (http://localhost:5000), and the network (VPN, proxy, firewall)',
    );
  });

  it('reads the attempts of an AggregateError (a host name with several addresses)', () => {
    const attempt = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}:443`), {
        code: 'ECONNREFUSED',
        address,
        port: 443,
      });
    const error = Object.assign(new AggregateError([attempt('::1'), attempt('127.0.0.1')], ''), {
      code: 'ECONNREFUSED',
    });
    expect(describeFailure(error, { region: 'eu-west-1' })).toEqual({
      code: 1,
      message: expect.stringMatching(
        /^error: cannot reach ::1:443 \(ECONNREFUSED, connection refused\) for region eu-west-1; check the region/,
      ),
    });
  });

  it('names the host that does not resolve', () => {
    const error = Object.assign(new Error('getaddrinfo ENOTFOUND ssm.eu-west-9.amazonaws.com'), {
      code: 'ENOTFOUND',
      hostname: 'ssm.eu-west-9.amazonaws.com',
    });
    expect(describeFailure(error).message).toMatch(
      /^error: cannot reach ssm\.eu-west-9\.amazonaws\.com \(ENOTFOUND, host not found\); check the region/,
    );
  });
});

describe('credentials and profiles', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'migrate-profiles-'));
    mkdirSync(join(home, '.aws'));
    writeFileSync(
      join(home, '.aws', 'config'),
      '[default]\nregion = eu-west-1\n\n[profile dev]\nsso_session = corp\n[sso-session corp]\n',
    );
    writeFileSync(join(home, '.aws', 'credentials'), '[ci]\naws_access_key_id = AKIA\n');
    env = { HOME: home };
  });

  it('names an unknown --profile and where profiles are defined', async () => {
    const result = await cli(['status', '--profile', 'prod'], env, failing(noCredentials()));
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: the AWS profile "prod" (from --profile) is not defined: no [profile prod] in ~/.aws/config and no [prod] in ~/.aws/credentials; use one that aws configure list-profiles shows (with --profile or AWS_PROFILE), or create it with aws configure --profile prod',
    });
  });

  it('names an unknown AWS_PROFILE and the files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name', async () => {
    const result = await cli(
      ['status'],
      {
        AWS_PROFILE: 'prod',
        AWS_CONFIG_FILE: '/etc/aws/config',
        AWS_SHARED_CREDENTIALS_FILE: '/etc/aws/creds',
      },
      failing(noCredentials()),
    );
    expect(result.stderr).toBe(
      'error: the AWS profile "prod" (from AWS_PROFILE) is not defined: no [profile prod] in /etc/aws/config (AWS_CONFIG_FILE) and no [prod] in /etc/aws/creds (AWS_SHARED_CREDENTIALS_FILE); use one that aws configure list-profiles shows (with --profile or AWS_PROFILE), or create it with aws configure --profile prod',
    );
  });

  it('says how to get credentials for a profile that is defined', async () => {
    const result = await cli(['status', '--profile', 'dev'], env, failing(noCredentials()));
    expect(result.stderr).toBe(
      'error: the AWS profile "dev" (from --profile) gave no credentials; run aws sso login --profile dev if it uses SSO, else check its keys in ~/.aws/config or ~/.aws/credentials',
    );
  });

  it('keeps the general message when no profile was asked for', async () => {
    expect(await cli(['status'], env, failing(noCredentials()))).toMatchObject({
      code: 1,
      stderr: 'error: no AWS credentials found; set AWS_PROFILE or pass --profile (or run aws sso login)',
    });
  });

  it('reads profiles as the AWS CLI does', () => {
    expect(['default', 'dev', 'ci', 'corp', 'prod'].map((p) => profileIsDefined(p, env))).toEqual([
      true,
      true,
      true,
      false, // an sso-session section is not a profile
      false,
    ]);
    expect(profileIsDefined('default', { HOME: join(home, 'elsewhere') })).toBe(false);
  });
});

describe('other errors', () => {
  it.each<[Error, string]>([
    [new Error('the flag guard failed: boom'), 'error: the flag guard failed: boom'],
    [new Error('Error: boom'), 'error: boom'],
    [new Error('AWS SDK error wrapper for Error: boom'), 'error: boom'],
    [new TypeError('x is not a function'), 'error: TypeError: x is not a function'],
    [
      Object.assign(new Error('InternalError: try later'), { name: 'InternalError' }),
      'error: InternalError: try later',
    ],
  ])('prints %s with one prefix', async (error, message) => {
    expect(await cli(['status'], {}, failing(error))).toEqual({ code: 1, stdout: '', stderr: message });
  });
});
