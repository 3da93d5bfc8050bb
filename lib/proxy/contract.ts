/**
 * The routing proxy's runtime configuration: what the CDK app writes into the proxy container's
 * environment (ROUTING_PROXY_CONFIG, one JSON document) and what the proxy validates before it listens.
 * A contract between lib/ (which writes it) and proxy/ (which reads it), so that neither imports the
 * other's internals. Pure: no SDK, no env.
 */
import {
  type AnonymousPolicy,
  DEFAULT_ANONYMOUS,
  type ExtractedServiceConfig,
  type HttpMethod,
  type LegacyConfig,
  type MigrationConfig,
  type Phase,
  type RouteIdentity,
  type RoutingProxyConfig,
} from '../config/types';
import { flagParameterNames, overrideParameterName } from '../flags/parameters';
import { SERVICE_NAME, serviceUrl } from '../naming';
import { capabilitiesOf } from '../phases';
import { describe, join, Reader } from '../validation/reader';
import { DEFAULT_PATH_VARIANTS, PATH_EQUIVALENCES, type PathVariants } from './paths';

/** The environment variable that carries the document. */
export const PROXY_CONFIG_VARIABLE = 'ROUTING_PROXY_CONFIG';

/** The version of the document; a proxy refuses any other. */
export const PROXY_CONFIG_VERSION = 1;

/** One route of a service, as the proxy matches it. */
export interface ProxyRoute {
  /** The monolith's path, `{name}` placeholders being one segment each. */
  readonly path: string;
  readonly methods: readonly HttpMethod[];
  /** The service's path; its placeholders are those of `path`. */
  readonly servicePath: string;
  /** Absent: every request on the route is anonymous. */
  readonly identity?: RouteIdentity;
  readonly anonymous: AnonymousPolicy;
}

/** One extracted service at phase 1 or later. */
export interface ProxyService {
  readonly name: string;
  readonly phase: Exclude<Phase, 0>;
  /** The deploy-time marker of a completed cutover (services[].cutoverRecorded). */
  readonly cutoverRecorded: boolean;
  /** Its Service Connect URL, `http://<name>:<port>`. */
  readonly url: string;
  /** The flag parameters the proxy reads (at `:last-good`). */
  readonly parameters: { readonly routing: string; readonly cutover: string; readonly override: string };
  readonly routes: readonly ProxyRoute[];
}

export interface ProxyRuntimeConfig {
  readonly version: typeof PROXY_CONFIG_VERSION;
  /** The port the proxy listens on (all interfaces). */
  readonly port: number;
  /**
   * The monolith: its URL (on localhost in its own task, or its existing address, http or https, with the
   * port always written), and the ALB health check path that always reaches it.
   */
  readonly legacy: {
    readonly url: string;
    readonly healthCheckPath: string;
    /** https only: the name its certificate is checked against, sent as SNI (default: the URL's host). */
    readonly serverName?: string;
  };
  /** How often the flags are read (each refresh is spread by up to `jitterPercent` either way). */
  readonly flags: { readonly refreshMs: number; readonly jitterPercent: number };
  readonly timeouts: {
    readonly connectMs: number;
    readonly headersMs: number;
    readonly idleMs: number;
    /** On SIGTERM: how long in-flight requests may finish. */
    readonly drainMs: number;
  };
  readonly limits: { readonly maxHeaderBytes: number; readonly maxBodyBytes: number };
  /**
   * Which other spellings of a route's path are the route, and whether they are routed or refused
   * (lib/proxy/paths.ts). Optional in the document: absent is DEFAULT_PATH_VARIANTS, which the CDK app
   * then leaves out.
   */
  readonly paths: PathVariants;
  /** Empty at phase 0: the proxy then passes everything through and never calls SSM. */
  readonly services: readonly ProxyService[];
}

/** Share of the TTL by which each refresh is moved, either way, so that tasks do not read SSM in step. */
export const FLAG_REFRESH_JITTER_PERCENT = 20;

/**
 * The document for an environment: every service at phase 1 or later, with its routes and flag
 * parameter names; the monolith on localhost (both containers share the task's network namespace).
 */
