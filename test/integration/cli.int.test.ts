/**
 * The operator CLI against the SSM emulator, in process (`main` with the emulator's clients and the flag
 * guard called in process where the deployed CLI invokes the guard Lambda), plus a few runs of the
 * bundled CLI as a child process (`runCli`) for what only a real process shows: exit codes, stderr,
 * credentials from the environment.
 */
import { createServer } from 'node:net';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { type GuardDependencies, guard, type ParameterChangeDetail } from '../../lambda/flag-guard/handler';
import { Alerts } from '../../lambda/shared/alerts';
import { jsonLogger } from '../../lambda/shared/log';
import { main } from '../../lib/cli/main';
import type { GuardVerdict } from '../../lib/cli/run';
import type { FlagParameterNames } from '../../lib/flags/parameters';
import { hookService, ready, verifiedRun } from '../helpers/hooks';
import { createTopic, deployFlags, isolatedConfig, motoClients, runCli, versionsOf } from '../helpers/moto';

const { ssm, sns, sfn } = motoClients();
afterAll(() => {
  ssm.destroy();
  sns.destroy();
  sfn.destroy();
});

const changeEvent = (name: string) =>
  ({ detail: { name, operation: 'Update' } }) as EventBridgeEvent<string, ParameterChangeDetail>;

/** A deployed service at `phase` with its flags checked, as after a real deploy. */
async function deployed(phase = 1) {
  const env = isolatedConfig((input) => {
    input.services[0].phase = phase;
    // The write-back (test/integration/writes-follow-users.int.test.ts) is not what these tests are about.
    delete input.services[0].writeBack;
  });
  const names = await deployFlags(ssm, env.config);
  const topic = await createTopic(sns);
  const deps: GuardDependencies = {
    services: [hookService(env.config.flags.parameterPrefix, { phase })],
    ssm,
    sfn: ready(sfn),
    alerts: new Alerts(topic, ready(sns)),
    logger: jsonLogger('flag-guard', () => {}),
  };
  /** Runs the guard on each flag, as EventBridge would after a write. */
  const check = async () => {
    for (const name of Object.values(names)) await guard(changeEvent(name), deps);
  };
  await check();
  /** The CLI in process; an explicit --config in the arguments wins (the bad-input cases use it). */
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args.includes('--config') ? args : [...args, '--config', env.path], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: {},
      connect: () => ({
        ssm,
        stepFunctions: async () => sfn,
        checkNow: async (name) => (await guard(changeEvent(name), deps)) as GuardVerdict,
      }),
      sleep: async () => {},
    });
    return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.join('\n') };
  };
  return { names, cli, check, env, deps };
}

async function currentValue(name: string): Promise<string | undefined> {
  return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
}

