/**
 * The flag contract (version 2): the JSON documents stored in SSM that route users between the monolith
 * and an extracted service. Shared by the CDK app, the Lambda hooks, the operator CLI, the routing proxy
 * and (through docs/flag-contract.md and the vectors) any PHP or Go reader. Pure TypeScript: no SDK, no env.
 *
 * Every rule of a document is pinned in docs/flag-contract.md and proven against the parse vectors of
 * lib/flags/vectors.json, written by an independent implementation (scripts/flag-vectors.py).
 */
import { isContractTime, RUN_ID } from '../formats';
import { describe, join, Reader } from '../validation/reader';
import { type JsonValue, parseJsonText } from './json-text';

/** Who goes to the new service. */
export type RoutingMode = 'off' | 'users' | 'percent' | 'all';

export const ROUTING_MODES: readonly RoutingMode[] = ['off', 'users', 'percent', 'all'];

/**
 * The second key of the emergency override, carried by the routing document itself so that every reader
 * sees it: which override (by its `expiresAt`) the write relies on, and why the loss is accepted.
 */
export interface OverrideReference {
  readonly expiresAt: string;
  readonly acceptDataLoss: string;
}

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
  /** After the point of no return: the override this document relies on (key two of two). */
  readonly override?: OverrideReference;
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
 * Emergency override, parameter `<prefix>/<service>/override`: key one of the two that allow routing away
 * from "all" after the point of no return (key two is the `override` block of the routing document).
 * Never created by a deploy; written by a person with the break-glass policy; in force until
 * `expiresAt`, which may be at most 24 hours after the write.
 */
export interface OverrideDocument {
  readonly acceptDataLoss: true;
  readonly reason: string;
  readonly expiresAt: string;
}

/** The flag parameters a deploy creates for every service. */
export type FlagKind = 'routing' | 'cutover' | 'gateway';

export const FLAG_KINDS: readonly FlagKind[] = ['routing', 'cutover', 'gateway'];

/** Every document of the contract: the deployed flags and the override. */
export type DocumentKind = FlagKind | 'override';

export const DOCUMENT_KINDS: readonly DocumentKind[] = [...FLAG_KINDS, 'override'];

interface Documents {
  readonly routing: RoutingDocument;
  readonly cutover: CutoverDocument;
  readonly gateway: GatewayDocument;
  readonly override: OverrideDocument;
}

export type FlagDocument<K extends DocumentKind> = Documents[K];

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Bytes an SSM parameter value may hold: standard tier 4 KB, advanced 8 KB. */
export const TIER_MAX_BYTES = { standard: 4096, advanced: 8192 } as const;

/** What a reader accepts: the largest value SSM can store. Writers also check their parameter's tier. */
export const MAX_DOCUMENT_BYTES = TIER_MAX_BYTES.advanced;

/** A user id: 1-64 characters of letters, digits and `_ . @ : -`, compared exactly (case-sensitive). */
export const USER_ID = /^[A-Za-z0-9_.@:-]{1,64}$/;

/** Longest free text (`reason`, `acceptDataLoss`), in Unicode code points. */
export const REASON_MAX = 200;
/** Shortest explanation of an emergency (override `reason`, routing `override.acceptDataLoss`). */
export const EMERGENCY_REASON_MIN = 10;

/** Longest time an override may be in force, counted from its write. */
export const OVERRIDE_MAX_HOURS = 24;

/** The values a deploy creates. */
export const INITIAL_DOCUMENTS: { readonly [K in FlagKind]: FlagDocument<K> } = {
  routing: { mode: 'off', users: [], percent: 0 },
  cutover: { completed: false },
  gateway: { weight: 0 },
};

/** The routing document that follows the point of no return: everyone on the new service. */
export const ALL_ROUTING: RoutingDocument = { mode: 'all', users: [], percent: 0 };

/** How one kind of document is read and written. One entry per kind: a new kind must add one. */
interface KindSpec<T> {
  readonly keys: readonly string[];
  /** A valid document, shown in the message for text that is not a JSON object. */
  readonly example: string;
  readonly read: (r: Reader, v: Record<string, JsonValue>) => T;
  /** Canonical text: stable key order, optional keys only when set. */
  readonly serialize: (doc: T) => string;
}

