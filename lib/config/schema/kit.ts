/**
 * The zod building blocks of the environment schema (lib/config/schema/). Each one carries the
 * messages the config has always given: the value found, and what to use instead. Paths are added by
 * `parseConfig` from the issue's path, so a message never repeats it.
 *
 * Two rules keep "every problem at once" working with zod:
 * - no check aborts (zod's own `.int()` does, so `int()` checks whole numbers with a refinement), and
 * - a cross-field rule is a `superRefine` guarded by `intact(...)`: it runs whenever the fields it reads
 *   are valid, whatever else in the document is wrong, and never sees a half-parsed value.
 */
import { z } from 'zod';
import { describe, listOr } from '../../validation/reader';

/**
 * A path pattern into the value a rule is attached to, e.g. `services.*.name`; `*` is any key or index.
 * A last part `{keys}` reads only the keys of a map (`alb.ruleBlocks.{keys}`): a bad value in it is no
 * reason to skip the rule.
 */
type Dependency = string;

const KEYS = '{keys}';

function overlaps(path: readonly PropertyKey[], dependency: Dependency): boolean {
  const parts = dependency.split('.');
  if (parts[parts.length - 1] === KEYS) {
    parts.pop();
    if (path.length > parts.length) return false;
  }
  const n = Math.min(path.length, parts.length);
  for (let i = 0; i < n; i++) {
    if (parts[i] !== '*' && parts[i] !== String(path[i])) return false;
  }
  return true;
}

/**
 * The `when` of a rule that reads `dependencies`: true unless an issue lies at, inside or above one of
 * them. Unknown keys do not count: the value keeps every known key.
 */
export function intact(...dependencies: Dependency[]): {
  when: (payload: z.core.ParsePayload) => boolean;
} {
  return {
    when: (payload) =>
      !payload.issues.some(
        (iss) => iss.code !== 'unrecognized_keys' && dependencies.some((d) => overlaps(iss.path ?? [], d)),
      ),
  };
}

/** Adds one problem at `path` (relative to the value the rule is attached to). */
export function problem(ctx: z.core.$RefinementCtx, path: PropertyKey[], message: string): void {
  ctx.addIssue({ code: 'custom', path, message });
}

export interface StringOptions {
  readonly pattern?: RegExp;
  /** What to use instead, appended to every message about this value. */
  readonly fix?: string;
}

/** A string, optionally matching `pattern`. */
export function str(opts: StringOptions = {}) {
  const s = z.string({
    error: (iss) => `expected a string${opts.fix ? ` (${opts.fix})` : ''}, got ${describe(iss.input)}`,
  });
  if (!opts.pattern) return s;
  return s.regex(opts.pattern, {
    error: (iss) => `${JSON.stringify(iss.input)} is not valid; ${opts.fix ?? `must match ${opts.pattern}`}`,
  });
}

export interface IntegerOptions {
  readonly min: number;
  readonly max: number;
  /** What to use instead of a value out of range. */
  readonly fix?: string;
}

/** A range check that stays quiet about a fraction (the whole-number check reports it). */
const onlyWhole = (error: (iss: { input?: unknown }) => string) =>
  // `when` is a check option the typed params of min and max do not list; zod honours it on every check.
  ({ error, when: (payload: z.core.ParsePayload) => Number.isInteger(payload.value) }) as {
    error: typeof error;
  };

/** A whole number from `min` to `max` (`"type": "integer"` in the JSON Schema). */
export function int(opts: IntegerOptions) {
  const whole = (iss: { input?: unknown }) =>
    `expected a whole number from ${opts.min} to ${opts.max}, got ${describe(iss.input)}`;
  const range = (iss: { input?: unknown }) =>
    `${iss.input} is out of range; ${opts.fix ?? `use a whole number from ${opts.min} to ${opts.max}`}`;
  return z
    .number({ error: whole })
    .refine(Number.isInteger, { error: whole })
    .min(opts.min, onlyWhole(range))
    .max(opts.max, onlyWhole(range))
    .meta({ type: 'integer' });
}

const allowed = (values: readonly (string | number)[]) => (iss: { input?: unknown }) =>
  `${describe(iss.input)} is not allowed; use ${listOr(values.map((v) => JSON.stringify(v)))}`;

/** One of a list of strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: allowed(values) });
}

/** One of a list of numbers. */
export function oneOfNumbers<const T extends readonly number[]>(values: T) {
  return z.literal(values as unknown as T[number][], { error: allowed(values) });
}

export function bool() {
  return z.boolean({ error: (iss) => `expected true or false, got ${describe(iss.input)}` });
}

export function array<T extends z.ZodType>(item: T) {
  return z.array(item, { error: (iss) => `expected an array, got ${describe(iss.input)}` });
}

/** Keys that were accepted once and are now refused with a reason; not offered as expected keys. */
const REFUSED = new WeakSet<z.ZodType>();

/**
 * A key that must be absent, with the reason and fix as its message (and its JSON Schema description).
 * It types as `undefined` and is dropped from the derived types (see `Config` in types.ts).
 */
export function refused(message: string) {
  const schema = z.never({ error: message }).optional().meta({ description: message });
  REFUSED.add(schema);
  return schema;
}

/** An object with exactly the keys of `shape` (and `$schema` at the root, for editors). */
export function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const expected = Object.keys(shape).filter(
    (k) => !k.startsWith('$') && !REFUSED.has(shape[k] as z.ZodType),
  );
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown key; expected one of ${expected.join(', ')}`
        : `expected an object, got ${describe(iss.input)}`,
  });
}

/** A map whose keys must match `key` (its message is the problem) and whose values are `value`. */
export function record<K extends z.ZodType<string, string>, V extends z.ZodType>(key: K, value: V) {
  return z.record(key, value, {
    error: (iss) =>
      iss.code === 'invalid_key' ? iss.issues[0]?.message : `expected an object, got ${describe(iss.input)}`,
  });
}

/** A map key: `fix` follows "invalid name" when the key does not match `pattern`. */
export function keyName(pattern: RegExp, fix: string) {
  return z.string().regex(pattern, { error: `invalid name; ${fix}` });
}

/** Objects told apart by `key`; an unknown value of it is one problem at `<path>.<key>`. */
export function union<
  const Options extends readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]],
>(key: string, options: Options) {
  return z.discriminatedUnion(key, options, {
    error: (iss) => {
      if (iss.code !== 'invalid_union' || iss.discriminator === undefined)
        return `expected an object, got ${describe(iss.input)}`;
      const values = ((iss.options ?? []) as unknown[]).filter((v) => v !== undefined) as (string | number)[];
      const found = (iss.input as Record<string, unknown> | undefined)?.[key];
      return allowed(values)({ input: found });
    },
  });
}
