/**
 * A small reader for untrusted JSON: each accessor checks one value, records a problem with its path
 * and the fix, and returns a usable fallback so that every problem in a document is reported in one run.
 */

/** One problem found in a document: where it is and what to do about it. */
export interface ConfigProblem {
  /** Dotted path of the value, e.g. `services[0].cpu`. */
  readonly path: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.path}: ${p.message}`;
}

type Json = unknown;

export function describe(value: Json): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export class Reader {
  readonly problems: ConfigProblem[] = [];

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** An object whose keys must all be in `known`; `undefined` when absent and optional. */
  object(
    path: string,
    value: Json,
    known: readonly string[],
    optional = false,
  ): Record<string, Json> | undefined {
    if (value === undefined && optional) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path || '(root)', `expected an object, got ${describe(value)}`);
      return undefined;
    }
    const record = value as Record<string, Json>;
    for (const key of Object.keys(record)) {
      if (!known.includes(key)) {
        this.problem(join(path, key), `unknown key; expected one of ${known.join(', ')}`);
      }
    }
    return record;
  }

  string(path: string, value: Json, opts: { default?: string; pattern?: RegExp; fix?: string } = {}): string {
    if (value === undefined && opts.default !== undefined) return opts.default;
    if (typeof value !== 'string') {
      this.problem(path, `expected a string${opts.fix ? ` (${opts.fix})` : ''}, got ${describe(value)}`);
      return opts.default ?? '';
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.problem(
        path,
        `${JSON.stringify(value)} is not valid; ${opts.fix ?? `must match ${opts.pattern}`}`,
      );
    }
    return value;
  }

  optionalString(
    path: string,
    value: Json,
    opts: { pattern?: RegExp; fix?: string } = {},
  ): string | undefined {
    if (value === undefined) return undefined;
    return this.string(path, value, opts);
  }

  integer(
    path: string,
    value: Json,
    opts: { default?: number; min: number; max: number; fix?: string },
  ): number {
    if (value === undefined && opts.default !== undefined) return opts.default;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.problem(path, `expected a whole number from ${opts.min} to ${opts.max}, got ${describe(value)}`);
      return opts.default ?? opts.min;
    }
    if (value < opts.min || value > opts.max) {
      this.problem(
        path,
        `${value} is out of range; ${opts.fix ?? `use a whole number from ${opts.min} to ${opts.max}`}`,
      );
    }
    return value;
  }

  boolean(path: string, value: Json, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.problem(path, `expected true or false, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string | number>(path: string, value: Json, allowed: readonly T[], fallback?: T): T {
    if (value === undefined && fallback !== undefined) return fallback;
    if (!allowed.includes(value as T)) {
      this.problem(
        path,
        `${describe(value)} is not allowed; use ${listOr(allowed.map((a) => JSON.stringify(a)))}`,
      );
      return fallback ?? allowed[0];
    }
    return value as T;
  }

  array(path: string, value: Json, fallback?: readonly Json[]): readonly Json[] {
    if (value === undefined && fallback !== undefined) return fallback;
    if (!Array.isArray(value)) {
      this.problem(path, `expected an array, got ${describe(value)}`);
      return [];
    }
    return value;
  }

  /** A map of string keys (checked against `keyPattern`) to values read by `item`. */
  record<T>(
    path: string,
    value: Json,
    keyPattern: RegExp,
    keyFix: string,
    item: (path: string, value: Json) => T,
  ): Record<string, T> {
    if (value === undefined) return {};
    const obj = this.object(path, value, Object.keys(value ?? {}));
    const out: Record<string, T> = {};
    for (const [key, v] of Object.entries(obj ?? {})) {
      if (!keyPattern.test(key)) this.problem(join(path, key), `invalid name; ${keyFix}`);
      out[key] = item(join(path, key), v);
    }
    return out;
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function listOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
