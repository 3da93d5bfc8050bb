/**
 * How every hook is bundled: one ESM file for Node.js 24 with the AWS SDK inside (loading it from the
 * runtime's node_modules costs most of a cold start), minified, modules before main. The credential
 * providers a Lambda never reaches are left out: the runtime gives credentials in the environment, and
 * the SDK loads the others (SSO, INI files, processes, web identity, instance metadata) only when those
 * are missing. test/constructs/hook-bundles.test.ts bundles each hook with these options, keeps it under
 * HOOK_BUNDLE_MAX_BYTES and runs it with environment credentials.
 */
export const HOOK_BUNDLE_TARGET = 'node24';

/** Modules the hooks' bundles leave out: never loaded with environment credentials. */
export const UNUSED_CREDENTIAL_PROVIDERS: readonly string[] = [
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
export const HOOK_MAIN_FIELDS: readonly string[] = ['module', 'main'];

/** The largest hook bundle the tests accept. */
export const HOOK_BUNDLE_MAX_BYTES = 400 * 1024;
