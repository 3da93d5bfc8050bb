/**
 * The flag contract: the JSON documents stored in SSM that route users between the monolith and an
 * extracted service. Shared by the CDK app, the Lambda hooks, the operator CLI, and (through
 * docs/flag-contract.md and the test vectors) the PHP and Go services. Pure TypeScript: no SDK, no env.
 */
import { describe, join, Reader } from '../validation/reader';

/** Who goes to the new service. */
export type RoutingMode = 'off' | 'users' | 'percent' | 'all';

export const ROUTING_MODES: readonly RoutingMode[] = ['off', 'users', 'percent', 'all'];

/**
 * Routing document, parameter `<prefix>/<service>/routing`.
 * - `off`: everyone stays on the monolith;
 * - `users`: only the listed users go to the service;
 * - `percent`: the listed users, plus every user whose sticky bucket is below `percent`;
 * - `all`: everyone goes to the service.
 * `users` and `percent` may stay in the document in any mode, so that a flip to `off` and back keeps them.
 */
export interface RoutingDocument {
  readonly mode: RoutingMode;
  readonly users: readonly string[];
  readonly percent: number;
  /** Free text for the audit trail: why this change was made. */
  readonly reason?: string;
}

/**
 * Cutover document, parameter `<prefix>/<service>/cutover`: whether the bulk data migration has
 * completed. Once `completed` is true the new database is the only truth: the point of no return.
 */
export type CutoverDocument =
  | { readonly completed: false }
  | { readonly completed: true; readonly completedAt: string; readonly runId: string };

/** Gateway document, parameter `<prefix>/<service>/gateway`: the share of traffic (0-100) the ALB sends to the gateway. */
export interface GatewayDocument {
  readonly weight: number;
  readonly reason?: string;
}

/**
 * Emergency override, parameter `<prefix>/<service>/override`: the first of two keys that allow routing
 * away from "all" after the point of no return (the second is the CLI's --accept-data-loss). Never
 * created by a deploy; written by a person with the break-glass permission; valid until `expiresAt`
 * (at most 24 hours after it was written).
 */
export interface OverrideDocument {
  readonly acceptDataLoss: true;
  readonly reason: string;
  readonly expiresAt: string;
}

export type FlagKind = 'routing' | 'cutover' | 'gateway';

export const FLAG_KINDS: readonly FlagKind[] = ['routing', 'cutover', 'gateway'];

export type FlagDocument<K extends FlagKind> = K extends 'routing'
  ? RoutingDocument
  : K extends 'cutover'
    ? CutoverDocument
    : GatewayDocument;

/** Parses the override document; `now` decides whether it has expired. */
export function parseOverride(text: string, now: Date): ParseResult<OverrideDocument> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`override: not valid JSON (${(e as Error).message})`);
  }
  const r = new Reader();
  const v = r.object('override', json, ['acceptDataLoss', 'reason', 'expiresAt']) ?? {};
  if (v.acceptDataLoss !== true)
    r.problem(
      'override.acceptDataLoss',
      'must be true: the override accepts losing the data written since the cutover',
    );
  const reason = r.string('override.reason', v.reason, {
    pattern: /^.{10,200}$/s,
    fix: 'explain the emergency in 10-200 characters',
  });
  const expiresAt = r.string('override.expiresAt', v.expiresAt, {
    pattern: ISO_TIME,
    fix: 'use an ISO-8601 UTC time within 24 hours',
  });
  if (r.problems.length === 0) {
    const expires = Date.parse(expiresAt);
    if (expires <= now.getTime())
      r.problem('override.expiresAt', `${expiresAt} has passed; write a new override`);
    else if (expires - now.getTime() > 24 * 3600 * 1000)
      r.problem(
        'override.expiresAt',
        `${expiresAt} is more than 24 hours away; an override is for one emergency`,
      );
  }
  if (r.problems.length > 0) return { ok: false, errors: r.problems.map((p) => `${p.path}: ${p.message}`) };
  return { ok: true, value: { acceptDataLoss: true, reason, expiresAt } };
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Bytes an SSM parameter value may hold: standard tier 4 KB, advanced 8 KB. */
export const TIER_MAX_BYTES = { standard: 4096, advanced: 8192 } as const;

/** A user id: 1-64 characters of letters, digits and `_ . @ : -`, compared exactly (case-sensitive). */
export const USER_ID = /^[A-Za-z0-9_.@:-]{1,64}$/;

const REASON_MAX = 200;

/** The values a deploy creates, and what a consumer assumes when nothing was ever loaded: routing off. */
export const INITIAL_DOCUMENTS: { readonly [K in FlagKind]: FlagDocument<K> } = {
  routing: { mode: 'off', users: [], percent: 0 },
  cutover: { completed: false },
  gateway: { weight: 0 },
};

