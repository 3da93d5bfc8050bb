/**
 * `route <service> users|percent` for a service none of whose routes names an identity: the flag
 * contract accepts it, yet the routing proxy can identify nobody, so nobody would move. The CLI refuses
 * it with the fix, before reading or writing anything (`main` in process; SSM fails if it is reached).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type Connection, main } from '../../lib/cli/main';
import { demoInput } from '../helpers/config-input';

const dir = mkdtempSync(join(tmpdir(), 'identity-check-'));
const reached = Object.assign(new Error('reached SSM'), { name: 'ReachedSsm' });

/** The demo with users at phase 1, changed by `mutate`, as a file. */
// biome-ignore lint/suspicious/noExplicitAny: a raw config input (demoInput)
function demoFile(mutate: (input: any) => void): string {
  const input = demoInput();
  input.services[0].phase = 1;
  mutate(input);
  const path = join(dir, `env-${Math.random().toString(36).slice(2, 8)}.json`);
  writeFileSync(path, JSON.stringify(input));
  return path;
}

// biome-ignore lint/suspicious/noExplicitAny: a raw config input (demoInput)
const noIdentities = (input: any) => {
  for (const r of input.services[0].routes) delete r.identity;
};

async function cli(argv: string[]) {
  const err: string[] = [];
  const out: string[] = [];
  const code = await main(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: {},
    connect: () =>
      ({
        ssm: { send: async () => Promise.reject(reached) } as unknown as SSMClient,
        stepFunctions: async () => Promise.reject(reached),
      }) as Connection,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('users and percent for a service that identifies nobody', () => {
  it.each([
    ['users', ['route', 'users', 'users', '42']],
    ['percent', ['route', 'users', 'percent', '10']],
    ['users, as a dry run', ['route', 'users', 'users', '42', '--dry-run']],
  ])('refuses %s with the fix, reading nothing', async (_n, args) => {
    const result = await cli([...args, '--config', demoFile(noIdentities)]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^refused: users has no route with an identity \(services\[0\]\.routes\[\]\.identity\), so the routing proxy identifies no request of it and "(users|percent)" would move nobody\. Set each route's identity .* and deploy, or move everyone with: route users all$/,
    );
  });

  it('says so when the service has no routes at all', async () => {
    const result = await cli([
      'route',
      'users',
      'percent',
      '5',
      '--config',
      demoFile((input) => {
        input.services[0].routes = [];
      }),
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^refused: users has no routes /);
  });

  it.each([
    ['all and off, which need no identity', noIdentities, ['route', 'users', 'all']],
    ['users, when one route has an identity', () => {}, ['route', 'users', 'users', '42']],
    [
      'users, when the monolith routes itself',
      // biome-ignore lint/suspicious/noExplicitAny: a raw config input (demoInput)
      (input: any) => {
        noIdentities(input);
        input.routing = { mode: 'in-app' };
      },
      ['route', 'users', 'users', '42'],
    ],
  ])('lets through %s', async (_n, mutate, args) => {
    const result = await cli([...args, '--config', demoFile(mutate)]);
    expect(result.stderr).toMatch(/ReachedSsm/);
  });
});
