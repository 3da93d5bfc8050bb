import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildMigrationApp, type MigrationStacks } from '../../lib/app';
import { DEMO_CONFIG_INPUT } from '../../lib/config/demo';
import type { MigrationConfig } from '../../lib/config/types';
import { albMode, allAtPhase, config, demoInput } from './config-input';

export { albMode, allAtPhase, config, demoInput };

const CDK_JSON = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

export interface TestAppOptions {
  readonly bundle?: boolean;
  readonly outdir?: string;
  /**
   * Run CDK's built-in CloudFormation Validate at synth, as `cdk synth` does. It more than doubles a
   * synthesis, so only the apps of test/stacks/validation.cases.ts (the demo in every phase and mode)
   * run it; the shared demo and the variants built for one property each do not.
   */
  readonly validate?: boolean;
  /** Context on top of cdk.json's, as `cdk synth` adds the committed cdk.context.json (a lookup's result). */
  readonly context?: Record<string, unknown>;
}

/**
 * Every test app is built here: it loads cdk.json's context (feature flags), as `cdk synth` does, and
 * skips Lambda bundling so tests stay fast. A bare `new App()` silently differs from the real synth.
 * It records no stack traces (of each resource's creation, and of each annotation): they go to the
 * cloud assembly's metadata, never into a template, and under jest's source-map support capturing
 * them cost a fifth of a synthesis.
 */
export function testApp(options: TestAppOptions = {}): App {
  return new App({
    outdir: options.outdir,
    builtinCloudFormationValidation: options.validate ?? false,
    context: {
      ...CDK_JSON.context,
      'aws:cdk:disable-creation-stack-traces': true,
      'aws:cdk:disable-stack-trace': true,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
}

/**
 * A second service for the demo: `orders` at phase 3 (in `alb` mode unless told), two routes, a bulk
 * migration. The variants that add or reorder services use this one.
 */
export function ordersService(gateway: 'krakend' | 'alb' = 'alb') {
  return {
    name: 'orders',
    phase: 3,
    gateway,
    image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
    port: 80,
    healthCheckPath: '/',
    routes: [
      { path: '/api/orders/{id}', methods: ['GET'], servicePath: '/v2/orders/{id}' },
      { path: '/api/orders', methods: ['GET', 'POST'], servicePath: '/v2/orders' },
    ],
    bulkMigration: { command: ['/app/orders', 'migrate'], verify: ['/app/orders', 'verify'] },
  };
}

/** Builds every stack of a configuration in a fresh test app. */
export function buildStacks(
  cfg: MigrationConfig = config(),
  options: TestAppOptions = {},
): MigrationStacks & { app: App } {
  const app = testApp(options);
  return { app, ...buildMigrationApp(app, cfg) };
}

type BuiltApp = MigrationStacks & { app: App };
const shared = new Map<string, BuiltApp>();

/**
 * The stacks of a config input (default: the demo's), built once per distinct input in a module
 * registry and shared: the case files ask for the same variants (the demo at phase 0 or 1, in either
 * routing mode) again and again. Read them, never add to them: CDK refuses a construct added after
 * the first synthesis, and a test that changes an app builds its own with buildStacks.
 */
export function sharedStacks(input: unknown = DEMO_CONFIG_INPUT): BuiltApp {
  const key = JSON.stringify(input);
  let built = shared.get(key);
  if (!built) {
    // Parsed from the key: a caller that changes its input afterwards cannot change the shared app.
    built = buildStacks(config(JSON.parse(key)));
    shared.set(key, built);
  }
  return built;
}

/**
 * The stacks of the embedded demo, shared (sharedStacks); validation.cases.ts builds and validates the
 * same input as `cdk synth` does.
 */
export function demoStacks(): BuiltApp {
  return sharedStacks();
}

/** The template of the stack with that id suffix (e.g. `30-platform`) in a fresh build. */
export function templateOf(stacks: MigrationStacks, idSuffix: string): Template {
  const stack = stacks.all.find((s) => s.stackName.endsWith(idSuffix));
  if (!stack)
    throw new Error(`no stack ending in ${idSuffix}: ${stacks.all.map((s) => s.stackName).join(', ')}`);
  return Template.fromStack(stack);
}

/**
 * How an agnostic template spells the ARN of the demo's `users` parameter of that kind (path after
 * `users/`), or of a pattern with `*` for the service (lib/patterns.ts).
 */
export function demoParameterArn(kind: string, service = 'users') {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':ssm:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:parameter/demo/migration/${service}/${kind}`,
      ],
    ],
  };
}

/** A value built on first use and then kept: test data that only the tests needing it build. */
export function once<T>(build: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: build() };
    return value.v;
  };
}

/**
 * A record whose values are built on first access (and kept), for tables of variants: a variant that
 * fails to build fails the tests that read it, not the whole suite at import.
 */
export function lazyRecord<T>(builders: Record<string, () => T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, build] of Object.entries(builders))
    Object.defineProperty(out, key, { enumerable: true, get: once(build) });
  return out;
}

/**
 * Every template of the app built from a variant of the demo input, by stack name: the shared app's
 * (sharedStacks), so the stateful guard and the deploy-proof matrix, which ask for the same phase
 * shapes, synthesize each once. Read-only: the same objects go to every caller.
 */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
export function templatesOf(mutate: (input: any) => void = () => {}): Record<string, any> {
  const input = demoInput();
  mutate(input);
  const built = sharedStacks(input);
  const assembly = built.app.synth();
  return Object.fromEntries(
    built.all.map((s) => [s.stackName, assembly.getStackByName(s.stackName).template]),
  );
}