describe('the CLI against the SSM emulator', () => {
  let names: FlagParameterNames;
  let cli: Awaited<ReturnType<typeof deployed>>['cli'];
  let check: () => Promise<void>;
  beforeAll(async () => {
    ({ names, cli, check } = await deployed());
  });

  it('routes chosen users, then a sticky percentage keeping them, with a reason', async () => {
    const users = await cli('route', 'users', 'users', '42', 'alice@example.com');
    expect(users).toMatchObject({ code: 0 });
    expect(users.stdout).toContain(`wrote ${names.routing} version 2`);
    expect(users.stdout).toContain(
      'live: the flag guard checked version 2 (last-good); readers use it within 15 s',
    );
    expect(await cli('route', 'users', 'percent', '10', '--reason', 'ramp up')).toMatchObject({
      code: 0,
      stderr: '',
    });
    expect(await currentValue(names.routing)).toBe(
      '{"mode":"percent","users":["42","alice@example.com"],"percent":10,"reason":"ramp up"}',
    );
    await check();
  });

  it('shows the status table with the last-good version and the writer', async () => {
    const { code, stdout } = await cli('status');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /service\s+phase\s+routing\s+percent\s+allowlist\s+cutover\s+gateway\s+last-good\s+last change\s+by/,
    );
    expect(stdout).toMatch(/users\s+1\s+percent\s+10\s+2\s+not done\s+0\s+v3/);
  });

  it('writes nothing on --dry-run', async () => {
    const before = await versionsOf(ssm, names.routing);
    const { code, stdout } = await cli('route', 'users', 'all', '--dry-run');
    expect(code).toBe(0);
    expect(stdout).toBe(
      `dry run: would write ${names.routing}: {"mode":"all","users":["42","alice@example.com"],"percent":10}\n`,
    );
    expect(await versionsOf(ssm, names.routing)).toEqual(before);
  });

  it('rolls back to the version validated before the current one', async () => {
    const { code, stdout } = await cli('rollback', 'users');
    expect(code).toBe(0);
    expect(stdout).toContain('back from version 3 to the content of version 2');
    expect(await currentValue(names.routing)).toBe(
      '{"mode":"users","users":["42","alice@example.com"],"percent":0}',
    );
  });

  it('lists the history newest first with labels', async () => {
    const { code, stdout } = await cli('history', 'users');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(names.routing);
    expect(lines[2]).toMatch(/^4\s.*last-good\s+\{"mode":"users"/);
    expect(lines).toHaveLength(2 + 4);
  });

  it('the guard also restores a raw aws ssm put-parameter the CLI would have refused', async () => {
    await ssm.send(
      new PutParameterCommand({
        Name: names.routing,
        Value: '{"mode":"users","users":[]}',
        Type: 'String',
        Overwrite: true,
      }),
    );
    await check();
    expect(await currentValue(names.routing)).toBe(
      '{"mode":"users","users":["42","alice@example.com"],"percent":0}',
    );
  });
});

