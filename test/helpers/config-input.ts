/**
 * The demo's config input and its parser, for tests. Without aws-cdk-lib: the config, contract and
 * proxy tests need only these, and test/helpers/test-app.ts (which builds apps) re-exports them.
 */
import { DEMO_CONFIG_INPUT } from '../../lib/config/demo';
import type { MigrationConfig } from '../../lib/config/types';
import { parseConfigOrThrow } from '../../lib/environment/parse';

/**
 * A deep copy of the demo config input, to derive variants from in tests. Untyped on purpose: tests
 * write invalid values into it, and `parseConfig` is what checks them.
 */
// biome-ignore lint/suspicious/noExplicitAny: a raw JSON document, validated by parseConfig
export function demoInput(): any {
  return JSON.parse(JSON.stringify(DEMO_CONFIG_INPUT));
}

/**
 * A change of a config input (demoInput; for sharedStacks, templatesOf and the like): every service at
 * that phase, with the routing mode given (default: the input's own, the proxy in the demo).
 */
// biome-ignore lint/suspicious/noExplicitAny: a raw config input (demoInput)
export const allAtPhase = (phase: number, mode?: 'proxy' | 'in-app') => (input: any) => {
  for (const s of input.services) s.phase = phase;
  if (mode) input.routing = { mode };
};

/**
 * Switches a service of a config input to `alb` mode: without its composite endpoints, which only the
 * gateway answers (the ALB cannot compose, and the config refuses them in alb mode).
 */
// biome-ignore lint/suspicious/noExplicitAny: a raw service input (demoInput().services[n])
export function albMode(service: any): void {
  service.gateway = 'alb';
  delete service.composites;
}

/** Parses a config input (default: the demo), throwing on problems. */
export function config(input: unknown = DEMO_CONFIG_INPUT): MigrationConfig {
  return parseConfigOrThrow(input, '(test)');
}

/** A route identity from a JWT with every option given: claim, cookie, and JWKS verification. */
export function jwtIdentity() {
  return {
    source: 'jwt',
    claim: 'uid',
    cookie: 'session',
    jwksUrl: 'https://login.example.com/.well-known/jwks.json',
    issuer: 'https://login.example.com/',
    audience: 'shop',
  };
}
