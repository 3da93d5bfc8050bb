/**
 * Route paths as every router of the app reads them (ALB rules, KrakenD, the monolith's proxy): literal
 * segments and `{name}` placeholders that stand for exactly one segment. Pure.
 */
import type { HttpMethod, RouteConfig } from '../config/types';

const PLACEHOLDER_SEGMENT = /^\{[a-zA-Z][a-zA-Z0-9_]*\}$/;

/** The segments of a path, without the leading empty one: `/api/users/{id}` is `api`, `users`, `{id}`. */
export function pathSegments(path: string): string[] {
  return path.split('/').slice(1);
}

export function isPlaceholder(segment: string): boolean {
  return PLACEHOLDER_SEGMENT.test(segment);
}

/**
 * Whether one request path can match both route paths: same number of segments, and at every position
 * equal literals or at least one placeholder (`/api/users/{id}` and `/api/users/me` overlap on
 * `/api/users/me`).
 */
export function pathsOverlap(a: string, b: string): boolean {
  const sa = pathSegments(a);
  const sb = pathSegments(b);
  return (
    sa.length === sb.length && sa.every((s, i) => s === sb[i] || isPlaceholder(s) || isPlaceholder(sb[i]))
  );
}

/** A request path that both overlapping paths match (placeholders become `x`), for messages. */
export function sharedExample(a: string, b: string): string {
  const sb = pathSegments(b);
  return `/${pathSegments(a)
    .map((s, i) => (isPlaceholder(s) ? (isPlaceholder(sb[i]) ? 'x' : sb[i]) : s))
    .join('/')}`;
}

/**
 * Orders paths so that the more specific one comes first: at the first position where they differ in
 * kind, a literal segment before a placeholder (`/api/users/me` before `/api/users/{id}`). Paths with
 * different segment counts never overlap, and keep their order (the sort is stable).
 */
export function bySpecificity(a: string, b: string): number {
  const sa = pathSegments(a);
  const sb = pathSegments(b);
  if (sa.length !== sb.length) return 0;
  for (let i = 0; i < sa.length; i++) {
    const pa = isPlaceholder(sa[i]);
    const pb = isPlaceholder(sb[i]);
    if (pa !== pb) return pa ? 1 : -1;
  }
  return 0;
}

/**
 * Methods that the gateway cannot route: KrakenD CE registers no HEAD or OPTIONS endpoint (its schema and
 * router refuse them). Requests with them stay with the monolith, whose proxy routes them per the flags.
 */
export const UNROUTED_METHODS: readonly HttpMethod[] = ['HEAD', 'OPTIONS'];

/** The methods a route may list. */
export const ROUTED_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Two routes that one request (method and path) can match, for the config check. */
export function overlappingMethods(a: RouteConfig, b: RouteConfig): HttpMethod[] {
  if (!pathsOverlap(a.path, b.path)) return [];
  return a.methods.filter((m) => b.methods.includes(m));
}