describe('bad input changes nothing', () => {
  let names: FlagParameterNames;
  let cli: Awaited<ReturnType<typeof deployed>>['cli'];
  let phase0: ReturnType<typeof isolatedConfig>;
  beforeAll(async () => {
    ({ names, cli } = await deployed());
    phase0 = isolatedConfig((input) => {
      input.services[0].phase = 0;
    });
  });

  const cases: [string, string[], number, RegExp][] = [
    ['unknown command', ['flip', 'users'], 2, /unknown command "flip"/],
    ['missing service', ['route'], 2, /route needs a service name/],
    ['service name with capitals', ['route', 'Users', 'off'], 2, /"Users" is not a service name/],
    [
      'unknown service',
      ['route', 'orders', 'off'],
      2,
      /unknown service "orders"; the configuration has users/,
    ],
    ['missing mode', ['route', 'users'], 2, /route needs a mode: off, all, users <ids...> or percent <n>/],
    ['unknown mode', ['route', 'users', 'some'], 2, /unknown routing mode "some"/],
    ['mode in capitals', ['route', 'users', 'ALL'], 2, /unknown routing mode "ALL"/],
    ['percent 101', ['route', 'users', 'percent', '101'], 2, /percent 101 is out of range; use 0 to 100/],
    [
      'negative percent',
      ['route', 'users', 'percent', '-5'],
      2,
      /-5 is negative; percent and weight are whole numbers from 0 to 100/,
    ],
    [
      'fractional percent',
      ['route', 'users', 'percent', '12.5'],
      2,
      /percent "12.5" is not a whole number from 0 to 100/,
    ],
    [
      'percent without number',
      ['route', 'users', 'percent'],
      2,
      /percent needs a whole number from 0 to 100/,
    ],
    [
      'percent with two numbers',
      ['route', 'users', 'percent', '10', '20'],
      2,
      /route percent takes one number/,
    ],
    ['users without ids', ['route', 'users', 'users'], 2, /route users needs at least one user id/],
    ['user id with a space', ['route', 'users', 'users', 'a b'], 2, /"a b" is not a valid user id/],
    ['user id too long', ['route', 'users', 'users', 'x'.repeat(65)], 2, /is not a valid user id/],
    ['duplicate user id', ['route', 'users', 'users', '7', '7'], 2, /user "7" is listed twice/],
    [
      'off with an extra argument',
      ['route', 'users', 'off', 'now'],
      2,
      /route off takes no further arguments/,
    ],
    ['unknown option', ['route', 'users', 'off', '--force'], 2, /unknown option --force/],
    ['option without value', ['route', 'users', 'off', '--reason'], 2, /--reason needs a value/],
    [
      'reason too long',
      ['route', 'users', 'off', '--reason', 'x'.repeat(201)],
      2,
      /--reason is 201 characters; keep it under 200/,
    ],
    [
      'bad region',
      ['route', 'users', 'off', '--region', 'europe'],
      2,
      /--region "europe" is not a region code/,
    ],
    [
      'missing config file',
      ['route', 'users', 'off', '--config', '/nonexistent.json'],
      2,
      /cannot read it .*check the path/,
    ],
    ['gateway weight 150', ['gateway', 'users', '150'], 2, /weight 150 is out of range; use 0 to 100/],
    ['gateway weight not a number', ['gateway', 'users', 'half'], 2, /weight "half" is not a whole number/],
    [
      'gateway before phase 3',
      ['gateway', 'users', '50'],
      3,
      /users is at phase 1: the gateway weight applies from phase 3/,
    ],
    [
      'rollback of the gateway before phase 3',
      ['rollback', 'users', '--flag', 'gateway'],
      3,
      /no gateway weight to roll back before phase 3/,
    ],
    [
      'rollback of an unknown flag',
      ['rollback', 'users', '--flag', 'cutover'],
      2,
      /--flag "cutover" is not one of routing, gateway/,
    ],
    [
      'history of an unknown flag',
      ['history', 'users', '--flag', 'weights'],
      2,
      /--flag "weights" is not one of routing, cutover, gateway/,
    ],
    [
      'rollback with nothing earlier',
      ['rollback', 'users'],
      3,
      /no earlier valid version of .* to roll back to/,
    ],
    ['--flag on route', ['route', 'users', 'off', '--flag', 'routing'], 2, /--flag does not apply to route/],
    [
      'too many users for the standard tier',
      ['route', 'users', 'users', ...Array.from({ length: 400 }, (_, i) => `user-${100000 + i}`)],
      3,
      /over the 4096-byte limit; .*set flags.tier to "advanced"/,
    ],
  ];

  it.each(cases)('%s', async (_name, args, code, message) => {
    const before = await Promise.all(Object.values(names).map((n) => versionsOf(ssm, n)));
    const result = await cli(...args);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' });
    expect(result.stderr).toMatch(message);
    expect(await Promise.all(Object.values(names).map((n) => versionsOf(ssm, n)))).toEqual(before);
  });

  it('refuses a service still at phase 0 before calling AWS', async () => {
    const result = await cli('route', 'users', 'all', '--config', phase0.path);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/users is at phase 0: its flags exist from phase 1/);
  });

  it('says when the flag parameters do not exist, and creates none', async () => {
    const fresh = isolatedConfig();
    const result = await cli('route', 'users', 'all', '--config', fresh.path);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/a flag parameter does not exist .*deploy the service's data stack/);
    await expect(currentValue(`${fresh.config.flags.parameterPrefix}/users/routing`)).rejects.toThrow(
      /not found/,
    );
  });

  it('says when there are no credentials', () => {
    const result = runCli(['status', '--config', phase0.path.replace('env.json', 'missing.json')], {});
    expect(result.code).toBe(2);
    const noCreds = runCli(['route', 'users', 'off'], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    });
    expect(noCreds.code).toBe(1);
    expect(noCreds.stderr).toMatch(/no AWS credentials found; set AWS_PROFILE or pass --profile/);
    // The SDK says "Could not load credentials from any providers" for an unknown profile too.
    const unknownProfile = runCli(['route', 'users', 'off', '--profile', 'nosuch'], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    });
    expect(unknownProfile.code).toBe(1);
    expect(unknownProfile.stderr).toMatch(
      /^error: the AWS profile "nosuch" \(from --profile\) is not defined: no \[profile nosuch\] in \/nonexistent \(AWS_CONFIG_FILE\)/,
    );
  });
});