const KINDS: { readonly [K in DocumentKind]: KindSpec<Documents[K]> } = {
  routing: {
    keys: ['mode', 'users', 'percent', 'reason', 'override'],
    example: '{"mode":"off","users":[],"percent":0}',
    read: readRouting,
    serialize: (d) =>
      JSON.stringify({
        mode: d.mode,
        users: d.users,
        percent: d.percent,
        ...(d.reason !== undefined ? { reason: d.reason } : {}),
        ...(d.override
          ? { override: { expiresAt: d.override.expiresAt, acceptDataLoss: d.override.acceptDataLoss } }
          : {}),
      }),
  },
  cutover: {
    keys: ['completed', 'completedAt', 'runId'],
    example: '{"completed":false}',
    read: readCutover,
    serialize: (d) =>
      JSON.stringify(
        d.completed ? { completed: true, completedAt: d.completedAt, runId: d.runId } : { completed: false },
      ),
  },
  gateway: {
    keys: ['weight', 'reason'],
    example: '{"weight":0}',
    read: (r, v) => ({
      weight: r.integer('gateway.weight', v.weight, {
        min: 0,
        max: 100,
        fix: 'use a whole number from 0 (all legacy) to 100 (all gateway)',
      }),
      reason: readReason(r, 'gateway.reason', v.reason),
    }),
    serialize: (d) =>
      JSON.stringify({ weight: d.weight, ...(d.reason !== undefined ? { reason: d.reason } : {}) }),
  },
  override: {
    keys: ['acceptDataLoss', 'reason', 'expiresAt'],
    example:
      '{"acceptDataLoss":true,"reason":"users DB corrupted, INC-4711","expiresAt":"2026-11-26T18:00:00Z"}',
    read: (r, v) => {
      if (v.acceptDataLoss !== true)
        r.problem(
          'override.acceptDataLoss',
          'must be true: the override accepts losing the data written since the cutover',
        );
      return {
        acceptDataLoss: true,
        reason: readText(r, 'override.reason', v.reason, EMERGENCY_REASON_MIN, 'explain the emergency'),
        expiresAt: readTime(r, 'override.expiresAt', v.expiresAt, 'within 24 hours of the write'),
      };
    },
    serialize: (d) => JSON.stringify({ acceptDataLoss: true, reason: d.reason, expiresAt: d.expiresAt }),
  },
};

/**
 * Parses one document from a parameter's text under every rule of the contract. Never throws; errors
 * name the field and the fix. `maxBytes` is what the reader accepts (MAX_DOCUMENT_BYTES); a writer
 * passes the limit of its parameter's tier.
 */
export function parseFlag<K extends DocumentKind>(
  kind: K,
  text: string,
  maxBytes: number = MAX_DOCUMENT_BYTES,
): ParseResult<FlagDocument<K>> {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    const fix =
      maxBytes < MAX_DOCUMENT_BYTES
        ? 'shorten the user list (percent mode needs none), or set flags.tier to "advanced" in the environment file and deploy'
        : 'shorten the user list: percent mode needs none';
    return fail(`${kind}: the document is ${bytes} bytes of UTF-8, over the ${maxBytes}-byte limit; ${fix}`);
  }
  const spec = KINDS[kind] as KindSpec<FlagDocument<K>>;
  const json = parseJsonText(text);
  if (!json.ok)
    // Inside a field, the field is named as every other message names it (`routing.percent: ...`).
    return fail(
      json.path
        ? `${kind}${json.path.startsWith('[') ? '' : '.'}${json.path}: ${json.reason}`
        : `${kind}: not a valid document (${json.error}); write a JSON object such as ${spec.example}`,
    );
  const r = new Reader();
  const v = r.object(kind, json.value, spec.keys);
  if (!v) return { ok: false, errors: r.problems.map((p) => `${p.path}: ${p.message}`) };
  const value = spec.read(r, v as Record<string, JsonValue>);
  if (r.problems.length > 0) return { ok: false, errors: r.problems.map((p) => `${p.path}: ${p.message}`) };
  return { ok: true, value };
}

