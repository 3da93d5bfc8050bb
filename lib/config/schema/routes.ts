/**
 * Routes: the endpoints a service takes over from the monolith, and where the routing proxy finds the
 * user of a request on each.
 */
import { z } from 'zod';
import { HOP_BY_HOP_HEADERS } from '../../formats';
import { describe, listOr } from '../../validation/reader';
import { array, int, intact, oneOf, problem, str, strict, union } from './kit';

export const ROUTE_PATH = /^(\/([A-Za-z0-9._~-]+|\{[a-z][a-zA-Z0-9_]*\}))+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const CLAIM_NAME = /^[A-Za-z0-9_:/.#-]{1,128}$/;
const BODY_FIELD = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,4}$/;
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/;
const VISIBLE_ASCII = /^[\x21-\x7e]{1,256}$/;

/** The methods a route may be written with; HEAD and OPTIONS only to say why they are refused. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const ROUTED: readonly (typeof HTTP_METHODS)[number][] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const UNROUTED: readonly (typeof HTTP_METHODS)[number][] = ['HEAD', 'OPTIONS'];

/**
 * A regex refusing each of `words` in any letter case. JSON Schema patterns take no flags, so each letter
 * is a class (`[cC][oO]...`).
 */
function noneOfCaseless(words: readonly string[]): RegExp {
  const caseless = (w: string) =>
    [...w]
      .map((ch) => (/[a-z]/.test(ch) ? `[${ch}${ch.toUpperCase()}]` : ch)) // header names: letters, digits and -
      .join('');
  return new RegExp(`^(?!(${words.map(caseless).join('|')})$)`);
}

/** What is wrong with a method that is not one of HTTP_METHODS: offers the routed ones only. */
function methodProblem(input: unknown): string {
  const upper = typeof input === 'string' ? input.toUpperCase() : undefined;
  if (upper !== undefined && (ROUTED as readonly string[]).includes(upper))
    return `${describe(input)} is not allowed: methods are written in capitals; use "${upper}"`;
  return `${describe(input)} is not allowed; use ${listOr(ROUTED.map((m) => `"${m}"`))}`;
}

/** Placeholder names of a route path, in order. */
export function placeholders(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
}

/** Headers the proxy rewrites or drops (hop-by-hop and forwarding headers): never an identity. */
const NOT_IDENTITY_HEADERS = [
  ...HOP_BY_HOP_HEADERS,
  'host',
  'content-length',
  'cookie',
  'authorization',
  'x-forwarded-for',
];

const jwtText = str({ pattern: VISIBLE_ASCII, fix: 'use 1-256 visible ASCII characters' }).optional();

/** Where the routing proxy finds the user of a request (docs/routing-proxy.md, "Who is the user?"). */
const identity = union('source', [
  strict({
    source: z.literal('path'),
    name: str({ fix: 'use a placeholder of the route path' }).meta({
      description: 'A placeholder of the route path, e.g. "id" of /api/users/{id}.',
    }),
  }),
  strict({
    source: z.literal('header'),
    name: str({ pattern: HEADER_NAME, fix: 'use a header name such as "X-User-Id"' })
      .regex(noneOfCaseless(NOT_IDENTITY_HEADERS), {
        error: (iss) =>
          `${JSON.stringify(iss.input)} cannot carry the user id; use source "jwt" for tokens, "cookie" for cookies, or another header`,
      })
      .meta({ description: 'A request header set by an upstream authenticator, e.g. "X-User-Id".' }),
  }),
  strict({
    source: z.literal('cookie'),
    name: str({ pattern: COOKIE_NAME, fix: 'use the cookie name, e.g. "uid"' }),
  }),
  strict({
    source: z.literal('jwt'),
    claim: str({ pattern: CLAIM_NAME, fix: 'use a top-level claim name such as "sub"' })
      .default('sub')
      .meta({ description: 'A top-level claim of the token.' }),
    cookie: str({
      pattern: COOKIE_NAME,
      fix: 'use the name of the cookie that holds the token, or remove it for the Authorization header',
    })
      .optional()
      .meta({ description: 'The cookie holding the token; default: the Authorization: Bearer header.' }),
    jwksUrl: str({
      pattern: HTTPS_URL,
      fix: 'use the https URL of the identity provider\'s JWKS, e.g. "https://login.example.com/.well-known/jwks.json"',
    })
      .optional()
      .meta({
        description:
          'Verify the signature against this JWKS; default: not verified (the claim only routes the request).',
      }),
    issuer: jwtText.meta({ description: 'Expected issuer of a verified token.' }),
    audience: jwtText.meta({ description: 'Expected audience of a verified token.' }),
  })
    .superRefine((v, ctx) => {
      if (v.jwksUrl !== undefined) return;
      for (const key of ['issuer', 'audience'] as const) {
        if (v[key] !== undefined)
          problem(ctx, [key], 'only applies to a verified token; set jwksUrl too, or remove it');
      }
    }, intact('jwksUrl'))
    .transform(({ source, claim, cookie, jwksUrl, issuer, audience }) => ({
      source,
      claim,
      ...(cookie !== undefined ? { cookie } : {}),
      ...(jwksUrl !== undefined
        ? {
            jwks: {
              url: jwksUrl,
              ...(issuer !== undefined ? { issuer } : {}),
              ...(audience !== undefined ? { audience } : {}),
            },
          }
        : {}),
    })),
  strict({
    source: z.literal('body'),
    field: str({
      pattern: BODY_FIELD,
      fix: 'use a field name, or a dotted path of up to 5 names such as "user.email"',
    }).meta({ description: 'A field of a JSON or form body (login routes); the body is forwarded intact.' }),
    maxBytes: int({
      min: 256,
      max: 1048576,
      fix: 'use 256 to 1048576 bytes: the proxy holds this much of the body in memory to find the field',
    })
      .default(16384)
      .meta({ description: 'How much of the body the proxy reads to find the field.' }),
  }),
]);