export function proxyRuntimeConfig(
  config: MigrationConfig,
  proxy: RoutingProxyConfig,
  services: readonly ExtractedServiceConfig[],
): ProxyRuntimeConfig {
  return {
    version: PROXY_CONFIG_VERSION,
    port: proxy.port,
    legacy: legacyUpstream(config.legacy),
    flags: { refreshMs: config.flags.cacheTtlSeconds * 1000, jitterPercent: FLAG_REFRESH_JITTER_PERCENT },
    timeouts: {
      connectMs: proxy.connectTimeoutMs,
      headersMs: proxy.headersTimeoutMs,
      idleMs: proxy.idleTimeoutMs,
      drainMs: proxy.drainSeconds * 1000,
    },
    limits: { maxHeaderBytes: proxy.maxHeaderBytes, maxBodyBytes: proxy.maxBodyBytes },
    paths: { ...proxy.pathVariants },
    services: services
      .filter((s) => capabilitiesOf(s).migrating)
      .map((s) => {
        const names = flagParameterNames(config.flags.parameterPrefix, s.name);
        return {
          name: s.name,
          phase: s.phase as Exclude<Phase, 0>,
          cutoverRecorded: s.cutoverRecorded !== undefined,
          url: serviceUrl(s.name),
          parameters: {
            routing: names.routing,
            cutover: names.cutover,
            override: overrideParameterName(config.flags.parameterPrefix, s.name),
          },
          routes: s.routes.map((r) => ({
            path: r.path,
            methods: r.methods,
            servicePath: r.servicePath,
            ...(r.identity ? { identity: r.identity } : {}),
            anonymous: r.anonymous ?? DEFAULT_ANONYMOUS,
          })),
        };
      }),
  };
}

/**
 * The document as the CDK app writes it into the container's environment: keys whose value is the
 * proxy's own default are left out (the document of an unchanged configuration stays as it was).
 */
export function proxyConfigText(config: ProxyRuntimeConfig): string {
  const { paths, ...rest } = config;
  const defaults =
    PATH_EQUIVALENCES.every((k) => paths[k] === DEFAULT_PATH_VARIANTS[k]) &&
    paths.handling === DEFAULT_PATH_VARIANTS.handling;
  return JSON.stringify(defaults ? rest : config);
}

/**
 * Where the proxy finds the monolith: on localhost when the app hosts it (both containers share the
 * task's network namespace), else at its existing address.
 */
function legacyUpstream(legacy: LegacyConfig): ProxyRuntimeConfig['legacy'] {
  if (legacy.mode === 'hosted')
    return { url: `http://127.0.0.1:${legacy.port}`, healthCheckPath: legacy.healthCheckPath };
  const url = new URL(legacy.endpoint.url);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return {
    url: `${url.protocol}//${url.hostname}:${port}`,
    healthCheckPath: legacy.healthCheckPath,
    ...(legacy.endpoint.serverName !== undefined ? { serverName: legacy.endpoint.serverName } : {}),
  };
}

/** Every flag parameter the proxy reads: what the legacy task role may read, and nothing else. */
export function proxyReadableParameters(config: ProxyRuntimeConfig): string[] {
  return config.services.flatMap((s) => [s.parameters.routing, s.parameters.cutover, s.parameters.override]);
}

