/**
 * `--dry-run` when the live state cannot be read: the plan from the environment file alone, said to be
 * one, checked with the same contract and rules; the rules' refusals stay refusals. `main` in process
 * with an SSM client that fails as the SDK does, and the bundled CLI as a newcomer runs it: no
 * credentials, no region, the embedded demo.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type Connection, main } from '../../lib/cli/main';
import { DEMO_CONFIG_INPUT } from '../../lib/config/demo';

const dir = mkdtempSync(join(tmpdir(), 'dry-run-'));

/** The demo with `users` changed by `mutate`, as a file. */
function demoFile(mutate: (users: Record<string, unknown>) => void): string {
  const input = JSON.parse(JSON.stringify(DEMO_CONFIG_INPUT));
  mutate(input.services[0]);
  const path = join(dir, `env-${Math.random().toString(36).slice(2, 8)}.json`);
  writeFileSync(path, JSON.stringify(input));
  return path;
}

const fails = (error: Error) => ({ send: async () => Promise.reject(error) }) as unknown as SSMClient;
const noCredentials = () =>
  Object.assign(new Error('Could not load credentials from any providers'), {
    name: 'CredentialsProviderError',
  });
const notDeployed = () =>
  Object.assign(new Error('Parameter /demo/migration/users/routing not found.'), {
    name: 'ParameterNotFound',
  });

async function cli(argv: string[], error: Error = noCredentials()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: {},
    connect: () =>
      ({
        ssm: fails(error),
        stepFunctions: async () => Promise.reject(error),
      }) as Connection,
    sleep: async () => {},
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('a dry run that cannot read the live state', () => {
  it('shows what route users would write, from the configuration alone, and says so', async () => {
    const result = await cli(['route', 'users', 'users', '42', '--dry-run', '--reason', 'pilot']);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'dry run from the configuration alone: the live state could not be read (no AWS credentials found; set AWS_PROFILE or pass --profile (or run aws sso login))',
        'assuming users\'s flags as its first deploy creates them (routing "off", cutover not done, gateway weight 0); the live ones may differ, and a live dry run checks against them',
        'dry run: would write /demo/migration/users/routing: {"mode":"users","users":["42"],"percent":0,"reason":"pilot"}',
      ].join('\n'),
    });
  });

  it.each([
    [
      'percent',
      ['route', 'users', 'percent', '10'],
      '/demo/migration/users/routing: {"mode":"percent","users":[],"percent":10}',
    ],
    [
      'all',
      ['route', 'users', 'all'],
      '/demo/migration/users/routing: {"mode":"all","users":[],"percent":0}',
    ],
    ['gateway 0', ['gateway', 'users', '0'], '/demo/migration/users/gateway: {"weight":0}'],
  ])('plans %s when the flags are not deployed yet', async (_n, args, written) => {
    const result = await cli([...args, '--dry-run'], notDeployed());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('a flag parameter does not exist');
    expect(result.stdout).toContain(`dry run: would write ${written}`);
  });

  it('keeps the gateway rule: a weight above 0 is refused while routing is "off" and no cutover is recorded', async () => {
    const result = await cli(['gateway', 'users', '25', '--dry-run'], notDeployed());
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /the gateway weight moves only once every user is on the service: routing is "off" and no cutover is recorded.*npm run migrate -- route users all/,
    );
    expect(result.stderr).toMatch(/assuming users's flags as its first deploy creates them/);
    expect(result.stdout).not.toContain('would write');
  });

  it('plans a weight above 0 once the file records the cutover', async () => {
    const path = demoFile((users) => {
      users.cutoverRecorded = { runId: 'users-cutover-1', completedAt: '2026-11-26T10:00:00Z' };
    });
    const result = await cli(['gateway', 'users', '25', '--dry-run', '--config', path]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('dry run: would write /demo/migration/users/gateway: {"weight":25}');
  });

  it('plans the cutover of a service at phase 2 or later', async () => {
    const result = await cli(['cutover', 'users', '--confirm', 'users', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/dry run: would start demo-users-cutover/);
  });

  it('keeps the rules: a route away from "all" after a cutover the file records is refused', async () => {
    const path = demoFile((users) => {
      users.cutoverRecorded = { runId: 'users-cutover-1', completedAt: '2026-11-26T10:00:00Z' };
    });
    const result = await cli(['route', 'users', 'off', '--dry-run', '--config', path]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/routing must stay "all"/);
    expect(result.stdout).toBe('');
  });

  it.each([
    [
      'phase 0',
      (u: Record<string, unknown>) => (u.phase = 0),
      ['route', 'users', 'all'],
      /at phase 0: its flags exist from phase 1/,
    ],
    [
      'gateway before phase 3',
      (u: Record<string, unknown>) => (u.phase = 1),
      ['gateway', 'users', '50'],
      /the gateway weight applies from phase 3/,
    ],
  ])('refuses what a live run refuses: %s', async (_n, mutate, args, message) => {
    const result = await cli([...args, '--dry-run', '--config', demoFile(mutate)]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(message);
  });

  it('cannot plan a rollback without the history, and says why', async () => {
    const result = await cli(['rollback', 'users', '--dry-run']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /a rollback goes back to an earlier version of .*routing, and its history could not be read: error: no AWS credentials found/,
    );
  });

  it('without --dry-run still fails on what it cannot read', async () => {
    const result = await cli(['route', 'users', 'all']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no AWS credentials found/);
  });

  it('works for a newcomer: npx migrate (bin/migrate.cjs), no credentials, no region, the embedded demo', () => {
    const root = join(__dirname, '..', '..');
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    // What `npx migrate` runs: bin/migrate.cjs, TypeScript through tsx (it once could not load a command).
    const result = spawnSync(
      process.execPath,
      [join(root, 'bin', 'migrate.cjs'), 'route', 'users', 'users', '42', '--dry-run'],
      {
        encoding: 'utf8',
        cwd: root,
        env: { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' },
      },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^dry run from the configuration alone: the live state could not be read \(/,
    );
    expect(result.stdout).toContain(
      'dry run: would write /demo/migration/users/routing: {"mode":"users","users":["42"],"percent":0}',
    );
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(
      'npx migrate route users users 42 --dry-run',
    );
  });
});
