/**
 * The routing proxy's access log and metrics: one JSON line per request that is both the access log
 * entry and, in CloudWatch embedded metric format (EMF), its three datapoints. An alarm on these metrics
 * must name exactly PROXY_DIMENSIONS with these values (CloudWatch does not aggregate across dimension
 * sets); docs/routing-proxy.md, "Metrics", is the reference. Pure.
 */
import { METRIC_NAMESPACE } from '../hooks/contract';

/** Metric names, in METRIC_NAMESPACE. */
export const PROXY_METRICS = {
  /** Requests answered (Count, 1 per request). */
  requests: 'ProxyRequests',
  /** Requests answered with a 5xx, or cut off by a failed upstream (Count, 0 or 1 per request). */
  errors: 'Proxy5xx',
  /** Time from the request's arrival to the end of its response (Milliseconds). */
  latency: 'ProxyLatency',
} as const;

/** The one dimension set of every proxy metric, in this order. */
export const PROXY_DIMENSIONS = ['Service', 'Side'] as const;

/**
 * Where a request went: the monolith, the extracted service, or nowhere (`proxy`: answered by the proxy
 * itself: 503 while a service's flags are unknown, 4xx for a rejected request).
 */
export type Side = 'legacy' | 'service' | 'proxy';

/** The Service dimension of a request on no service's route (the monolith's own traffic). */
export const NO_SERVICE = 'none';

export interface AccessLogEntry {
  /** The service whose route the request is on, or NO_SERVICE. */
  readonly service: string;
  readonly side: Side;
  readonly method: string;
  /** The route's path template; for a request on no route, the path without its query. */
  readonly route: string;
  readonly status: number;
  readonly latencyMs: number;
  /** Whether the route found a user id (never the id itself). */
  readonly identified?: boolean;
  /** Why the proxy answered or failed (e.g. `flags-unavailable`, `upstream-timeout`). */
  readonly reason?: string;
  /** True when the response was cut off after its headers. */
  readonly truncated?: boolean;
}

const METRICS_DIRECTIVE = JSON.stringify([
  {
    Namespace: METRIC_NAMESPACE,
    Dimensions: [PROXY_DIMENSIONS],
    Metrics: [
      { Name: PROXY_METRICS.requests, Unit: 'Count' },
      { Name: PROXY_METRICS.errors, Unit: 'Count' },
      { Name: PROXY_METRICS.latency, Unit: 'Milliseconds' },
    ],
  },
]);

/** Whether a response counts as a server error for the alarms. */
export function isServerError(entry: Pick<AccessLogEntry, 'status' | 'truncated'>): boolean {
  return entry.status >= 500 || entry.truncated === true;
}

/** Text that needs no JSON escaping (service names, route templates, methods are all of this kind). */
const PLAIN = /^[A-Za-z0-9_.:/{}@~!$&'()*+,;=%-]*$/;
const quoted = (text: string) => (PLAIN.test(text) ? `"${text}"` : JSON.stringify(text));

/**
 * The access log line (EMF) of one request; `at` is when it ended, epoch milliseconds (the `_aws`
 * Timestamp; CloudWatch Logs stamps the event itself too). Built as text: it runs once per request.
 */
export function accessLogLine(entry: AccessLogEntry, at: number): string {
  const latency = Math.round(entry.latencyMs * 100) / 100;
  return (
    `{"_aws":{"Timestamp":${at},"CloudWatchMetrics":${METRICS_DIRECTIVE}},` +
    `"level":"info","msg":"request",` +
    `"Service":${quoted(entry.service)},"Side":"${entry.side}",` +
    `"method":${quoted(entry.method)},"route":${quoted(entry.route)},` +
    `"status":${entry.status},"latencyMs":${latency}` +
    (entry.identified !== undefined ? `,"identified":${entry.identified}` : '') +
    (entry.reason !== undefined ? `,"reason":${JSON.stringify(entry.reason)}` : '') +
    (entry.truncated ? ',"truncated":true' : '') +
    `,"${PROXY_METRICS.requests}":1,"${PROXY_METRICS.errors}":${isServerError(entry) ? 1 : 0}` +
    `,"${PROXY_METRICS.latency}":${latency}}`
  );
}

/**
 * The age of the flags a proxy task decides with: per service, the seconds since its last load without
 * a failed read (since the task started, before its first). Every task publishes its own datapoints on a
 * timer of its own (not from the read loop, so a loop that stopped shows as a growing age), with the
 * one dimension `Service`: the `Maximum` statistic of a period is then the oldest flags of any task of
 * the legacy service, which is what the alarm watches.
 */
export const PROXY_FLAG_AGE_METRIC = 'ProxyFlagAge';

/** The one dimension set of ProxyFlagAge. */
export const PROXY_FLAG_AGE_DIMENSIONS = ['Service'] as const;

const FLAG_AGE_DIRECTIVE = JSON.stringify([
  {
    Namespace: METRIC_NAMESPACE,
    Dimensions: [PROXY_FLAG_AGE_DIMENSIONS],
    Metrics: [{ Name: PROXY_FLAG_AGE_METRIC, Unit: 'Seconds' }],
  },
]);

/** The EMF line of one ProxyFlagAge datapoint; `at` is epoch milliseconds. */
export function flagAgeLine(service: string, ageSeconds: number, at: number): string {
  const age = Math.round(ageSeconds * 10) / 10;
  return (
    `{"_aws":{"Timestamp":${at},"CloudWatchMetrics":${FLAG_AGE_DIRECTIVE}},` +
    `"level":"info","msg":"flag age","Service":${quoted(service)},"${PROXY_FLAG_AGE_METRIC}":${age}}`
  );
}

/**
 * The age past which the flags of a proxy task are stale enough for a person to look: the proxy reads
 * every TTL (±20 %) with a deadline of at most 5 s, so a healthy task's age stays below 1.2 TTL + 5 s;
 * this is several failed reads in a row, and never below two minutes (SSM throttling passes).
 */
export function flagAgeAlarmSeconds(cacheTtlSeconds: number): number {
  return Math.max(120, 8 * cacheTtlSeconds);
}
