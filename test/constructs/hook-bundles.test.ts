/**
 * Every hook bundled as the deploy bundles it (lib/constructs/hook-bundling.ts): small enough, and it
 * runs with environment credentials although the other credential providers are left out.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedBuild } from '../../lib/bundling/cached-build';
import {
  HOOK_BUNDLE_FILE,
  HOOK_BUNDLE_MAX_BYTES,
  hookBuildOptions,
} from '../../lib/constructs/hook-bundling';

const ROOT = join(__dirname, '..', '..');
const hooks = readdirSync(join(ROOT, 'lambda')).filter((d) => d !== 'shared');
const out = mkdtempSync(join(tmpdir(), 'hooks-'));

const bundleOf = (hook: string) => join(out, hook, HOOK_BUNDLE_FILE);

beforeAll(() => {
  for (const hook of hooks)
    cachedBuild(`hook-${hook}`, hookBuildOptions(hook, bundleOf(hook)), join(out, hook));
});

describe('the hook bundles', () => {
  it.each(hooks)('%s stays under 400 KB with the AWS SDK inside', (hook) => {
    expect(hooks.length).toBeGreaterThanOrEqual(5);
    expect(statSync(bundleOf(hook)).size).toBeLessThan(HOOK_BUNDLE_MAX_BYTES);
  });

  it('runs with environment credentials, and needs the left-out providers only without them', () => {
    const script = join(out, 'run.mjs');
    writeFileSync(
      script,
      `const { handler } = await import(${JSON.stringify(bundleOf('flag-guard'))});
try { await handler({ detail: { name: '/demo/migration/users/routing' } }); } catch (e) { console.log(e.message); }`,
    );
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      HOME: out,
      MIGRATION_HOOK_CONFIG: JSON.stringify({
        envName: 'demo',
        parameterPrefix: '/demo/migration',
        tier: 'standard',
        alertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
        statesArnPrefix: 'arn:aws:states:eu-west-1:123456789012:',
        services: [{ name: 'users', phase: 2, gateway: 'krakend' }],
      }),
    };
    const withCredentials = spawnSync(process.execPath, [script], {
      env: { ...env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' },
      encoding: 'utf8',
    });
    // It got as far as calling SSM (nothing listens on port 9).
    expect(withCredentials.stdout).toMatch(/ECONNREFUSED 127\.0\.0\.1:9/);
    const without = spawnSync(process.execPath, [script], { env, encoding: 'utf8' });
    expect(without.stdout).toMatch(/Cannot find package '@aws-sdk\/credential-provider-/);
  });
});
