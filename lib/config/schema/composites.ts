/**
 * Composite endpoints: an old GET endpoint whose one document the gateway assembles from several parts
 * called in parallel (KrakenD's aggregation), each from an extracted service or from the monolith
 * through the routing proxy, and each placed in the old document (under a key, renamed fields, only some
 * fields). docs/gateway-composition.md says what a client receives; decision 0014 why.
 */
import { listOr } from '../../validation/reader';
import { array, int, intact, keyName, oneOf, problem, record, str, strict } from './kit';
import { HTTP_METHODS, placeholders, ROUTE_PATH, routePathFix } from './routes';

/** A top-level key of a JSON document, as KrakenD's `group`, `mapping` and `is_collection` place it. */
const FIELD = /^[A-Za-z0-9_-]{1,64}$/;
/** A field of a JSON document, nested with dots (KrakenD's `allow`, `deny` and `target`). */
const FIELD_PATH = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,4}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

/** Where a part comes from when it still lives in the monolith: the routing proxy's endpoint. */
export const LEGACY_PART = 'legacy';

const fieldFix = 'use a JSON key of 1-64 letters, digits, _ or -';
const pathFix = 'use a JSON field, nested with dots (up to 5 levels), e.g. "profile.email"';

const part = strict({
  from: str({
    pattern: /^[a-z][a-z0-9]{1,15}$/,
    fix: `use "${LEGACY_PART}" (the monolith, through the routing proxy) or the name of an extracted service`,
  }).meta({
    description: `"${LEGACY_PART}": the monolith, through the routing proxy (per-user routing and the point of no return still apply); or an extracted service, called directly.`,
  }),
  path: str({ pattern: ROUTE_PATH, fix: routePathFix }).meta({
    description: `The path on that backend: the monolith's own (old) path for "${LEGACY_PART}", the service's path otherwise; its placeholders are those of the composite path.`,
  }),
  group: str({ pattern: FIELD, fix: fieldFix })
    .optional()
    .meta({ description: 'Place the answer under this key of the document (KrakenD group).' }),
  collection: str({ pattern: FIELD, fix: fieldFix }).optional().meta({
    description:
      'The answer is a JSON array: place it under this key (KrakenD is_collection, its "collection" key renamed).',
  }),
  allow: array(str({ pattern: FIELD_PATH, fix: pathFix }))
    .min(1, { error: 'list at least one field, or remove allow' })
    .meta({ uniqueItems: true })
    .optional()
    .meta({ description: 'Keep only these fields of the answer (KrakenD allow); the rest is dropped.' }),
  deny: array(
    str({
      pattern: /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})?$/,
      fix: 'use a JSON field or "parent.field": KrakenD deny reaches two levels',
    }),
  )
    .min(1, { error: 'list at least one field, or remove deny' })
    .meta({ uniqueItems: true })
    .optional()
    .meta({ description: 'Drop these fields of the answer (KrakenD deny).' }),
  mapping: record(keyName(FIELD, fieldFix), str({ pattern: FIELD, fix: fieldFix }))
    .optional()
    .meta({ description: 'Rename top-level fields of the answer: { "old": "new" } (KrakenD mapping).' }),
  target: str({ pattern: FIELD_PATH, fix: pathFix })
    .optional()
    .meta({ description: 'Take only this nested object of the answer as the answer (KrakenD target).' }),
})
  .superRefine(
    (v, ctx) => {
      for (const key of ['allow', 'deny'] as const) {
        const fields = v[key] ?? [];
        fields.forEach((f, i) => {
          if (fields.indexOf(f) !== i)
            problem(ctx, [key, i], `lists "${f}" twice (KrakenD's schema refuses it); list each field once`);
        });
      }
    },
    intact('allow', 'deny'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.allow && v.deny)
        problem(ctx, ['deny'], 'KrakenD applies allow and ignores deny when both are set; keep one of them');
    },
    intact('allow', 'deny'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.collection === undefined) return;
      const objectOnly = (['group', 'allow', 'deny', 'mapping', 'target'] as const).filter(
        (k) => v[k] !== undefined,
      );
      if (objectOnly.length > 0)
        problem(
          ctx,
          ['collection'],
          `places a JSON array under "${v.collection}"; ${objectOnly.join(', ')} shape${objectOnly.length === 1 ? 's' : ''} an object: remove ${objectOnly.length === 1 ? 'it' : 'them'}, or remove collection if the answer is an object`,
        );
    },
    intact('collection', 'group', 'allow', 'deny', 'mapping', 'target'),
  )
  .superRefine(
    (v, ctx) => {
      if (!v.mapping || !v.allow) return;
      const kept = new Set(v.allow.map((f) => f.split('.')[0]));
      for (const from of Object.keys(v.mapping)) {
        if (!kept.has(from))
          problem(
            ctx,
            ['mapping', from],
            `renames "${from}", which allow drops first (KrakenD filters before it renames): add "${from}" to allow`,
          );
      }
    },
    intact('mapping', 'allow'),
  )
  .meta({ description: 'One part of a composite endpoint: where it comes from and where it lands.' });

