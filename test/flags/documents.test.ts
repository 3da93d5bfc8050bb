import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DocumentKind,
  INITIAL_DOCUMENTS,
  parseFlag,
  serializeFlag,
  TIER_MAX_BYTES,
} from '../../lib/flags/documents';
import { MAX_DEPTH, parseJsonText } from '../../lib/flags/json-text';
import { isContractTime } from '../../lib/formats';

const { parsing: all } = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'lib', 'flags', 'vectors.json'), 'utf8'),
) as {
  parsing: ({ kind: DocumentKind; valid: boolean } & ({ text: string } | { textBase64: string }))[];
};
/** The vectors given as text. */
const parsing = all.flatMap((v) => ('text' in v ? [v] : []));
/** The vectors given as raw bytes (base64): bytes a JSON string cannot carry, such as invalid UTF-8. */
const raw = all.flatMap((v) =>
  'textBase64' in v ? [{ ...v, bytes: Buffer.from(v.textBase64, 'base64') }] : [],
);

describe('the published parse vectors (written by an independent Python implementation)', () => {
  it('cover every kind, with both outcomes', () => {
    for (const kind of ['routing', 'cutover', 'gateway', 'override'] as const) {
      expect(new Set(parsing.filter((v) => v.kind === kind).map((v) => v.valid))).toEqual(
        new Set([true, false]),
      );
    }
  });

  it('are each accepted or rejected as the reference does', () => {
    const mismatches = parsing
      .filter((v) => parseFlag(v.kind, v.text).ok !== v.valid)
      .map((v) => ({ ...v, text: v.text.slice(0, 120), got: parseFlag(v.kind, v.text) }));
    expect(mismatches).toEqual([]);
  });

  it('given as raw bytes: refused when not UTF-8, whether read as bytes or decoded as the SDK decodes them', () => {
    expect(new Set(raw.map((v) => v.valid))).toEqual(new Set([true, false]));
    const strict = new TextDecoder('utf-8', { fatal: true });
    const asBytes = (bytes: Buffer) => {
      try {
        return strict.decode(bytes);
      } catch {
        return undefined;
      }
    };
    const mismatches = raw.filter((v) => {
      const text = asBytes(v.bytes);
      const readingBytes = text !== undefined && parseFlag(v.kind, text).ok;
      // The AWS SDK for JavaScript decodes a response body with U+FFFD for bytes that are not UTF-8.
      const readingDecoded = parseFlag(v.kind, v.bytes.toString('utf8')).ok;
      return readingBytes !== v.valid || readingDecoded !== v.valid;
    });
    expect(mismatches).toEqual([]);
  });
});

describe('the lexical rules JSON.parse cannot see', () => {
  it.each([
    ['a duplicate key', '{"a":1,"a":2}', 'duplicate key "a"'],
    ['a fraction', '{"a":10.0}', 'a fraction or an exponent'],
    ['an exponent', '{"a":1e1}', 'a fraction or an exponent'],
    ['negative zero', '{"a":-0}', 'a number with a sign'],
    ['an escaped lone surrogate', '{"a":"\\ud800"}', 'lone UTF-16 surrogate'],
    ['a raw lone surrogate', '{"a":"\ud800"}', 'lone UTF-16 surrogate'],
    ['nesting too deep', `{"a":${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}}`, 'nested deeper than 8'],
  ])('rejects %s', (_what, text, message) => {
    const result = parseJsonText(text);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toContain(message);
    expect(() => JSON.parse(text)).not.toThrow();
  });

  it('reads keys such as __proto__ as data', () => {
    expect(parseJsonText('{"__proto__":{"x":1}}')).toEqual({
      ok: true,
      value: JSON.parse('{"__proto__":{"x":1}}'),
    });
  });

  it('checks that a time is a real UTC calendar time', () => {
    expect(isContractTime('2028-02-29T23:59:59.123Z')).toBe(true);
    expect(isContractTime('2026-02-29T10:00:00Z')).toBe(false);
    expect(isContractTime('2026-11-26T10:00:00+00:00')).toBe(false);
  });
});

function errorsOf(kind: DocumentKind, text: string, maxBytes?: number): readonly string[] {
  const result = parseFlag(kind, text, maxBytes);
  return result.ok ? [] : result.errors;
}

