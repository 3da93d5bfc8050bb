/**
 * The routing proxy's route matcher: which service route (if any) a request is on, with its
 * placeholders, and the service path it is rewritten to. Pure.
 *
 * Matching is on the raw (percent-encoded) path, segment by segment, exactly as the route table spells
 * it: literal segments are compared byte for byte (routes use unreserved characters only, so a client
 * that encodes them differently is simply not routed), and a placeholder takes one non-empty segment.
 * A placeholder value that does not decode, or decodes to something that is not one plain segment
 * (`.`, `..`, or anything with a `/`), is not a match: the request goes to the monolith untouched, and
 * no crafted id can walk the service's path.
 *
 * A path that matches no route as sent is tried again in its canonical spelling (lib/proxy/paths.ts:
 * trailing slash, repeated slashes, dot segments, percent-encoded unreserved characters, letter case,
 * backslashes, encoded slashes, as configured): a match there is a **variant** of the route, which the
 * proxy routes as the route or refuses, never passes to the monolith untouched.
 */
import type { ProxyRoute } from './contract';
import { anyEquivalence, canonicalPath, EXACT_PATHS, type PathEquivalences } from './paths';

type Segment = { readonly literal: string } | { readonly param: string };

interface Compiled<T> {
  readonly owner: T;
  readonly route: ProxyRoute;
  readonly segments: readonly Segment[];
  readonly target: readonly Segment[];
}

export interface RouteMatch<T> {
  /** What the route belongs to (the proxy passes its service). */
  readonly owner: T;
  readonly route: ProxyRoute;
  /** Placeholder values as sent (still percent-encoded), for the rewrite. */
  readonly raw: Readonly<Record<string, string>>;
  /** Placeholder values decoded, for the identity. */
  readonly params: Readonly<Record<string, string>>;
  /** The query string with its `?`, or ''. */
  readonly query: string;
  /** True when the path matched only in its canonical spelling (another spelling of the route). */
  readonly variant: boolean;
}

function compile(path: string): Segment[] {
  return path
    .split('/')
    .slice(1)
    .map((s) => (s.startsWith('{') && s.endsWith('}') ? { param: s.slice(1, -1) } : { literal: s }));
}

/** Decodes one placeholder segment; undefined when it is not one plain, valid segment. */
function decodeSegment(raw: string): string | undefined {
  if (raw === '') return undefined;
  let value = raw;
  if (raw.includes('%')) {
    try {
      value = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  if (value === '.' || value === '..' || value.includes('/') || value.includes('\\')) return undefined;
  return value;
}

/** At the first segment where two routes differ in kind, the literal one is tried first. */
function specificFirst<T>(a: Compiled<T>, b: Compiled<T>): number {
  for (let i = 0; i < a.segments.length; i++) {
    const al = 'literal' in a.segments[i];
    const bl = 'literal' in b.segments[i];
    if (al !== bl) return al ? -1 : 1;
  }
  return 0;
}

export class RouteTable<T> {
  /** Routes by method, then by segment count. */
  private readonly index = new Map<string, Map<number, Compiled<T>[]>>();
  private readonly targets = new Map<ProxyRoute, readonly Segment[]>();
  private readonly variants: boolean;

  /** `paths`: the spellings that are the same path (default: exact matching only). */
  constructor(
    entries: readonly { readonly owner: T; readonly route: ProxyRoute }[],
    private readonly paths: PathEquivalences = EXACT_PATHS,
  ) {
    this.variants = anyEquivalence(paths);
    for (const { owner, route } of entries) {
      const compiled: Compiled<T> = {
        owner,
        route,
        segments: compile(route.path),
        target: compile(route.servicePath),
      };
      this.targets.set(route, compiled.target);
      for (const method of route.methods) {
        let bySize = this.index.get(method);
        if (!bySize) {
          bySize = new Map();
          this.index.set(method, bySize);
        }
        const list = bySize.get(compiled.segments.length) ?? [];
        list.push(compiled);
        bySize.set(compiled.segments.length, list);
      }
    }
    for (const bySize of this.index.values()) for (const list of bySize.values()) list.sort(specificFirst);
  }

  /**
   * The route a request is on, or undefined. `url` is the request target as received (origin form,
   * `/path?query`). A literal route wins over a placeholder one when both match (they cannot claim the
   * same endpoint: the config refuses that), because routes are tried literal-first. A path that matches
   * as sent is never a variant; one that matches only in its canonical spelling is.
   */
  match(method: string, url: string): RouteMatch<T> | undefined {
    const bySize = this.index.get(method);
    if (!bySize) return undefined;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.charCodeAt(0) !== 47 /* / */) return undefined;
    const query = q === -1 ? '' : url.slice(q);
    const exact = this.matchPath(bySize, path, query, false);
    if (exact || !this.variants) return exact;
    const canonical = canonicalPath(path, this.paths);
    if (canonical === path && !this.paths.letterCase) return undefined;
    return this.matchPath(bySize, canonical, query, true);
  }

  private matchPath(
    bySize: Map<number, Compiled<T>[]>,
    path: string,
    query: string,
    variant: boolean,
  ): RouteMatch<T> | undefined {
    const parts = path.split('/');
    const candidates = bySize.get(parts.length - 1);
    if (!candidates) return undefined;
    const foldCase = variant && this.paths.letterCase;
    for (const c of candidates) {
      const raw: Record<string, string> = {};
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < c.segments.length; i++) {
        const seg = c.segments[i];
        const part = parts[i + 1];
        if ('literal' in seg) {
          if (seg.literal !== part && !(foldCase && seg.literal.toLowerCase() === part.toLowerCase())) {
            ok = false;
            break;
          }
        } else {
          const value = decodeSegment(part);
          if (value === undefined) {
            ok = false;
            break;
          }
          raw[seg.param] = part;
          params[seg.param] = value;
        }
      }
      if (ok) return { owner: c.owner, route: c.route, raw, params, query, variant };
    }
    return undefined;
  }

  /** The request target at the service: the route's servicePath with the placeholders as sent, and the query. */
  rewrite(match: RouteMatch<T>): string {
    const target = this.targets.get(match.route) ?? compile(match.route.servicePath);
    let out = '';
    for (const seg of target) out += `/${'literal' in seg ? seg.literal : match.raw[seg.param]}`;
    return out + match.query;
  }
}