describe('after the point of no return (CLI and guard against the emulator)', () => {
  let names: FlagParameterNames;
  let cli: Awaited<ReturnType<typeof deployed>>['cli'];
  let check: () => Promise<void>;
  let deps: GuardDependencies;
  const put = (name: string, value: string) =>
    ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));

  beforeAll(async () => {
    ({ names, cli, check, deps } = await deployed(2));
    expect((await cli('route', 'users', 'percent', '40')).code).toBe(0);
    expect((await cli('route', 'users', 'all')).code).toBe(0);
    // What the cutover state machine writes when the bulk migration succeeded; the guard verifies its
    // run (a running execution whose migration exited 0: see flag-guard.int.test.ts) and records it.
    await put(
      names.cutover,
      '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"users-cutover-1"}',
    );
    const running = verifiedRun();
    await expect(guard(changeEvent(names.cutover), { ...deps, sfn: running })).resolves.toMatchObject({
      status: 'labelled',
    });
  });

  it.each([
    ['route off', ['route', 'users', 'off'], /routing must stay "all"/],
    ['route users', ['route', 'users', 'users', '42'], /routing must stay "all"/],
    ['route percent', ['route', 'users', 'percent', '99'], /routing must stay "all"/],
    [
      'rollback to the pre-cutover percentage',
      ['rollback', 'users'],
      /routing stays "all", and a rollback of routing is refused like every other route change/,
    ],
    [
      'a second cutover',
      ['cutover', 'users', '--confirm', 'users'],
      /the cutover of users is already recorded/,
    ],
    [
      '--accept-data-loss without the override parameter',
      ['route', 'users', 'off', '--accept-data-loss', 'INC-1 approved by CTO'],
      /key one, a checked, unexpired .*\/users\/override, is missing/,
    ],
  ])('the CLI refuses %s and writes nothing', async (_name, args, message) => {
    const before = await Promise.all(Object.values(names).map((n) => versionsOf(ssm, n)));
    const result = await cli(...args);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(message);
    expect(await Promise.all(Object.values(names).map((n) => versionsOf(ssm, n)))).toEqual(before);
  });

  it('the guard undoes raw writes that would route back to legacy or reopen the cutover', async () => {
    await put(names.routing, '{"mode":"percent","percent":40}');
    await put(names.cutover, '{"completed":false}');
    await check();
    expect(await currentValue(names.routing)).toBe('{"mode":"all","users":[],"percent":40}');
    expect(await currentValue(names.cutover)).toBe(
      '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"users-cutover-1"}',
    );
  });

  it('routes back to legacy only with both keys of the emergency override', async () => {
    const overrideName = names.routing.replace(/routing$/, 'override');
    const expiresAt = new Date(Date.now() + 2 * 3600_000).toISOString();
    await put(
      overrideName,
      JSON.stringify({ acceptDataLoss: true, reason: 'users DB corrupted, INC-4711', expiresAt }),
    );
    // Key one is checked (labelled) by the guard like every flag.
    await check();
    await guard(changeEvent(overrideName), deps);
    expect((await cli('route', 'users', 'off')).code).toBe(3);
    const result = await cli('route', 'users', 'off', '--accept-data-loss', 'INC-4711 approved by the CTO');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('EMERGENCY OVERRIDE (users DB corrupted, INC-4711');
    expect(result.stdout).toContain('live: the flag guard checked');
    // Key two is in the document, for the guard and every reader to see.
    expect(await currentValue(names.routing)).toBe(
      JSON.stringify({
        mode: 'off',
        users: [],
        percent: 40,
        override: { expiresAt, acceptDataLoss: 'INC-4711 approved by the CTO' },
      }),
    );
    const versions = await versionsOf(ssm, names.routing);
    expect(versions[versions.length - 1].labels).toEqual(['last-good']);
  });
});

