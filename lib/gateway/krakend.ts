/**
 * The KrakenD Community Edition configuration, generated from the route tables and the composite
 * endpoints of the services at phase 3 in `krakend` mode, and validated against what makes KrakenD CE
 * refuse to start, misroute or merge the wrong document (docs/gateway-composition.md links each rule to
 * KrakenD's documentation). Pure TypeScript: the CDK app bakes the result into the gateway image; tests
 * read it directly.
 */
import type { HttpMethod } from '../config/types';
import { UNROUTED_METHODS } from './routes';

/** One gateway route: the old public path to a service's new path. */
export interface GatewayRoute {
  /** The service that owns it (for messages). */
  readonly service: string;
  /** Public path as clients call it, e.g. `/api/users/{id}`. */
  readonly path: string;
  readonly method: HttpMethod;
  /** Base URL of the service (its Service Connect name), e.g. `http://users:80`. No path. */
  readonly host: string;
  /** Path on the service, e.g. `/v1/users/{id}`. */
  readonly servicePath: string;
}

/** One part of a composite endpoint: a backend called in parallel with the others, and where its answer lands. */
export interface GatewayCompositePart {
  /** Where it comes from (`legacy`, or a service), for messages. */
  readonly from: string;
  /** Base URL of the backend (a Service Connect name), no path. */
  readonly host: string;
  /** Path on the backend (KrakenD `url_pattern`); its placeholders are the endpoint's. */
  readonly path: string;
  /** The key the answer is placed under (KrakenD `group`). */
  readonly group?: string;
  /** The answer is a JSON array, placed under this key (`is_collection`, its `collection` key renamed). */
  readonly collection?: string;
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  readonly mapping?: Readonly<Record<string, string>>;
  readonly target?: string;
}

/** An old GET endpoint answered by merging the answers of several backends called in parallel. */
export interface GatewayComposite {
  /** The service that owns it (for messages). */
  readonly service: string;
  /** Public path as clients call it. */
  readonly path: string;
  /** How long the endpoint waits for its parts, in milliseconds. */
  readonly timeoutMs: number;
  /** Request headers passed to every part (KrakenD `input_headers`). */
  readonly headers: readonly string[];
  readonly parts: readonly GatewayCompositePart[];
}

export interface GatewayModel {
  readonly name: string;
  /** Port KrakenD listens on. */
  readonly port: number;
  /** Backend timeout in milliseconds. */
  readonly timeoutMs: number;
  readonly routes: readonly GatewayRoute[];
  /** Composite endpoints (GET, several backends merged). */
  readonly composites?: readonly GatewayComposite[];
}

/** The longest an endpoint may wait: the load balancer's idle timeout closes the connection after 60 s. */
export const MAX_ENDPOINT_TIMEOUT_MS = 60000;

/** The path KrakenD answers its health check on (the ALB target group checks it). */
export const KRAKEND_HEALTH_PATH = '/__health';

/** KrakenD CE, pinned: the gateway image is built FROM this. */
export const KRAKEND_IMAGE = 'krakend:2.13.1';

export class GatewayConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid gateway configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'GatewayConfigError';
  }
}

const PLACEHOLDER = /^\{([a-zA-Z][a-zA-Z0-9_]*)\}$/;

function segments(path: string): string[] {
  return path.split('/').slice(1);
}

function placeholdersOf(path: string): string[] {
  return segments(path).flatMap((s) => PLACEHOLDER.exec(s)?.[1] ?? []);
}

/** What every endpoint is checked for, plain route or composite. */
interface EndpointShape {
  readonly service: string;
  readonly path: string;
  readonly method: HttpMethod;
  /** The backends: where, and with which path. */
  readonly backends: readonly { readonly host: string; readonly path: string; readonly label: string }[];
  readonly composite: boolean;
}