export type ProxyConfigResult =
  | { readonly ok: true; readonly config: ProxyRuntimeConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const ROUTE_PATH = /^(\/([A-Za-z0-9._~-]+|\{[a-z][a-zA-Z0-9_]*\}))+$/;
const HTTP_URL = /^http:\/\/[A-Za-z0-9.-]+:\d{1,5}$/;
const LEGACY_URL = /^https?:\/\/[A-Za-z0-9.-]+:\d{1,5}$/;
const PARAMETER = /^(\/[A-Za-z0-9_.-]+)+$/;
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

/**
 * Validates the document (from the environment or a local file) before the proxy listens: a proxy with a
 * wrong configuration must not start, so that the deployment's circuit breaker rolls it back. Never throws.
 */
export function parseProxyConfig(text: string): ProxyConfigResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [`${PROXY_CONFIG_VARIABLE} is not JSON: ${(e as Error).message}`] };
  }
  const r = new Reader();
  const v = r.object('', json, [
    'version',
    'port',
    'legacy',
    'flags',
    'timeouts',
    'limits',
    'paths',
    'services',
  ]);
  if (!v) return fail(r);
  if (v.version !== PROXY_CONFIG_VERSION)
    r.problem(
      'version',
      `${describe(v.version)} is not ${PROXY_CONFIG_VERSION}; deploy the proxy image built with this configuration`,
    );
  const int = (path: string, value: unknown, min: number, max: number) =>
    r.integer(path, value, { min, max });
  const port = int('port', v.port, 0, 65535); // 0: any free port (tests, local runs)
  const legacy = r.object('legacy', v.legacy, ['url', 'healthCheckPath', 'serverName']) ?? {};
  const flags = r.object('flags', v.flags, ['refreshMs', 'jitterPercent']) ?? {};
  const timeouts = r.object('timeouts', v.timeouts, ['connectMs', 'headersMs', 'idleMs', 'drainMs']) ?? {};
  const limits = r.object('limits', v.limits, ['maxHeaderBytes', 'maxBodyBytes']) ?? {};
  const paths = r.object('paths', v.paths, ['handling', ...PATH_EQUIVALENCES], true) ?? {};
  const config: ProxyRuntimeConfig = {
    version: PROXY_CONFIG_VERSION,
    port,
    legacy: {
      url: r.string('legacy.url', legacy.url, {
        pattern: LEGACY_URL,
        fix: 'use "http://127.0.0.1:<port>", or the monolith\'s address as "http(s)://<host>:<port>"',
      }),
      healthCheckPath: r.string('legacy.healthCheckPath', legacy.healthCheckPath, {
        pattern: /^\/[A-Za-z0-9/._~-]*$/,
        fix: 'use an absolute path such as "/health"',
      }),
      ...(legacy.serverName !== undefined
        ? {
            serverName: r.string('legacy.serverName', legacy.serverName, {
              pattern: /^[A-Za-z0-9.-]{1,253}$/,
              fix: 'use a host name',
            }),
          }
        : {}),
    },
    flags: {
      refreshMs: int('flags.refreshMs', flags.refreshMs, 50, 300_000),
      jitterPercent: int('flags.jitterPercent', flags.jitterPercent, 0, 50),
    },
    timeouts: {
      connectMs: int('timeouts.connectMs', timeouts.connectMs, 1, 3_600_000),
      headersMs: int('timeouts.headersMs', timeouts.headersMs, 1, 3_600_000),
      idleMs: int('timeouts.idleMs', timeouts.idleMs, 1, 3_600_000),
      drainMs: int('timeouts.drainMs', timeouts.drainMs, 0, 120_000),
    },
    limits: {
      maxHeaderBytes: int('limits.maxHeaderBytes', limits.maxHeaderBytes, 1024, 1_048_576),
      maxBodyBytes: int('limits.maxBodyBytes', limits.maxBodyBytes, 0, 2 ** 40),
    },
    paths: {
      handling: r.oneOf('paths.handling', paths.handling, ['route', 'refuse'] as const, 'route'),
      ...(Object.fromEntries(
        PATH_EQUIVALENCES.map((k) => [k, r.boolean(`paths.${k}`, paths[k], DEFAULT_PATH_VARIANTS[k])]),
      ) as Omit<PathVariants, 'handling'>),
    },
    services: r.array('services', v.services).map((s, i) => readService(r, join('services', i), s)),
  };
  if (config.legacy.serverName !== undefined && !config.legacy.url.startsWith('https:'))
    r.problem('legacy.serverName', 'only applies to an https url; remove it');
  if (r.problems.length > 0) return fail(r);
  return { ok: true, config };
}

function fail(r: Reader): ProxyConfigResult {
  return { ok: false, errors: r.problems.map((p) => `${p.path || '(root)'}: ${p.message}`) };
}