describe('at phase 3 the gateway weight and routing agree (CLI and guard against the emulator)', () => {
  let names: FlagParameterNames;
  let cli: Awaited<ReturnType<typeof deployed>>['cli'];
  let check: () => Promise<void>;
  const put = (name: string, value: string) =>
    ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  const allVersions = () => Promise.all(Object.values(names).map((n) => versionsOf(ssm, n)));

  beforeAll(async () => {
    ({ names, cli, check } = await deployed(3));
  });

  it('the CLI refuses a weight above 0 while routing is "off" and no cutover is recorded, and writes nothing', async () => {
    const before = await allVersions();
    const result = await cli('gateway', 'users', '50');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /the gateway weight moves only once every user is on the service: routing is "off" and no cutover is recorded, so the ALB would send 50 % of all users to the service.*Route everyone first: npm run migrate -- route users all/,
    );
    expect(result.stdout).toBe('');
    expect(await allVersions()).toEqual(before);
  });

  it('the guard restores a raw weight write made while routing is "off"', async () => {
    await put(names.gateway, '{"weight":50}');
    await check();
    expect(await currentValue(names.gateway)).toBe('{"weight":0}');
    const versions = await versionsOf(ssm, names.gateway);
    expect(versions[versions.length - 1].labels).toEqual(['last-good']);
  });

  it('moves the weight once everyone is on the service', async () => {
    expect(await cli('route', 'users', 'all')).toMatchObject({ code: 0, stderr: '' });
    const result = await cli('gateway', 'users', '50');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('live: the flag guard checked');
    expect(await currentValue(names.gateway)).toBe('{"weight":50}');
  });

  it('the CLI refuses to narrow routing while the weight is above 0, naming gateway 0 first, and writes nothing', async () => {
    const before = await allVersions();
    const result = await cli('route', 'users', 'off');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /routing narrows only once the gateway weight is 0: the ALB sends 50 % of all users to the service.*Run npm run migrate -- gateway users 0 first/,
    );
    expect(await allVersions()).toEqual(before);
  });

  it('the guard restores a raw routing write that narrows routing while the weight is above 0', async () => {
    await put(names.routing, '{"mode":"off","users":[],"percent":0}');
    await check();
    expect(await currentValue(names.routing)).toBe('{"mode":"all","users":[],"percent":0}');
  });

  it('narrows routing once the weight is back at 0', async () => {
    expect(await cli('gateway', 'users', '0')).toMatchObject({ code: 0, stderr: '' });
    expect(await cli('route', 'users', 'off')).toMatchObject({ code: 0, stderr: '' });
    expect(await currentValue(names.routing)).toBe('{"mode":"off","users":[],"percent":0}');
  });
});

describe('the bundled CLI as a process', () => {
  it('names the endpoint it cannot reach and what to check', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const result = runCli(['status'], { AWS_ENDPOINT_URL: `http://127.0.0.1:${closedPort}` });
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `error: cannot reach 127.0.0.1:${closedPort} (ECONNREFUSED, connection refused) for region eu-west-1; check the region (--region, AWS_REGION), AWS_ENDPOINT_URL (http://127.0.0.1:${closedPort}), and the network (VPN, proxy, firewall)\n`,
    });
  });

  it('takes the file from MIGRATE_CONFIG and the region from AWS_DEFAULT_REGION, and says when no guard confirmed a write', async () => {
    const { env, names } = await deployed();
    const result = runCli(['route', 'users', 'all'], {
      MIGRATE_CONFIG: env.path,
      AWS_REGION: '',
      AWS_DEFAULT_REGION: 'eu-west-1',
      MIGRATE_CONFIRM_TIMEOUT_SECONDS: '0',
    });
    // The emulator runs no Lambda: the CLI cannot ask the guard, waits for its own check, and says so.
    expect(result.stdout).toContain(`wrote ${names.routing} version 2`);
    expect(result.stdout).toMatch(/could not ask the flag guard directly \(ResourceNotFoundException/);
    expect(result.stderr).toMatch(
      /has not checked it within 0 s, so readers still use the previous checked version/,
    );
    expect(result.code).toBe(1);
  });
});