export const routePathFix =
  'use an absolute path of literal segments and {placeholders}, e.g. "/api/users/{id}"; wildcards are not allowed';

export const route = strict({
  path: str({ pattern: ROUTE_PATH, fix: routePathFix }).meta({
    description: 'What clients call today (old apps included); {name} stands for one path segment.',
  }),
  methods: array(
    // The JSON Schema offers only the methods a route can take; the parser reads HEAD and OPTIONS to say why.
    z.enum(HTTP_METHODS, { error: (iss) => methodProblem(iss.input) }).meta({ enum: [...ROUTED] }),
  )
    .min(1, { error: `list at least one of ${ROUTED.join(', ')}` })
    .meta({ uniqueItems: true }),
  servicePath: str({ pattern: ROUTE_PATH, fix: routePathFix }).meta({
    description: "The new service's path; its placeholders are those of path.",
  }),
  identity: identity.optional(),
  anonymous: oneOf(['legacy', 'service']).optional().meta({
    description:
      'Where a request without an identity goes when the routing document lists users or a percentage (default "legacy").',
  }),
})
  .superRefine(
    (v, ctx) => {
      v.methods.forEach((method, k) => {
        if (UNROUTED.includes(method))
          problem(
            ctx,
            ['methods', k],
            `${method} cannot be routed to a service: KrakenD CE registers no HEAD or OPTIONS endpoint, so the ALB would send it to a gateway without the route; remove it (${UNROUTED.join(' and ')} requests on ${v.path} stay with the monolith, whose proxy handles them)`,
          );
      });
    },
    intact('methods', 'path'),
  )
  .superRefine((v, ctx) => {
    if (new Set(v.methods).size !== v.methods.length)
      problem(ctx, ['methods'], 'lists a method twice; list each once');
  }, intact('methods'))
  .superRefine((v, ctx) => {
    const defined = placeholders(v.path);
    if (new Set(defined).size !== defined.length)
      problem(ctx, ['path'], 'uses a placeholder name twice; give each a distinct name');
  }, intact('path'))
  .superRefine(
    (v, ctx) => {
      const defined = new Set(placeholders(v.path));
      for (const ph of placeholders(v.servicePath)) {
        if (defined.has(ph)) continue;
        const options = [...defined].map((d) => `{${d}}`);
        const fix =
          options.length === 0
            ? 'remove it'
            : `use ${options.length === 1 ? '' : 'one of '}${listOr(options)}`;
        problem(
          ctx,
          ['servicePath'],
          `uses {${ph}}, which path ${JSON.stringify(v.path)} does not define; ${fix}`,
        );
      }
    },
    intact('path', 'servicePath'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.identity?.source !== 'path') return;
      const defined = placeholders(v.path);
      if (!defined.includes(v.identity.name))
        problem(
          ctx,
          ['identity', 'name'],
          defined.length === 0
            ? `${JSON.stringify(v.path)} has no placeholder; use another identity source`
            : `${JSON.stringify(v.identity.name)} is not a placeholder of ${JSON.stringify(v.path)}; use ${listOr(defined.map((d) => `"${d}"`))}`,
        );
    },
    intact('path', 'identity'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.identity?.source !== 'body') return;
      const withoutBody = v.methods.filter(
        (m) => m === 'GET' || m === 'HEAD' || m === 'DELETE' || m === 'OPTIONS',
      );
      if (withoutBody.length > 0)
        problem(
          ctx,
          ['identity', 'source'],
          `${withoutBody.join(', ')} requests carry no body to read; give them a route of their own with another identity source`,
        );
    },
    intact('methods', 'identity'),
  )
  .meta({ description: 'One endpoint the extracted service takes over from the monolith.' });
