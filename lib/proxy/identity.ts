/**
 * Who sent a request, from the one source its route names (docs/routing-proxy.md, "Who is the user?").
 * Pure: no I/O. Signature verification of a JWT (jose, with a remote JWKS) lives in the proxy; here a
 * token is only decoded. Every value found must be a user id of the flag contract (USER_ID); anything
 * else is no identity, never an error: malformed input makes a request anonymous, it never fails it.
 */
import type { RouteIdentity } from '../config/types';
import { USER_ID } from '../flags/documents';

/** Longest token the proxy decodes (a JWT is far below; anything longer is not one). */
export const MAX_TOKEN_CHARS = 16384;

/** A user id of the flag contract, from a string or a whole number; undefined for anything else. */
export function validUserId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) value = String(value);
  return typeof value === 'string' && USER_ID.test(value) ? value : undefined;
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$/i.exec(authorization);
  return m ? m[1] : undefined;
}

/** The value of the first cookie named `name` in a Cookie header (quotes removed, %-escapes decoded). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    }
    return value;
  }
  return undefined;
}

/** The JSON payload of a compact JWS, not verified; undefined when the text is not one. */
export function jwtPayload(token: string): Record<string, unknown> | undefined {
  if (token.length > MAX_TOKEN_CHARS) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The token a JWT identity reads: from its cookie, or the bearer token. */
export function jwtToken(
  identity: Extract<RouteIdentity, { source: 'jwt' }>,
  header: (name: string) => string | undefined,
): string | undefined {
  return identity.cookie !== undefined
    ? cookieValue(header('cookie'), identity.cookie)
    : bearerToken(header('authorization'));
}

/** The values of a header (lowercase `name`) in a raw [name, value, ...] list, in order. */
export function headerValues(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].length === name.length && raw[i].toLowerCase() === name) out.push(raw[i + 1]);
  return out;
}

/** The first value of a header (lowercase `name`) in a raw list: Node joins unknown repeated ones. */
export function firstHeader(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].length === name.length && raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

/**
 * The header a route reads its user from, when the request repeats it with different values (its
 * lowercase name), else undefined. Such a request is refused: the proxy would route by one value while
 * the monolith or the service may read the other (PHP behind nginx may see the last, Go's Header.Get the
 * first), so that a user's write could land on the wrong side. Cookies are not refused: the first
 * cookie of a name wins, in the proxy as in PHP's $_COOKIE and Go's Request.Cookie.
 */
export function ambiguousIdentityHeader(identity: RouteIdentity, raw: readonly string[]): string | undefined {
  const name =
    identity.source === 'header'
      ? identity.name.toLowerCase()
      : identity.source === 'jwt' && identity.cookie === undefined
        ? 'authorization'
        : undefined;
  if (name === undefined) return undefined;
  const values = headerValues(raw, name);
  return values.some((v) => v.trim() !== values[0].trim()) ? name : undefined;
}

/** Whether a request has more than one Host header line (RFC 9112 3.2: answered 400). */
export function repeatedHost(raw: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== 4 || raw[i].toLowerCase() !== 'host') continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}

/** What a request offers to find its user: decoded path placeholders, and its headers by lowercase name. */
export interface RequestParts {
  readonly params: Readonly<Record<string, string>>;
  /** The first value of a header (lowercase name), or undefined. */
  readonly header: (name: string) => string | undefined;
}

/**
 * The user id of a request whose route reads it from the path, a header, a cookie or an unverified JWT.
 * A body identity needs the body (see `bodyIdentity`); a verified JWT needs the proxy's verifier.
 */
export function requestIdentity(identity: RouteIdentity, request: RequestParts): string | undefined {
  switch (identity.source) {
    case 'path':
      return validUserId(request.params[identity.name]);
    case 'header': {
      const value = request.header(identity.name.toLowerCase());
      return validUserId(value?.trim());
    }
    case 'cookie':
      return validUserId(cookieValue(request.header('cookie'), identity.name));
    case 'jwt': {
      const token = jwtToken(identity, request.header);
      return token === undefined ? undefined : validUserId(jwtPayload(token)?.[identity.claim]);
    }
    case 'body':
      return undefined;
  }
}

/**
 * The user id in a complete request body: a field (dotted path) of a JSON object, or of a form
 * (`application/x-www-form-urlencoded`, the field name as written). Anything else: undefined.
 */
export function bodyIdentity(
  field: string,
  contentType: string | undefined,
  body: Buffer,
): string | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    return validUserId(new URLSearchParams(body.toString('utf8')).get(field) ?? undefined);
  }
  if (type !== 'application/json' && !type.endsWith('+json')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  for (const key of field.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key))
      return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return validUserId(value);
}
