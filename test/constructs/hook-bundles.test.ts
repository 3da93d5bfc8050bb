/**
 * Every hook bundled as the deploy bundles it (lib/constructs/hook-bundling.ts): what it loads when it
 * starts is small enough, its lazily loaded chunks are there and work, and it runs with environment
 * credentials although the other credential providers are left out.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { cachedBuild } from '../../lib/bundling/cached-build';
import {
  HOOK_BUNDLE_FILE,
  HOOK_BUNDLE_MAX_BYTES,
  hookBuildOptions,
  startupFiles,
} from '../../lib/constructs/hook-bundling';
import { type HookEnvironment, hookServices } from '../../lib/hooks/contract';
import type { WriteBackEnvironment } from '../../lib/write-back/contract';
import {
  createTopic,
  deployFlags,
  isolatedConfig,
  motoClientConfig,
  motoClients,
  motoEndpoint,
  REGION,
} from '../helpers/moto';
import { freshDatabases, postgresUrl, sql } from '../helpers/postgres';
import { seedLegacy } from '../standins/monolith';
import { createServiceSchema, USERS_WRITE_BACK } from '../standins/users-service';

const ROOT = join(__dirname, '..', '..');
const hooks = readdirSync(join(ROOT, 'lambda')).filter((d) => d !== 'shared');
const out = mkdtempSync(join(tmpdir(), 'hooks-'));

const dirOf = (hook: string) => join(out, hook);
const bundleOf = (hook: string) => join(dirOf(hook), HOOK_BUNDLE_FILE);

/** Runs a bundled hook's handler once in a Node process of its own; prints its result or its error. */
function runBundled(hook: string, event: unknown, env: NodeJS.ProcessEnv) {
  const script = join(out, `run-${hook}.mjs`);
  writeFileSync(
    script,
    `const { handler } = await import(${JSON.stringify(bundleOf(hook))});
try { console.log(JSON.stringify(await handler(${JSON.stringify(event)}))); } catch (e) { console.log(e.message); }`,
  );
  return spawnSync(process.execPath, [script], {
    env: {
      PATH: process.env.PATH,
      HOME: out,
      AWS_REGION: REGION,
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    encoding: 'utf8',
  });
}

const { ssm, sns, sfn } = motoClients();
afterAll(() => {
  for (const client of [ssm, sns, sfn]) client.destroy();
});

beforeAll(() => {
  for (const hook of hooks) cachedBuild(`hook-${hook}`, hookBuildOptions(hook, dirOf(hook)), dirOf(hook));
});

describe('the hook bundles', () => {
  it.each(hooks)('%s loads under 400 KB when it starts, with the AWS SDK inside', (hook) => {
    expect(hooks.length).toBeGreaterThanOrEqual(5);
    const loaded = startupFiles(dirOf(hook));
    expect(Object.keys(loaded)).toContain(HOOK_BUNDLE_FILE);
    const bytes = Object.values(loaded).reduce((a, b) => a + b, 0);
    expect(bytes).toBeLessThan(HOOK_BUNDLE_MAX_BYTES);
  });

  it('leaves the clients made on first use out of what flag-guard loads when it starts', () => {
    // Each client's code names its service's Smithy namespace.
    const dir = dirOf('flag-guard');
    const holding = (namespace: string) =>
      readdirSync(dir).filter((f) => readFileSync(join(dir, f), 'utf8').includes(`"${namespace}"`));
    const loaded = Object.keys(startupFiles(dir));
    expect(holding('com.amazonaws.ssm').filter((f) => loaded.includes(f))).not.toEqual([]);
    for (const lazy of ['com.amazonaws.sfn', 'com.amazonaws.sns']) {
      expect(holding(lazy)).not.toEqual([]);
      expect(holding(lazy).filter((f) => loaded.includes(f))).toEqual([]);
    }
  });

  it('loads its SNS client on the first alert: auto-rollback, bundled, alerts through the emulator', async () => {
    const { config } = isolatedConfig();
    await deployFlags(ssm, config);
    const env: HookEnvironment = {
      envName: config.name,
      parameterPrefix: config.flags.parameterPrefix,
      tier: 'standard',
      alertTopicArn: await createTopic(sns),
      statesArnPrefix: `arn:aws:states:${REGION}:123456789012:`,
      services: [{ name: 'users', phase: 1, gateway: 'krakend' }],
    };
    const alarmName = hookServices(env)[0].alarmNames[0];
    const run = runBundled(
      'auto-rollback',
      { detail: { alarmName, state: { value: 'ALARM', reason: 'test' } } },
      {
        AWS_ENDPOINT_URL: motoEndpoint(),
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        MIGRATION_HOOK_CONFIG: JSON.stringify(env),
      },
    );
    // "done" comes after the alert: a publish that failed (a chunk missing) would print its error.
    expect(run.stdout).toMatch(/^\{"status":"done"/m);
  });

  it('write-back, bundled: signs in with its Secrets Manager credentials over verified TLS and drains', async () => {
    const dbs = await freshDatabases();
    try {
      await seedLegacy(dbs.legacy, [{ id: '7', email: 'seven@example.com', password: 'old' }]);
      await createServiceSchema(dbs.service);
      await sql(
        dbs.service,
        `INSERT INTO migration_outbox (user_id, legacy_table, legacy_key, operation, legacy_row)
         VALUES ('7', 'users', '{"id":"7"}', 'upsert', '{"display_name":"Seven"}')`,
      );
      const secrets = new SecretsManagerClient(motoClientConfig());
      const secret = async (name: string) =>
        (
          await secrets.send(
            new CreateSecretCommand({
              Name: `${name}-${Date.now()}`,
              SecretString: JSON.stringify({ username: 'postgres', password: 'unused' }),
            }),
          )
        ).ARN as string;
      const { config } = isolatedConfig();
      const names = await deployFlags(ssm, config);
      const port = Number(new URL(postgresUrl()).port);
      const target = async (url: string, name: string) => ({
        host: '127.0.0.1',
        port,
        database: new URL(url).pathname.slice(1),
        secretArn: await secret(name),
      });
      const env: WriteBackEnvironment = {
        service: 'users',
        cutoverParameter: names.cutover,
        cutoverRecorded: false,
        legacy: await target(dbs.legacy, 'legacy'),
        outbox: await target(dbs.service, 'outbox'),
        tables: USERS_WRITE_BACK,
      };
      secrets.destroy();
      const run = (ca: string | undefined) =>
        runBundled(
          'write-back',
          { action: 'drain' },
          {
            AWS_ENDPOINT_URL: motoEndpoint(),
            AWS_ACCESS_KEY_ID: 'testing',
            AWS_SECRET_ACCESS_KEY: 'testing',
            MIGRATION_WRITE_BACK_CONFIG: JSON.stringify(env),
            ...(ca ? { NODE_EXTRA_CA_CERTS: ca } : {}),
          },
        );
      // Without the server's certificate authority, TLS verification refuses the connection.
      expect(run(undefined).stdout).toMatch(/self-signed certificate/);
      const drained = run(process.env.POSTGRES_CERTIFICATE);
      expect(drained.stdout).toMatch(/^\{"action":"drain","status":"drained","applied":1,/m);
      expect(await sql(dbs.legacy, "SELECT display_name FROM users WHERE id = '7'")).toEqual([
        { display_name: 'Seven' },
      ]);
    } finally {
      await dbs.drop();
    }
  });

  it('runs with environment credentials, and needs the left-out providers only without them', () => {
    const env = {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      MIGRATION_HOOK_CONFIG: JSON.stringify({
        envName: 'demo',
        parameterPrefix: '/demo/migration',
        tier: 'standard',
        alertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
        statesArnPrefix: 'arn:aws:states:eu-west-1:123456789012:',
        services: [{ name: 'users', phase: 2, gateway: 'krakend' }],
      }),
    };
    const event = { detail: { name: '/demo/migration/users/routing' } };
    const withCredentials = runBundled('flag-guard', event, {
      ...env,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
    });
    // It got as far as calling SSM (nothing listens on port 9).
    expect(withCredentials.stdout).toMatch(/ECONNREFUSED 127\.0\.0\.1:9/);
    const without = runBundled('flag-guard', event, env);
    expect(without.stdout).toMatch(/Cannot find package '@aws-sdk\/credential-provider-/);
  });
});