function endpointsOf(model: GatewayModel): EndpointShape[] {
  return [
    ...model.routes.map((r) => ({
      service: r.service,
      path: r.path,
      method: r.method,
      backends: [{ host: r.host, path: r.servicePath, label: 'url_pattern' }],
      composite: false,
    })),
    ...(model.composites ?? []).map((c) => ({
      service: c.service,
      path: c.path,
      method: 'GET' as const,
      backends: c.parts.map((p, i) => ({ host: p.host, path: p.path, label: `part ${i + 1} (${p.from})` })),
      composite: true,
    })),
  ];
}

/**
 * Every reason the model would make KrakenD CE refuse to start, misroute, or merge the wrong document;
 * each names the endpoint (docs/gateway-composition.md links each rule to KrakenD's documentation).
 */
export function validateGateway(model: GatewayModel): string[] {
  const problems: string[] = [];
  const seen = new Map<string, EndpointShape>();
  const endpoints = endpointsOf(model);
  for (const endpoint of endpoints) {
    const where = `${endpoint.service}: ${endpoint.method} ${endpoint.path}`;
    if (UNROUTED_METHODS.includes(endpoint.method)) {
      problems.push(
        `${where}: KrakenD CE registers no ${endpoint.method} endpoint; leave ${UNROUTED_METHODS.join(' and ')} to the monolith`,
      );
    }
    if (/[*]/.test(endpoint.path) || segments(endpoint.path).some((s) => s.startsWith(':'))) {
      problems.push(`${where}: wildcard and catch-all endpoints need KrakenD Enterprise; declare every path`);
    }
    for (const s of segments(endpoint.path)) {
      if (s.includes('{') && !PLACEHOLDER.test(s)) {
        problems.push(
          `${where}: segment "${s}" mixes text and a placeholder; a placeholder must be a whole segment`,
        );
      }
    }
    const defined = new Set(placeholdersOf(endpoint.path));
    for (const backend of endpoint.backends) {
      const what = endpoint.composite ? `${backend.label}: url_pattern` : 'url_pattern';
      for (const p of placeholdersOf(backend.path)) {
        if (!defined.has(p))
          problems.push(`${where}: ${what} ${backend.path} uses {${p}}, which the endpoint does not define`);
      }
      let host: URL | undefined;
      try {
        host = new URL(backend.host);
      } catch {
        problems.push(`${where}: host "${backend.host}" is not a URL such as http://users:8080`);
      }
      if (host && !/^https?:\/\/[^/?#]+\/?$/.test(backend.host)) {
        problems.push(`${where}: host "${backend.host}" contains a path; put the path in the url_pattern`);
      }
    }
    const key = `${endpoint.method} ${endpoint.path}`;
    const first = seen.get(key);
    if (first)
      problems.push(
        `${where}: declared twice (also by ${first.service}${first.composite === endpoint.composite ? '' : first.composite ? ' as a composite' : ' as a route'}); each endpoint and method once`,
      );
    else seen.set(key, endpoint);
  }

  // KrakenD's router (gin) panics when two endpoints use different placeholder names at one position
  // under the same prefix, e.g. /api/users/{id} and /api/users/{userId}/password.
  const names = new Map<string, { name: string; endpoint: EndpointShape }>();
  for (const endpoint of endpoints) {
    const parts = segments(endpoint.path);
    parts.forEach((segment, i) => {
      const name = PLACEHOLDER.exec(segment)?.[1];
      if (!name) return;
      const prefix = `/${parts.slice(0, i).join('/')}`;
      const other = names.get(prefix);
      if (other && other.name !== name) {
        problems.push(
          `${endpoint.service}: ${endpoint.method} ${endpoint.path}: placeholder {${name}} after ${prefix} conflicts with {${other.name}} in ${other.endpoint.path}; use one name at one position`,
        );
      } else if (!other) {
        names.set(prefix, { name, endpoint });
      }
    });
  }
  for (const composite of model.composites ?? []) problems.push(...compositeProblems(composite));
  return problems;
}

const FIELD = /^[A-Za-z0-9_-]{1,64}$/;

/** What a composite's parts would do to the merged document, or to KrakenD's start. */
function compositeProblems(c: GatewayComposite): string[] {
  const where = `${c.service}: GET ${c.path}`;
  const problems: string[] = [];
  if (c.parts.length < 2)
    problems.push(
      `${where}: a composite needs at least two parts; one backend is a route (no-op, the backend's answer as it is)`,
    );
  if (!Number.isInteger(c.timeoutMs) || c.timeoutMs < 1 || c.timeoutMs > MAX_ENDPOINT_TIMEOUT_MS)
    problems.push(
      `${where}: timeout ${c.timeoutMs} ms; use 1 to ${MAX_ENDPOINT_TIMEOUT_MS} ms (the load balancer closes an idle connection after 60 s)`,
    );
  if (c.headers.some((h) => h.toLowerCase() === 'accept-encoding'))
    problems.push(
      `${where}: input_headers passes Accept-Encoding; KrakenD decodes each part itself and reads gzip only: remove it`,
    );
  const under = (p: GatewayCompositePart) => p.group ?? p.collection;
  const root = c.parts.filter((p) => under(p) === undefined);
  if (root.length > 1)
    problems.push(
      `${where}: parts from ${root.map((p) => p.from).join(' and ')} both land at the root of the document; KrakenD keeps a key from whichever answers last: give all but one a group`,
    );
  const keys = new Map<string, GatewayCompositePart>();
  c.parts.forEach((p, i) => {
    const label = `${where}: part ${i + 1} (${p.from})`;
    const key = under(p);
    if (key !== undefined) {
      if (!FIELD.test(key)) problems.push(`${label}: "${key}" is not a JSON key of letters, digits, _ or -`);
      const other = keys.get(key);
      if (other)
        problems.push(
          `${label}: lands under "${key}" like the part from ${other.from}; the slower answer would replace the other (KrakenD does not enforce unique groups)`,
        );
      else keys.set(key, p);
    }
    if (p.group !== undefined && p.collection !== undefined)
      problems.push(`${label}: group and collection both place the answer; keep one`);
    if (p.collection !== undefined && (p.allow || p.deny || p.mapping || p.target))
      problems.push(
        `${label}: allow, deny, mapping and target shape an object; an answer placed as a collection is an array`,
      );
    for (const [key, fields] of [
      ['allow', p.allow],
      ['deny', p.deny],
    ] as const) {
      const twice = (fields ?? []).filter((f, k, all) => all.indexOf(f) !== k);
      if (twice.length > 0)
        problems.push(`${label}: ${key} lists ${twice.join(', ')} twice; KrakenD's schema wants each once`);
    }
    if (p.allow && p.deny)
      problems.push(
        `${label}: allow and deny cannot coexist (KrakenD applies allow and ignores deny); keep one`,
      );
    if (p.deny?.some((f) => f.split('.').length > 2))
      problems.push(
        `${label}: deny reaches two levels ("parent.field"); drop the parent instead, or use allow`,
      );
    if (p.mapping && p.allow) {
      const kept = new Set(p.allow.map((f) => f.split('.')[0]));
      for (const from of Object.keys(p.mapping))
        if (!kept.has(from))
          problems.push(
            `${label}: mapping renames "${from}", which allow drops first (KrakenD filters, then renames): add it to allow`,
          );
    }
    for (const [from, to] of Object.entries(p.mapping ?? {}))
      if (!FIELD.test(from) || !FIELD.test(to))
        problems.push(
          `${label}: mapping "${from}" -> "${to}": KrakenD renames top-level keys only; use keys of letters, digits, _ or -`,
        );
  });
  return problems;
}

/**
 * KrakenD CE's start-up rules on the generated document itself, for the keys composition adds: an
 * endpoint inherits the root `output_encoding` (`no-op` here) unless it sets its own, and KrakenD refuses
 * to start when a `no-op` endpoint has more than one backend; a backend of a merging endpoint must decode
 * its answer (not `no-op`), or the merge has nothing to merge. Each problem names the endpoint.
 */
export function startupProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const rootEncoding = (config.output_encoding as string | undefined) ?? 'json';
  const endpoints = (config.endpoints ?? []) as {
    endpoint: string;
    method?: string;
    output_encoding?: string;
    backend?: { encoding?: string; url_pattern: string }[];
  }[];
  for (const e of endpoints) {
    const where = `${e.method ?? 'GET'} ${e.endpoint}`;
    const encoding = e.output_encoding ?? rootEncoding;
    const backends = e.backend ?? [];
    if (backends.length === 0) problems.push(`${where}: no backend; KrakenD ignores an endpoint without one`);
    if (encoding === 'no-op' && backends.length > 1)
      problems.push(
        `${where}: ${backends.length} backends with output_encoding no-op${e.output_encoding === undefined ? ' (inherited from the root)' : ''}; KrakenD refuses to start: set output_encoding "json" on the endpoint`,
      );
    if (encoding !== 'no-op')
      for (const b of backends)
        if ((b.encoding ?? 'json') === 'no-op')
          problems.push(
            `${where}: backend ${b.url_pattern} is no-op in a merging endpoint; its answer would not be decoded: use encoding "json"`,
          );
  }
  return problems;
}

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