describe('valid documents', () => {
  it.each([
    ['routing', '{"mode":"off"}', { mode: 'off', users: [], percent: 0 }],
    [
      'routing',
      '{"mode":"users","users":["42","alice@example.com"]}',
      { mode: 'users', users: ['42', 'alice@example.com'], percent: 0 },
    ],
    [
      'routing',
      '{"mode":"percent","percent":10,"reason":"ramp"}',
      { mode: 'percent', users: [], percent: 10, reason: 'ramp' },
    ],
    ['routing', '{"mode":"all","users":["1"],"percent":5}', { mode: 'all', users: ['1'], percent: 5 }],
    ['cutover', '{"completed":false}', { completed: false }],
    [
      'cutover',
      '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"users-cutover-1"}',
      { completed: true, completedAt: '2026-11-26T10:00:00Z', runId: 'users-cutover-1' },
    ],
    ['gateway', '{"weight":0}', { weight: 0 }],
    ['gateway', '{"weight":100,"reason":"done"}', { weight: 100, reason: 'done' }],
  ] as const)('%s %s', (kind, text, expected) => {
    expect(parseFlag(kind, text)).toEqual({ ok: true, value: expected });
  });

  it('round-trips every initial document through serialize and parse', () => {
    for (const kind of ['routing', 'cutover', 'gateway'] as const) {
      expect(parseFlag(kind, serializeFlag(kind, INITIAL_DOCUMENTS[kind]))).toEqual({
        ok: true,
        value: INITIAL_DOCUMENTS[kind],
      });
    }
  });
});