/** The keys a part's answer lands under, when it does not land at the root of the document. */
function placedUnder(p: { group?: string; collection?: string }): string | undefined {
  return p.group ?? p.collection;
}

/**
 * The top-level keys a root part's answer can have, when its shape says so: with `allow`, the kept
 * top-level fields, renamed by `mapping`. Undefined when any key can come (no allow).
 */
function rootKeys(p: { allow?: readonly string[]; mapping?: Readonly<Record<string, string>> }) {
  if (!p.allow) return undefined;
  return new Set(p.allow.map((f) => f.split('.')[0]).map((k) => p.mapping?.[k] ?? k));
}

export const composite = strict({
  path: str({ pattern: ROUTE_PATH, fix: routePathFix }).meta({
    description: 'The old endpoint clients call (old apps included); {name} stands for one path segment.',
  }),
  method: oneOf(HTTP_METHODS)
    .default('GET')
    .meta({ enum: ['GET'], description: 'GET: a composite endpoint answers reads only.' }),
  timeoutMs: int({
    min: 100,
    max: 60000,
    fix: 'use 100 to 60000 milliseconds (the load balancer gives up after 60 s)',
  })
    .optional()
    .meta({
      description:
        'How long the gateway waits for the parts, in milliseconds; a part not back by then is missing from the answer. Default: gateway.timeoutMs.',
    }),
  headers: array(
    str({ pattern: HEADER_NAME, fix: 'use a header name such as "X-Api-Version"' }).regex(
      /^(?![aA][cC][cC][eE][pP][tT]-[eE][nN][cC][oO][dD][iI][nN][gG]$)/,
      {
        error:
          'the gateway decodes every part itself and reads gzip only: a part compressed otherwise would fail; remove it',
      },
    ),
  )
    .default([])
    .meta({
      description:
        "Request headers passed to every part besides the standard ones (trace context, Authorization, Cookie, Accept-Language, User-Agent and the routes' identity headers).",
    }),
  parts: array(part)
    .min(2, {
      error:
        'a composite joins at least two parts; an endpoint answered by one backend is a route (services[].routes)',
    })
    .meta({ description: 'The backends called in parallel, and where each answer lands in the document.' }),
})
  .superRefine(
    (v, ctx) => {
      if (v.method === 'GET') return;
      problem(
        ctx,
        ['method'],
        v.method === 'HEAD' || v.method === 'OPTIONS'
          ? `KrakenD CE registers no ${v.method} endpoint; ${v.method} requests on ${v.path} stay with the monolith: remove the method (GET is the default)`
          : `a composite endpoint answers GET only: a write sent to several backends cannot be undone when one of them fails; make ${v.method} ${v.path} a route of the service that owns the write (services[].routes)`,
      );
    },
    intact('method', 'path'),
  )
  .superRefine(
    (v, ctx) => {
      const defined = placeholders(v.path);
      if (new Set(defined).size !== defined.length)
        problem(ctx, ['path'], 'uses a placeholder name twice; give each a distinct name');
      v.parts.forEach((p, i) => {
        for (const ph of placeholders(p.path)) {
          if (defined.includes(ph)) continue;
          problem(
            ctx,
            ['parts', i, 'path'],
            `uses {${ph}}, which path ${JSON.stringify(v.path)} does not define; ${defined.length === 0 ? 'remove it' : `use ${listOr(defined.map((d) => `{${d}}`))}`}`,
          );
        }
      });
    },
    intact('path', 'parts.*.path'),
  )
  .superRefine((v, ctx) => {
    // Parts land in one document: KrakenD merges their top-level keys, the last answer winning a key.
    const roots = v.parts.flatMap((p, i) => (placedUnder(p) === undefined ? [i] : []));
    for (const i of roots.slice(1))
      problem(
        ctx,
        ['parts', i],
        `lands at the root of the document like parts[${roots[0]}]: a key both answers have would come from whichever answers last; give one of them a group`,
      );
    const owners = new Map<string, number>();
    v.parts.forEach((p, i) => {
      const key = placedUnder(p);
      if (key === undefined) return;
      const first = owners.get(key);
      if (first !== undefined)
        problem(
          ctx,
          ['parts', i, p.group !== undefined ? 'group' : 'collection'],
          `"${key}" is also where parts[${first}] lands; the later answer would replace the earlier: use another key`,
        );
      else owners.set(key, i);
      if (roots.length === 0) return;
      const keys = rootKeys(v.parts[roots[0]]);
      if (keys?.has(key))
        problem(
          ctx,
          ['parts', i, p.group !== undefined ? 'group' : 'collection'],
          `"${key}" is also a field parts[${roots[0]}] keeps at the root; the later answer would replace the earlier: use another key`,
        );
    });
  }, intact('parts'))
  .meta({
    description:
      'An old GET endpoint whose document the gateway assembles from several parts called in parallel (phase 3, krakend mode).',
  });