/** The KrakenD backend of a composite part: decoded as JSON, then placed (docs/gateway-composition.md). */
function compositeBackend(part: GatewayCompositePart) {
  return {
    host: [part.host.replace(/\/$/, '')],
    url_pattern: part.path,
    method: 'GET',
    encoding: 'json',
    ...optional('target', part.target),
    ...optional('allow', part.allow ? [...part.allow] : undefined),
    ...optional('deny', part.deny ? [...part.deny] : undefined),
    ...(part.collection !== undefined
      ? { is_collection: true, mapping: { collection: part.collection } }
      : optional('mapping', part.mapping ? { ...part.mapping } : undefined)),
    ...optional('group', part.group),
  };
}

/** The KrakenD configuration (format version 3) for the model; throws a `GatewayConfigError` listing every problem. */
export function krakendConfig(model: GatewayModel): Record<string, unknown> {
  const problems = validateGateway(model);
  if (problems.length > 0) throw new GatewayConfigError(problems);
  const timeout = `${model.timeoutMs}ms`;
  const routes = model.routes.map((route) => ({
    endpoint: route.path,
    method: route.method,
    output_encoding: 'no-op',
    timeout,
    input_headers: ['*'],
    input_query_strings: ['*'],
    backend: [
      {
        host: [route.host.replace(/\/$/, '')],
        url_pattern: route.servicePath,
        method: route.method,
        encoding: 'no-op',
      },
    ],
  }));
  // A merging endpoint: KrakenD calls the parts in parallel and merges their decoded answers; the
  // answer is complete, partial (X-KrakenD-Completed: false) or 500 (docs/gateway-composition.md).
  const composites = (model.composites ?? []).map((c) => ({
    endpoint: c.path,
    method: 'GET',
    output_encoding: 'json',
    timeout: `${c.timeoutMs}ms`,
    input_headers: [...c.headers],
    input_query_strings: ['*'],
    backend: c.parts.map(compositeBackend),
  }));
  const config = {
    $schema: 'https://www.krakend.io/schema/v2.13/krakend.json',
    version: 3,
    name: model.name,
    port: model.port,
    timeout,
    cache_ttl: '0s',
    // Routes are a transparent hop: no aggregation, bodies and status codes pass through.
    output_encoding: 'no-op',
    extra_config: {
      'telemetry/logging': { level: 'INFO', prefix: '[KRAKEND]', stdout: true, format: 'logstash' },
      router: {
        return_error_msg: false,
        hide_version_header: true,
        logger_skip_paths: [KRAKEND_HEALTH_PATH],
      },
    },
    endpoints: [...routes, ...composites].sort(
      (a, b) => a.endpoint.localeCompare(b.endpoint) || a.method.localeCompare(b.method),
    ),
  };
  const startup = startupProblems(config);
  if (startup.length > 0) throw new GatewayConfigError(startup);
  return config;
}
