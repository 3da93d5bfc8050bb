/**
 * The lexical rules of the flag contract (docs/flag-contract.md, "Lexical rules"), which `JSON.parse`
 * cannot see: a strict JSON parser that rejects duplicate keys, any number that is not written as a plain
 * non-negative integer (`10.0`, `1e1`, `-0`), escapes that leave a lone UTF-16 surrogate, U+FFFD (what the
 * SDK's decoder puts for bytes that are not UTF-8, which a reader of the raw bytes refuses), and nesting
 * deeper than MAX_DEPTH. Every reader of the contract (PHP, Go, Python) applies the same rules; the
 * parse vectors in lib/flags/vectors.json prove it. Pure: no SDK, no env.
 */

/** Objects and arrays may nest this deep (a routing document needs 2). */
export const MAX_DEPTH = 8;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type TextResult =
  | { readonly ok: true; readonly value: JsonValue }
  | {
      readonly ok: false;
      /** What is wrong, with the position: `... at character 31`. */
      readonly error: string;
      /** What is wrong, without the position (for a message that names the field instead). */
      readonly reason: string;
      /** Where inside the document, e.g. `percent` or `users[2]`; empty at the top level. */
      readonly path: string;
    };

class TextError extends Error {
  constructor(
    readonly reason: string,
    readonly path: string,
    at: number,
  ) {
    super(`${reason} at character ${at}`);
  }
}

/** The dotted path of the keys and indexes being read: `percent`, `users[2]`, `override.expiresAt`. */
function dottedPath(parts: readonly (string | number)[]): string {
  return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

const REPLACEMENT =
  'U+FFFD, the replacement character: the value had bytes that are not UTF-8 (a reader of the raw bytes refuses them)';

/** Parses `text` under the contract's lexical rules. Never throws. */
export function parseJsonText(text: string): TextResult {
  try {
    const parser = new Parser(text);
    parser.space();
    const value = parser.value(0);
    parser.space();
    if (parser.pos !== text.length) parser.fail('unexpected text after the document');
    return { ok: true, value };
  } catch (e) {
    if (e instanceof TextError) return { ok: false, error: e.message, reason: e.reason, path: e.path };
    throw e;
  }
}

class Parser {
  pos = 0;
  /** The keys and indexes of the value being read, for messages that name the field. */
  private readonly at: (string | number)[] = [];
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new TextError(message, dottedPath(this.at), this.pos + 1);
  }

  /** The number-like text at the cursor as written (`-1`, `10.5`, `1e1`), for a message. */
  private numberText(): string {
    return /^[-+]?[0-9.eE+-]*/.exec(this.text.slice(this.pos, this.pos + 32))?.[0] ?? '';
  }

  space(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  value(depth: number): JsonValue {
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === '-' || c === '+')
      this.fail(
        `${this.numberText()} is a number with a sign; numbers are written as plain whole numbers such as 10`,
      );
    if (c !== undefined && c >= '0' && c <= '9') return this.number();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    this.fail(c === undefined ? 'unexpected end of the document' : `unexpected ${JSON.stringify(c)}`);
  }

  private nest(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`objects and arrays nested deeper than ${MAX_DEPTH}`);
  }

  private object(depth: number): { [key: string]: JsonValue } {
    this.nest(depth);
    this.pos++;
    const out: { [key: string]: JsonValue } = {};
    const seen = new Set<string>();
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') this.fail('expected a key in double quotes');
      const keyAt = this.pos;
      const key = this.string();
      if (seen.has(key)) {
        this.pos = keyAt;
        this.fail(`duplicate key ${JSON.stringify(key)}; write each key once`);
      }
      seen.add(key);
      this.space();
      if (this.text[this.pos] !== ':') this.fail('expected ":" after a key');
      this.pos++;
      this.space();
      // defineProperty: a key such as "__proto__" is data like any other.
      this.at.push(key);
      Object.defineProperty(out, key, {
        value: this.value(depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.at.pop();
      this.space();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') {
        this.pos--;
        this.fail('expected "," or "}"');
      }
    }
  }

  private array(depth: number): JsonValue[] {
    this.nest(depth);
    this.pos++;
    const out: JsonValue[] = [];
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      this.at.push(out.length);
      out.push(this.value(depth));
      this.at.pop();
      this.space();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') {
        this.pos--;
        this.fail('expected "," or "]"');
      }
    }
  }

  private number(): number {
    const start = this.pos;
    const t = this.text;
    const written = this.numberText();
    if (t[this.pos] === '0') this.pos++;
    else while (this.pos < t.length && t[this.pos] >= '0' && t[this.pos] <= '9') this.pos++;
    const next = t[this.pos];
    if (next === '.' || next === 'e' || next === 'E')
      this.fail(
        `${written} is a number with a fraction or an exponent; write whole numbers as plain digits such as 10`,
      );
    if (next !== undefined && next >= '0' && next <= '9')
      this.fail(`${written} is a number with a leading zero; write it without one`);
    const digits = t.slice(start, this.pos);
    if (digits.length > 15) this.fail(`${written} is a number with more than 15 digits`);
    return Number(digits);
  }

  private string(): string {
    const t = this.text;
    this.pos++;
    let out = '';
    let chunk = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('a control character inside a string; escape it');
      if (c === 0xfffd) this.fail(REPLACEMENT);
      if (c >= 0xd800 && c <= 0xdfff) {
        // Raw surrogates are fine only as a well-formed pair (a character outside the BMP).
        const next = t.charCodeAt(this.pos + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          this.pos += 2;
          continue;
        }
        this.fail('a lone UTF-16 surrogate (not a Unicode character)');
      }
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += t.slice(chunk, this.pos);
      out += this.escape();
      chunk = this.pos;
    }
  }

  /** One escape sequence starting at the backslash; a surrogate escape must be a complete pair. */
  private escape(): string {
    const t = this.text;
    const c = t[this.pos + 1];
    const simple: Record<string, string> = {
      '"': '"',
      '\\': '\\',
      '/': '/',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
    };
    if (c !== undefined && c in simple) {
      this.pos += 2;
      return simple[c];
    }
    if (c !== 'u') this.fail('an invalid escape in a string');
    const unit = this.hex4(this.pos + 2);
    if (unit === 0xfffd) this.fail(REPLACEMENT);
    this.pos += 6;
    if (unit < 0xd800 || unit > 0xdfff) return String.fromCharCode(unit);
    if (unit <= 0xdbff && t[this.pos] === '\\' && t[this.pos + 1] === 'u') {
      const low = this.hex4(this.pos + 2);
      if (low >= 0xdc00 && low <= 0xdfff) {
        this.pos += 6;
        return String.fromCharCode(unit, low);
      }
    }
    this.pos -= 6;
    this.fail('an escape of a lone UTF-16 surrogate (not a Unicode character)');
  }

  private hex4(at: number): number {
    const hex = this.text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('an invalid \\u escape');
    return Number.parseInt(hex, 16);
  }
}