/** Serializes a document canonically (stable key order), as the hooks and the CLI write it. */
export function serializeFlag<K extends DocumentKind>(kind: K, doc: FlagDocument<K>): string {
  return (KINDS[kind] as KindSpec<FlagDocument<K>>).serialize(doc);
}

/** Why an override may not be written at `writtenAt` (empty when it may): it must expire within 24 hours. */
export function overrideWriteProblems(override: OverrideDocument, writtenAt: Date): string[] {
  const left = Date.parse(override.expiresAt) - writtenAt.getTime();
  if (left <= 0)
    return [`override.expiresAt: ${override.expiresAt} had passed when it was written; write a new override`];
  if (left > OVERRIDE_MAX_HOURS * 3600_000)
    return [
      `override.expiresAt: ${override.expiresAt} is more than ${OVERRIDE_MAX_HOURS} hours after the write; an override is for one emergency`,
    ];
  return [];
}

/** Whether both keys of the emergency override are present and in force at `now`. */
export function overrideInForce(
  routing: RoutingDocument | undefined,
  override: OverrideDocument | undefined,
  now: Date,
): boolean {
  return (
    routing?.override !== undefined &&
    override !== undefined &&
    routing.override.expiresAt === override.expiresAt &&
    now.getTime() < Date.parse(override.expiresAt)
  );
}

function fail<T>(error: string): ParseResult<T> {
  return { ok: false, errors: [error] };
}

/** Code points, not UTF-16 units: "😀" is one. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** C0 and C1 control characters and DEL (U+0000-U+001F, U+007F-U+009F). */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** Free text of `min`-200 code points without control characters. */
function readText(r: Reader, path: string, value: unknown, min: number, fix: string): string {
  if (typeof value !== 'string') {
    r.problem(path, `expected a string (${fix} in ${min}-${REASON_MAX} characters), got ${describe(value)}`);
    return '';
  }
  const n = codePoints(value);
  if (n < min || n > REASON_MAX)
    r.problem(path, `is ${n} characters; ${fix} in ${min}-${REASON_MAX} characters (Unicode code points)`);
  else if (hasControl(value))
    r.problem(path, 'contains a control character (such as a line break); remove it');
  return value;
}

function readReason(r: Reader, path: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return readText(r, path, value, 1, 'say why');
}

function readTime(r: Reader, path: string, value: unknown, when: string): string {
  const fix = `use a UTC time such as "2026-11-26T10:00:00Z" (${when})`;
  if (typeof value !== 'string') {
    r.problem(path, `expected a string (${fix}), got ${describe(value)}`);
    return '';
  }
  if (!isContractTime(value)) r.problem(path, `${JSON.stringify(value)} is not a valid time; ${fix}`);
  return value;
}

function readRouting(r: Reader, v: Record<string, JsonValue>): RoutingDocument {
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
  let override: OverrideReference | undefined;
  if (v.override !== undefined) {
    const o = r.object('routing.override', v.override, ['expiresAt', 'acceptDataLoss']) ?? {};
    override = {
      expiresAt: readTime(
        r,
        'routing.override.expiresAt',
        o.expiresAt,
        'the expiresAt of the override parameter',
      ),
      acceptDataLoss: readText(
        r,
        'routing.override.acceptDataLoss',
        o.acceptDataLoss,
        EMERGENCY_REASON_MIN,
        'say why losing the data written since the cutover is accepted',
      ),
    };
  }
  return {
    mode,
    users,
    percent,
    ...(v.reason !== undefined ? { reason: readReason(r, 'routing.reason', v.reason) } : {}),
    ...(override ? { override } : {}),
  };
}

function readCutover(r: Reader, v: Record<string, JsonValue>): CutoverDocument {
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
  const completedAt = readTime(r, 'cutover.completedAt', v.completedAt, 'when the bulk migration completed');
  const runId = r.string('cutover.runId', v.runId, {
    pattern: RUN_ID,
    fix: "use the name of the service's cutover execution (1-80 letters, digits, - or _)",
  });
  return { completed: true, completedAt, runId };
}
