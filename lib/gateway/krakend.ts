/**
 * The KrakenD Community Edition configuration, generated from the route tables of the services at
 * phase 3 in `krakend` mode, and validated against what makes KrakenD CE refuse to start or misroute.
 * Pure TypeScript: the CDK app bakes the result into the gateway image; tests read it directly.
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

export interface GatewayModel {
  readonly name: string;
  /** Port KrakenD listens on. */
  readonly port: number;
  /** Backend timeout in milliseconds. */
  readonly timeoutMs: number;
  readonly routes: readonly GatewayRoute[];
}

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

/** Every reason the model would make KrakenD CE refuse to start or misroute; each names the route. */
export function validateGateway(model: GatewayModel): string[] {
  const problems: string[] = [];
  const seen = new Map<string, GatewayRoute>();
  for (const route of model.routes) {
    const where = `${route.service}: ${route.method} ${route.path}`;
    if (UNROUTED_METHODS.includes(route.method)) {
      problems.push(
        `${where}: KrakenD CE registers no ${route.method} endpoint; leave ${UNROUTED_METHODS.join(' and ')} to the monolith`,
      );
    }
    if (/[*]/.test(route.path) || segments(route.path).some((s) => s.startsWith(':'))) {
      problems.push(`${where}: wildcard and catch-all endpoints need KrakenD Enterprise; declare every path`);
    }
    for (const s of segments(route.path)) {
      if (s.includes('{') && !PLACEHOLDER.test(s)) {
        problems.push(
          `${where}: segment "${s}" mixes text and a placeholder; a placeholder must be a whole segment`,
        );
      }
    }
    const defined = new Set(placeholdersOf(route.path));
    for (const p of placeholdersOf(route.servicePath)) {
      if (!defined.has(p))
        problems.push(
          `${where}: url_pattern ${route.servicePath} uses {${p}}, which the endpoint does not define`,
        );
    }
    let host: URL | undefined;
    try {
      host = new URL(route.host);
    } catch {
      problems.push(`${where}: host "${route.host}" is not a URL such as http://users:8080`);
    }
    if (host && !/^https?:\/\/[^/?#]+\/?$/.test(route.host)) {
      problems.push(`${where}: host "${route.host}" contains a path; put the path in the url_pattern`);
    }
    const key = `${route.method} ${route.path}`;
    const first = seen.get(key);
    if (first)
      problems.push(`${where}: declared twice (also by ${first.service}); each endpoint and method once`);
    else seen.set(key, route);
  }

  // KrakenD's router (gin) panics when two endpoints use different placeholder names at one position
  // under the same prefix, e.g. /api/users/{id} and /api/users/{userId}/password.
  const names = new Map<string, { name: string; route: GatewayRoute }>();
  for (const route of model.routes) {
    const parts = segments(route.path);
    parts.forEach((segment, i) => {
      const name = PLACEHOLDER.exec(segment)?.[1];
      if (!name) return;
      const prefix = `/${parts.slice(0, i).join('/')}`;
      const other = names.get(prefix);
      if (other && other.name !== name) {
        problems.push(
          `${route.service}: ${route.method} ${route.path}: placeholder {${name}} after ${prefix} conflicts with {${other.name}} in ${other.route.path}; use one name at one position`,
        );
      } else if (!other) {
        names.set(prefix, { name, route });
      }
    });
  }
  return problems;
}

/** The KrakenD configuration (format version 3) for the model; throws a `GatewayConfigError` listing every problem. */
export function krakendConfig(model: GatewayModel): Record<string, unknown> {
  const problems = validateGateway(model);
  if (problems.length > 0) throw new GatewayConfigError(problems);
  const timeout = `${model.timeoutMs}ms`;
  const sorted = [...model.routes].sort(
    (a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method),
  );
  return {
    $schema: 'https://www.krakend.io/schema/v2.13/krakend.json',
    version: 3,
    name: model.name,
    port: model.port,
    timeout,
    cache_ttl: '0s',
    // The gateway is a transparent hop: no aggregation, bodies and status codes pass through.
    output_encoding: 'no-op',
    extra_config: {
      'telemetry/logging': { level: 'INFO', prefix: '[KRAKEND]', stdout: true, format: 'logstash' },
      router: {
        return_error_msg: false,
        hide_version_header: true,
        logger_skip_paths: [KRAKEND_HEALTH_PATH],
      },
    },
    endpoints: sorted.map((route) => ({
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
    })),
  };
}
