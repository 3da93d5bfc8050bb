import { statSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, buildSync } from 'esbuild';

const ROOT = join(__dirname, '..', '..');

/**
 * How every hook is bundled: ESM for Node.js 24 with the AWS SDK inside (loading it from the runtime's
 * node_modules costs most of a cold start), minified, modules before main. Split into chunks: what a
 * module imports with `import()` (the clients a hook makes on first use, lambda/shared/lazy.ts, and the
 * SDK's own lazily loaded parts) is a file of its own that Node parses only when it is imported. The
 * credential providers a Lambda never reaches are left out: the runtime gives credentials in the
 * environment, and the SDK loads the others (SSO, INI files, processes, web identity, instance metadata)
 * only when those are missing. test/constructs/hook-bundles.test.ts bundles each hook with these
 * options, keeps what it loads at start under HOOK_BUNDLE_MAX_BYTES and runs it with environment
 * credentials.
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

/** The most a hook's bundle may load when it starts (its entry and the chunks that imports), in bytes. */
export const HOOK_BUNDLE_MAX_BYTES = 400 * 1024;

/** The entry file of each hook's bundle (its handler is `index.handler`), beside its chunks. */
const ENTRY_NAME = 'index';
export const HOOK_BUNDLE_FILE = `${ENTRY_NAME}.mjs`;

/**
 * Whether the hooks run with source maps (written next to the bundle and enabled with
 * `--enable-source-maps`). Off: measured, they cost up to a third of the cold-start margin, and every
 * hook reports its failures by message and context, not by stack trace (docs/decisions/0009, which says
 * how to turn them on to debug).
 */
export const HOOK_SOURCE_MAPS = false;

/**
 * The esbuild options of one hook's bundle, written to `outdir` (HOOK_BUNDLE_FILE and its chunks), for
 * the deploy (HookFunction), the tests and the bench.
 */
export function hookBuildOptions(hook: string, outdir: string, sourceMaps = HOOK_SOURCE_MAPS): BuildOptions {
  return {
    entryPoints: { [ENTRY_NAME]: join(ROOT, 'lambda', hook, 'handler.ts') },
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunk-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: HOOK_BUNDLE_TARGET,
    minify: true,
    sourcemap: sourceMaps,
    mainFields: [...HOOK_MAIN_FIELDS],
    external: [...UNUSED_CREDENTIAL_PROVIDERS, ...(hook === 'write-back' ? ['pg-native'] : [])],
    ...(COMMONJS_REQUIRE_BANNER[hook] ? { banner: { js: COMMONJS_REQUIRE_BANNER[hook] } } : {}),
    outdir,
    logLevel: 'error',
  };
}

/**
 * Hooks whose bundle holds CommonJS packages that `require` Node's built-in modules (the write-back
 * function's `pg`): in an ES module bundle esbuild's `require` shim throws "Dynamic require of ... is not
 * supported" unless the module has a `require` of its own, which this banner gives every file of the
 * bundle (entry and chunks). Only these hooks get it, so the others' bundles stay as they are.
 */
const COMMONJS_REQUIRE_BANNER: Readonly<Record<string, string>> = {
  'write-back':
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
};

/** The NODE_OPTIONS of every hook. */
export const HOOK_NODE_OPTIONS = HOOK_SOURCE_MAPS ? '--enable-source-maps' : '';

/**
 * The files of a built hook bundle (in `dir`) that Node loads when the hook starts, with their sizes in
 * bytes: the entry and every chunk it imports statically, not those behind an `import()`. Read off the
 * bundle itself by esbuild, so it is what was built, whatever built it.
 */
export function startupFiles(dir: string): Record<string, number> {
  const { metafile } = buildSync({
    entryPoints: [join(dir, HOOK_BUNDLE_FILE)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    absWorkingDir: dir,
    logLevel: 'silent',
  });
  const loaded: Record<string, number> = {};
  const visit = (file: string) => {
    if (file in loaded) return;
    loaded[file] = statSync(join(dir, file)).size;
    for (const i of metafile.inputs[file]?.imports ?? [])
      if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(HOOK_BUNDLE_FILE);
  return loaded;
}
