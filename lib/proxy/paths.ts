/**
 * Other spellings of a path (docs/routing-proxy.md, "Other spellings of a route"). Many routers of a
 * monolith serve `/api/users/1001/`, `/api//users/1001`, `/api/./users/1001`, `/api/%75sers/1001`,
 * `/API/users/1001` or `/api\users\1001` as `/api/users/1001`. The proxy must not let such a spelling of
 * a migrated route reach the monolith unrouted: it finds the route through the canonical spelling and
 * then routes it (or refuses it with 400), whichever the configuration says. Pure.
 */

/** What the monolith may treat as the same path; each `true` makes the proxy treat it so too. */
export interface PathEquivalences {
  /** `/a/b/` is `/a/b`. */
  readonly trailingSlash: boolean;
  /** `/a//b` is `/a/b`. */
  readonly repeatedSlashes: boolean;
  /** `/a/./b` and `/a/x/../b` are `/a/b` (RFC 3986, 5.2.4). */
  readonly dotSegments: boolean;
  /** `%75` is `u`: percent-encoded unreserved characters (letters, digits, `-._~`) are the characters. */
  readonly percentEncoding: boolean;
  /** `/API/Users` is `/api/users` (literal segments only: a placeholder's value keeps its case). */
  readonly letterCase: boolean;
  /** `\` is `/`. */
  readonly backslashes: boolean;
  /** `%2F` is `/` (and `%5C` is `\` when backslashes are separators too). */
  readonly encodedSlashes: boolean;
}

/** `route`: a variant of a route is routed as the route; `refuse`: answered 400 by the proxy. */
export type PathVariantHandling = 'route' | 'refuse';

export interface PathVariants extends PathEquivalences {
  readonly handling: PathVariantHandling;
}

export const PATH_EQUIVALENCES: readonly (keyof PathEquivalences)[] = [
  'trailingSlash',
  'repeatedSlashes',
  'dotSegments',
  'percentEncoding',
  'letterCase',
  'backslashes',
  'encodedSlashes',
];

/**
 * The default: every equivalence on (the proxy does not know the monolith's router, and treating one
 * spelling too many as the route only sends that request where its route goes), variants routed.
 */
export const DEFAULT_PATH_VARIANTS: PathVariants = {
  handling: 'route',
  trailingSlash: true,
  repeatedSlashes: true,
  dotSegments: true,
  percentEncoding: true,
  letterCase: true,
  backslashes: true,
  encodedSlashes: true,
};

/** Exact matching only (the matcher's behaviour before issue 23; unit tests of exact matching). */
export const EXACT_PATHS: PathVariants = {
  handling: 'route',
  trailingSlash: false,
  repeatedSlashes: false,
  dotSegments: false,
  percentEncoding: false,
  letterCase: false,
  backslashes: false,
  encodedSlashes: false,
};

/** Whether any equivalence is on (else the canonical spelling is the path itself). */
export function anyEquivalence(e: PathEquivalences): boolean {
  return PATH_EQUIVALENCES.some((k) => e[k]);
}

const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/** Decodes the percent-encoded unreserved characters (and `%2F`/`%5C` when they are separators). */
function decodeSome(path: string, e: PathEquivalences): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (encoded, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    if (e.percentEncoding && UNRESERVED.test(char)) return char;
    if (e.encodedSlashes && (char === '/' || (char === '\\' && e.backslashes))) return '/';
    return encoded;
  });
}

/** RFC 3986 5.2.4 on segments: `.` dropped, `..` drops the one before it (never above the root). */
function removeDots(segments: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return out;
}

/**
 * The canonical spelling of a path (no query) under `e`; placeholders are matched on it as on any path.
 * A path that is not absolute is returned unchanged. The last segment of `/a/b/.` or `/a/b/..` is a
 * directory in RFC 3986 (it keeps a trailing slash), which trailingSlash then removes.
 */
export function canonicalPath(path: string, e: PathEquivalences): string {
  if (path.charCodeAt(0) !== 47 /* / */) return path;
  let p = path;
  if (e.backslashes) p = p.replaceAll('\\', '/');
  if (p.includes('%') && (e.percentEncoding || e.encodedSlashes)) p = decodeSome(p, e);
  let segments = p.split('/').slice(1);
  // Merged before the dot segments are removed, as nginx (merge_slashes) and most normalisers do.
  if (e.repeatedSlashes) segments = segments.filter((s, i) => s !== '' || i === segments.length - 1);
  let directory = false;
  if (e.dotSegments) {
    const last = segments[segments.length - 1];
    directory = last === '.' || last === '..';
    segments = removeDots(segments);
  }
  let out = `/${segments.join('/')}`;
  if (directory && !out.endsWith('/')) out += '/';
  if (e.trailingSlash) while (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out;
}