function readService(r: Reader, path: string, value: unknown): ProxyService {
  const p = (key: string) => join(path, key);
  const v = r.object(path, value, ['name', 'phase', 'cutoverRecorded', 'url', 'parameters', 'routes']) ?? {};
  const params = r.object(p('parameters'), v.parameters, ['routing', 'cutover', 'override']) ?? {};
  const param = (kind: string) =>
    r.string(join(p('parameters'), kind), params[kind], {
      pattern: PARAMETER,
      fix: 'use an SSM parameter path',
    });
  return {
    name: r.string(p('name'), v.name, { pattern: SERVICE_NAME, fix: 'use the service name of the config' }),
    phase: r.oneOf(p('phase'), v.phase, [1, 2, 3] as const),
    cutoverRecorded: r.boolean(p('cutoverRecorded'), v.cutoverRecorded, false),
    url: r.string(p('url'), v.url, { pattern: HTTP_URL, fix: 'use "http://<service>:<port>"' }),
    parameters: { routing: param('routing'), cutover: param('cutover'), override: param('override') },
    routes: r.array(p('routes'), v.routes).map((route, i) => readRoute(r, join(p('routes'), i), route)),
  };
}

function readRoute(r: Reader, path: string, value: unknown): ProxyRoute {
  const p = (key: string) => join(path, key);
  const v = r.object(path, value, ['path', 'methods', 'servicePath', 'identity', 'anonymous']) ?? {};
  const fix = 'use literal segments and {placeholders}';
  const routePath = r.string(p('path'), v.path, { pattern: ROUTE_PATH, fix });
  const servicePath = r.string(p('servicePath'), v.servicePath, { pattern: ROUTE_PATH, fix });
  const names = new Set([...routePath.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]));
  for (const m of servicePath.matchAll(/\{([^}]+)\}/g))
    if (!names.has(m[1])) r.problem(p('servicePath'), `{${m[1]}} is not a placeholder of ${routePath}`);
  const methods = r.array(p('methods'), v.methods).map((m, i) => r.oneOf(join(p('methods'), i), m, METHODS));
  const identity = v.identity === undefined ? undefined : readIdentity(r, p('identity'), v.identity, names);
  return {
    path: routePath,
    methods,
    servicePath,
    ...(identity ? { identity } : {}),
    anonymous: r.oneOf(p('anonymous'), v.anonymous, ['legacy', 'service'] as const),
  };
}

function readIdentity(r: Reader, path: string, value: unknown, names: ReadonlySet<string>): RouteIdentity {
  const p = (key: string) => join(path, key);
  const raw = (value ?? {}) as Record<string, unknown>;
  const source = r.oneOf(p('source'), raw.source, ['path', 'header', 'cookie', 'jwt', 'body'] as const);
  switch (source) {
    case 'path': {
      const v = r.object(path, value, ['source', 'name']) ?? {};
      const name = r.string(p('name'), v.name);
      if (!names.has(name)) r.problem(p('name'), `${JSON.stringify(name)} is not a placeholder of the route`);
      return { source, name };
    }
    case 'header':
    case 'cookie': {
      const v = r.object(path, value, ['source', 'name']) ?? {};
      return { source, name: r.string(p('name'), v.name, { pattern: TOKEN }) };
    }
    case 'jwt': {
      const v = r.object(path, value, ['source', 'claim', 'cookie', 'jwks']) ?? {};
      const jwks = r.object(p('jwks'), v.jwks, ['url', 'issuer', 'audience'], true);
      return {
        source,
        claim: r.string(p('claim'), v.claim, { pattern: /^[A-Za-z0-9_:/.#-]{1,128}$/ }),
        ...(v.cookie !== undefined ? { cookie: r.string(p('cookie'), v.cookie, { pattern: TOKEN }) } : {}),
        ...(jwks
          ? {
              jwks: {
                url: r.string(join(p('jwks'), 'url'), jwks.url, { pattern: /^https?:\/\/\S+$/ }),
                ...(jwks.issuer !== undefined
                  ? { issuer: r.string(join(p('jwks'), 'issuer'), jwks.issuer) }
                  : {}),
                ...(jwks.audience !== undefined
                  ? { audience: r.string(join(p('jwks'), 'audience'), jwks.audience) }
                  : {}),
              },
            }
          : {}),
      };
    }
    case 'body': {
      const v = r.object(path, value, ['source', 'field', 'maxBytes']) ?? {};
      return {
        source,
        field: r.string(p('field'), v.field, {
          pattern: /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,4}$/,
        }),
        maxBytes: r.integer(p('maxBytes'), v.maxBytes, { min: 1, max: 1_048_576 }),
      };
    }
  }
}
