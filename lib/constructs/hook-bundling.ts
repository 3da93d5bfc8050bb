import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';

const ROOT = join(__dirname, '..', '..');

/**
 * How every hook is bundled: one ESM file for Node.js 24 with the AWS SDK inside (loading it from the
 * runtime's node_modules costs most of a cold start), minified, modules before main. The credential
 * providers a Lambda never reaches are left out: the runtime gives credentials in the environment, and
 * the SDK loads the others (SSO, INI files, processes, web identity, instance metadata) only when those
 * are missing. test/constructs/hook-bundles.test.ts bundles each hook with these options, keeps it under
 * HOOK_BUNDLE_MAX_BYTES and runs it with environment credentials.
 */
const HOOK_BUNDLE_TARGET = 'node24';

/** Modules the hooks' bundles leave out: never loaded with environment credentials. */
const UNUSED_CREDENTIAL_PROVIDERS: readonly string[] = [
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/token-providers',
  '@aws-sdk/client-sso',
  '@aws-sdk/client-sso-oidc',
  '@aws-sdk/client-sts',
];

/** esbuild's module resolution for the hooks: the SDK's ES modules tree-shake better. */
const HOOK_MAIN_FIELDS: readonly string[] = ['module', 'main'];

/** The largest hook bundle the tests accept. */
export const HOOK_BUNDLE_MAX_BYTES = 400 * 1024;

/** The file each hook's bundle is written to (its handler is `index.handler`). */
export const HOOK_BUNDLE_FILE = 'index.mjs';

/**
 * Whether the hooks run with source maps (written next to the bundle and enabled with
 * `--enable-source-maps`). Off: measured, they cost up to a third of the cold-start margin, and every
 * hook reports its failures by message and context, not by stack trace (docs/decisions/0009, which says
 * how to turn them on to debug).
 */
export const HOOK_SOURCE_MAPS = false;

/** The esbuild options of one hook's bundle, for the deploy (HookFunction), the tests and the bench. */
export function hookBuildOptions(hook: string, outfile: string, sourceMaps = HOOK_SOURCE_MAPS): BuildOptions {
  return {
    entryPoints: [join(ROOT, 'lambda', hook, 'handler.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: HOOK_BUNDLE_TARGET,
    minify: true,
    sourcemap: sourceMaps,
    mainFields: [...HOOK_MAIN_FIELDS],
    external: [...UNUSED_CREDENTIAL_PROVIDERS],
    outfile,
    logLevel: 'error',
  };
}

/** The NODE_OPTIONS of every hook. */
export const HOOK_NODE_OPTIONS = HOOK_SOURCE_MAPS ? '--enable-source-maps' : '';