/** Parses one flag document from the parameter's text. Never throws; errors name the field and the fix. */
export function parseFlag<K extends FlagKind>(
  kind: K,
  text: string,
  maxBytes: number = TIER_MAX_BYTES.standard,
): ParseResult<FlagDocument<K>> {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    return fail(
      `${kind}: the document is ${bytes} bytes, over the ${maxBytes}-byte limit of its SSM tier; shorten the user list (use percent mode) or use the advanced tier`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(
      `${kind}: not valid JSON (${(e as Error).message}); write a JSON object such as ${JSON.stringify(INITIAL_DOCUMENTS[kind])}`,
    );
  }
  const r = new Reader();
  const value = READERS[kind](r, json);
  if (r.problems.length > 0) return { ok: false, errors: r.problems.map((p) => `${p.path}: ${p.message}`) };
  return { ok: true, value: value as FlagDocument<K> };
}

/** Serializes a document canonically (stable key order), as the hooks and the CLI write it. */
export function serializeFlag<K extends FlagKind>(kind: K, doc: FlagDocument<K>): string {
  switch (kind) {
    case 'routing': {
      const d = doc as RoutingDocument;
      return JSON.stringify({
        mode: d.mode,
        users: d.users,
        percent: d.percent,
        ...(d.reason ? { reason: d.reason } : {}),
      });
    }
    case 'cutover': {
      const d = doc as CutoverDocument;
      return JSON.stringify(
        d.completed ? { completed: true, completedAt: d.completedAt, runId: d.runId } : { completed: false },
      );
    }
    default: {
      const d = doc as GatewayDocument;
      return JSON.stringify({ weight: d.weight, ...(d.reason ? { reason: d.reason } : {}) });
    }
  }
}

function fail<T>(error: string): ParseResult<T> {
  return { ok: false, errors: [error] };
}

const READERS: { readonly [K in FlagKind]: (r: Reader, json: unknown) => FlagDocument<K> } = {
  routing: readRouting,
  cutover: readCutover,
  gateway: readGateway,
};

function readReason(r: Reader, path: string, value: unknown): string | undefined {
  const reason = r.optionalString(path, value);
  if (reason !== undefined && reason.length > REASON_MAX)
    r.problem(path, `is ${reason.length} characters; keep it under ${REASON_MAX}`);
  return reason;
}

function readRouting(r: Reader, json: unknown): RoutingDocument {
  const v = r.object('routing', json, ['mode', 'users', 'percent', 'reason']) ?? {};
  const mode = r.oneOf('routing.mode', v.mode, ROUTING_MODES);
  const users = r.array('routing.users', v.users, []).map((u, i) => {
    const path = join('routing.users', i);
    if (typeof u !== 'string') {
      r.problem(path, `expected a user id string, got ${describe(u)}; write ids as strings, e.g. "42"`);
      return '';
    }
    if (!USER_ID.test(u))
      r.problem(path, `${JSON.stringify(u)} is not a valid user id; use 1-64 letters, digits or _ . @ : -`);
    return u;
  });
  const seen = new Set<string>();
  users.forEach((u, i) => {
    if (u !== '' && seen.has(u))
      r.problem(join('routing.users', i), `${JSON.stringify(u)} is listed twice; list each user once`);
    seen.add(u);
  });
  const percent = r.integer('routing.percent', v.percent, {
    default: 0,
    min: 0,
    max: 100,
    fix: 'use a whole number from 0 to 100',
  });
  if (mode === 'users' && users.length === 0)
    r.problem('routing.users', 'mode "users" needs at least one user id; list them or use mode "off"');
  if (mode === 'percent' && v.percent === undefined)
    r.problem('routing.percent', 'mode "percent" needs a percent from 0 to 100');
  return { mode, users, percent, reason: readReason(r, 'routing.reason', v.reason) };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function readCutover(r: Reader, json: unknown): CutoverDocument {
  const v = r.object('cutover', json, ['completed', 'completedAt', 'runId']) ?? {};
  if (typeof v.completed !== 'boolean') {
    r.problem('cutover.completed', `expected true or false, got ${describe(v.completed)}`);
    return { completed: false };
  }
  if (!v.completed) {
    for (const key of ['completedAt', 'runId']) {
      if (v[key] !== undefined) r.problem(`cutover.${key}`, 'only applies when completed is true; remove it');
    }
    return { completed: false };
  }
  const completedAt = r.string('cutover.completedAt', v.completedAt, {
    pattern: ISO_TIME,
    fix: 'use an ISO-8601 UTC time such as "2026-11-26T10:00:00Z"',
  });
  const runId = r.string('cutover.runId', v.runId, {
    pattern: /^[A-Za-z0-9:_./-]{1,256}$/,
    fix: 'use the id of the migration run (the execution name or ARN)',
  });
  return { completed: true, completedAt, runId };
}

function readGateway(r: Reader, json: unknown): GatewayDocument {
  const v = r.object('gateway', json, ['weight', 'reason']) ?? {};
  return {
    weight: r.integer('gateway.weight', v.weight, {
      min: 0,
      max: 100,
      fix: 'use a whole number from 0 (all legacy) to 100 (all gateway)',
    }),
    reason: readReason(r, 'gateway.reason', v.reason),
  };
}