describe('bad documents are rejected with a message naming the field and the fix', () => {
  const cases: [string, 'routing' | 'cutover' | 'gateway', string, string][] = [
    [
      'not JSON',
      'routing',
      '{mode: off}',
      'routing: not a valid document (expected a key in double quotes at character 2); write a JSON object such as',
    ],
    [
      'empty text',
      'routing',
      '',
      'routing: not a valid document (unexpected end of the document at character 1)',
    ],
    ['a JSON array', 'routing', '[]', 'routing: expected an object, got an array'],
    ['a JSON string', 'gateway', '"50"', 'gateway: expected an object, got "50"'],
    ['null', 'cutover', 'null', 'cutover: expected an object, got null'],
    [
      'unknown mode',
      'routing',
      '{"mode":"some"}',
      'routing.mode: "some" is not allowed; use "off", "users", "percent" or "all"',
    ],
    [
      'mode in capitals',
      'routing',
      '{"mode":"ALL"}',
      'routing.mode: "ALL" is not allowed; use "off", "users", "percent" or "all"',
    ],
    [
      'missing mode',
      'routing',
      '{"users":["1"]}',
      'routing.mode: missing is not allowed; use "off", "users", "percent" or "all"',
    ],
    [
      'percent 101',
      'routing',
      '{"mode":"percent","percent":101}',
      'routing.percent: 101 is out of range; use a whole number from 0 to 100',
    ],
    [
      'negative percent',
      'routing',
      '{"mode":"percent","percent":-1}',
      'routing.percent: -1 is a number with a sign; numbers are written as plain whole numbers such as 10',
    ],
    [
      'fractional percent',
      'routing',
      '{"mode":"percent","percent":12.5}',
      'routing.percent: 12.5 is a number with a fraction or an exponent; write whole numbers as plain digits such as 10',
    ],
    // The numbers spelled wrongly name their field, as every other message does (issue 26).
    ...(['10.5', '1e1', '10.0'] as const).flatMap((n): [string, 'routing' | 'gateway', string, string][] => [
      [
        `percent ${n}`,
        'routing',
        `{"mode":"percent","percent":${n}}`,
        `routing.percent: ${n} is a number with a fraction or an exponent; write whole numbers as plain digits such as 10`,
      ],
      [
        `weight ${n}`,
        'gateway',
        `{"weight":${n}}`,
        `gateway.weight: ${n} is a number with a fraction or an exponent; write whole numbers as plain digits such as 10`,
      ],
    ]),
    [
      'negative weight',
      'gateway',
      '{"weight":-1}',
      'gateway.weight: -1 is a number with a sign; numbers are written as plain whole numbers such as 10',
    ],
    [
      'a number with a leading zero in the user list',
      'routing',
      '{"mode":"users","users":["1",007]}',
      'routing.users[1]: 007 is a number with a leading zero; write it without one',
    ],
    [
      'a duplicate key inside the override',
      'routing',
      '{"mode":"off","override":{"expiresAt":"2026-11-26T10:00:00Z","expiresAt":"x"}}',
      'routing.override: duplicate key "expiresAt"; write each key once',
    ],
    [
      'percent as a string',
      'routing',
      '{"mode":"percent","percent":"10"}',
      'routing.percent: expected a whole number from 0 to 100, got "10"',
    ],
    [
      'percent mode without percent',
      'routing',
      '{"mode":"percent"}',
      'routing.percent: mode "percent" needs a percent from 0 to 100',
    ],
    [
      'users mode without users',
      'routing',
      '{"mode":"users","users":[]}',
      'routing.users: mode "users" needs at least one user id; list them or use mode "off"',
    ],
    [
      'numeric user id',
      'routing',
      '{"mode":"users","users":[42]}',
      'routing.users[0]: expected a user id string, got 42; write ids as strings, e.g. "42"',
    ],
    [
      'user id with a space',
      'routing',
      '{"mode":"users","users":["a b"]}',
      'routing.users[0]: "a b" is not a valid user id; use 1-64 letters, digits or _ . @ : -',
    ],
    [
      'empty user id',
      'routing',
      '{"mode":"users","users":[""]}',
      'routing.users[0]: "" is not a valid user id',
    ],
    [
      'duplicate user ids',
      'routing',
      '{"mode":"users","users":["7","8","7"]}',
      'routing.users[2]: "7" is listed twice; list each user once',
    ],
    [
      'users not an array',
      'routing',
      '{"mode":"users","users":"42"}',
      'routing.users: expected an array, got "42"',
    ],
    [
      'unknown key',
      'routing',
      '{"mode":"off","percentage":5}',
      'routing.percentage: unknown key; expected one of mode, users, percent, reason, override',
    ],
    [
      'reason too long',
      'routing',
      JSON.stringify({ mode: 'off', reason: 'x'.repeat(201) }),
      'routing.reason: is 201 characters; say why in 1-200 characters (Unicode code points)',
    ],
    [
      'cutover completed as a string',
      'cutover',
      '{"completed":"true"}',
      'cutover.completed: expected true or false, got "true"',
    ],
    [
      'completed without time or run',
      'cutover',
      '{"completed":true}',
      'cutover.completedAt: expected a string (use a UTC time such as "2026-11-26T10:00:00Z" (when the bulk migration completed)), got missing',
    ],
    [
      'completed with a local time',
      'cutover',
      '{"completed":true,"completedAt":"26/11/2026","runId":"r1"}',
      'cutover.completedAt: "26/11/2026" is not a valid time; use a UTC time such as "2026-11-26T10:00:00Z"',
    ],
    [
      'not completed but with a run id',
      'cutover',
      '{"completed":false,"runId":"r1"}',
      'cutover.runId: only applies when completed is true; remove it',
    ],
    [
      'weight 150',
      'gateway',
      '{"weight":150}',
      'gateway.weight: 150 is out of range; use a whole number from 0 (all legacy) to 100 (all gateway)',
    ],
    ['missing weight', 'gateway', '{}', 'gateway.weight: expected a whole number from 0 to 100, got missing'],
  ];

  it.each(cases)('%s', (_name, kind, text, expected) => {
    const errors = errorsOf(kind, text);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => e.startsWith(expected))).toBe(true);
  });

  it('rejects a document over the standard tier and accepts it in the advanced tier', () => {
    const users = Array.from({ length: 400 }, (_, i) => `user-${100000 + i}`);
    const text = JSON.stringify({ mode: 'users', users });
    expect(Buffer.byteLength(text)).toBeGreaterThan(TIER_MAX_BYTES.standard);
    expect(errorsOf('routing', text, TIER_MAX_BYTES.standard)).toEqual([
      `routing: the document is ${Buffer.byteLength(text)} bytes of UTF-8, over the 4096-byte limit; shorten the user list (percent mode needs none), or set flags.tier to "advanced" in the environment file and deploy`,
    ]);
    expect(parseFlag('routing', text, TIER_MAX_BYTES.advanced).ok).toBe(true);
    const larger = JSON.stringify({ mode: 'users', users: [...users, ...users.map((u) => `${u}-b`)] });
    // At the advanced limit the message no longer suggests the advanced tier.
    expect(errorsOf('routing', larger, TIER_MAX_BYTES.advanced)).toEqual([
      `routing: the document is ${Buffer.byteLength(larger)} bytes of UTF-8, over the 8192-byte limit; shorten the user list: percent mode needs none`,
    ]);
  });

  it('reports every problem of a document at once', () => {
    expect(errorsOf('routing', '{"mode":"x","percent":200,"users":[1]}')).toHaveLength(3);
  });
});
