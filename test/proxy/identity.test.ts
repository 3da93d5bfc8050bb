import {
  ambiguousIdentityHeader,
  bearerToken,
  bodyIdentity,
  cookieValue,
  firstHeader,
  jwtPayload,
  MAX_TOKEN_CHARS,
  repeatedHost,
  requestIdentity,
  validUserId,
} from '../../lib/proxy/identity';

const jwt = (payload: unknown, header: unknown = { alg: 'none' }) =>
  `${[header, payload].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.')}.sig`;

const parts = (headers: Record<string, string>, params: Record<string, string> = {}) => ({
  params,
  header: (name: string) => headers[name],
});

describe('user ids', () => {
  it('accepts the contract user ids, from strings or whole numbers', () => {
    expect(validUserId('42')).toBe('42');
    expect(validUserId('alice@example.com')).toBe('alice@example.com');
    expect(validUserId(42)).toBe('42');
  });

  it('refuses anything else', () => {
    for (const v of ['', 'a b', 'x'.repeat(65), 'ü', -1, 1.5, 2 ** 60, null, true, {}, ['42'], undefined])
      expect(validUserId(v)).toBeUndefined();
  });
});

describe('identity sources', () => {
  it('reads a path placeholder', () => {
    expect(requestIdentity({ source: 'path', name: 'id' }, parts({}, { id: '42' }))).toBe('42');
    expect(requestIdentity({ source: 'path', name: 'id' }, parts({}, { id: 'not valid' }))).toBeUndefined();
  });

  it('reads a header by its case-insensitive name, trimmed', () => {
    expect(requestIdentity({ source: 'header', name: 'X-User-Id' }, parts({ 'x-user-id': ' 7 ' }))).toBe('7');
    expect(requestIdentity({ source: 'header', name: 'X-User-Id' }, parts({}))).toBeUndefined();
  });

  it('reads a cookie, quoted or percent-encoded, and ignores similar names', () => {
    expect(cookieValue('a=1; uid=42; b=2', 'uid')).toBe('42');
    expect(cookieValue('xuid=1; uid="43"', 'uid')).toBe('43');
    expect(cookieValue('uid=a%40b', 'uid')).toBe('a@b');
    expect(cookieValue('uid=%zz', 'uid')).toBeUndefined();
    expect(cookieValue(undefined, 'uid')).toBeUndefined();
    expect(requestIdentity({ source: 'cookie', name: 'uid' }, parts({ cookie: 'uid=42' }))).toBe('42');
  });

  it('reads a claim of an unverified bearer token or a token cookie', () => {
    const token = jwt({ sub: 'u-1', uid: 99 });
    expect(
      requestIdentity({ source: 'jwt', claim: 'sub' }, parts({ authorization: `Bearer ${token}` })),
    ).toBe('u-1');
    expect(
      requestIdentity({ source: 'jwt', claim: 'uid' }, parts({ authorization: `bearer ${token}` })),
    ).toBe('99');
    expect(
      requestIdentity(
        { source: 'jwt', claim: 'sub', cookie: 'session' },
        parts({ cookie: `session=${token}` }),
      ),
    ).toBe('u-1');
  });

  it('gives no identity for a bad token: never an error', () => {
    const bad = [
      'Bearer',
      'Basic dXNlcjpwYXNz',
      'Bearer not-a-jwt',
      'Bearer a.b',
      'Bearer a.!!!.c',
      `Bearer ${Buffer.from('x').toString('base64url')}.${Buffer.from('{').toString('base64url')}.s`,
      `Bearer ${jwt('a string')}`,
      `Bearer ${jwt([1])}`,
      `Bearer ${jwt({ sub: { nested: true } })}`,
      `Bearer ${jwt({ other: 1 })}`,
      `Bearer ${'a'.repeat(MAX_TOKEN_CHARS)}.b.c`,
    ];
    for (const authorization of bad)
      expect(requestIdentity({ source: 'jwt', claim: 'sub' }, parts({ authorization }))).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(jwtPayload('a.b.c.d')).toBeUndefined();
  });

  it('reads a field of a JSON body, nested by a dotted path', () => {
    const body = Buffer.from(JSON.stringify({ username: 'alice', password: 'x', user: { id: 5 } }));
    expect(bodyIdentity('username', 'application/json', body)).toBe('alice');
    expect(bodyIdentity('user.id', 'application/json; charset=utf-8', body)).toBe('5');
    expect(bodyIdentity('username', 'application/vnd.api+json', body)).toBe('alice');
    expect(bodyIdentity('user.missing', 'application/json', body)).toBeUndefined();
    expect(bodyIdentity('toString', 'application/json', body)).toBeUndefined();
  });

  it('reads a field of a form body', () => {
    expect(
      bodyIdentity('username', 'application/x-www-form-urlencoded', Buffer.from('username=bob&password=x')),
    ).toBe('bob');
  });

  it('gives no identity for another or a broken body', () => {
    expect(bodyIdentity('username', 'text/plain', Buffer.from('{"username":"alice"}'))).toBeUndefined();
    expect(bodyIdentity('username', undefined, Buffer.from('{"username":"alice"}'))).toBeUndefined();
    expect(bodyIdentity('username', 'application/json', Buffer.from('{"username":'))).toBeUndefined();
    expect(bodyIdentity('username', 'application/json', Buffer.from('[1]'))).toBeUndefined();
  });

  it('never reads a body identity from the request head', () => {
    expect(requestIdentity({ source: 'body', field: 'username', maxBytes: 100 }, parts({}))).toBeUndefined();
  });
});

describe('repeated headers', () => {
  const raw = [
    'Host',
    'x',
    'X-User-Id',
    '1001',
    'x-user-id',
    ' 1001 ',
    'Authorization',
    'Bearer a',
    'authorization',
    'Bearer b',
  ];

  it('reads the first value as sent, whatever the case of its name', () => {
    expect(firstHeader(raw, 'x-user-id')).toBe('1001');
    expect(firstHeader(raw, 'cookie')).toBeUndefined();
  });

  it('finds an identity header repeated with different values: the header or the bearer token, not a cookie', () => {
    expect(ambiguousIdentityHeader({ source: 'header', name: 'X-User-Id' }, raw)).toBeUndefined();
    expect(
      ambiguousIdentityHeader({ source: 'header', name: 'X-User-Id' }, [...raw, 'X-USER-ID', '2002']),
    ).toBe('x-user-id');
    expect(ambiguousIdentityHeader({ source: 'jwt', claim: 'sub' }, raw)).toBe('authorization');
    expect(ambiguousIdentityHeader({ source: 'jwt', claim: 'sub', cookie: 's' }, raw)).toBeUndefined();
    expect(
      ambiguousIdentityHeader({ source: 'cookie', name: 'uid' }, ['Cookie', 'uid=1', 'Cookie', 'uid=2']),
    ).toBe(undefined);
  });

  it('finds a repeated Host', () => {
    expect(repeatedHost(raw)).toBe(false);
    expect(repeatedHost([...raw, 'HOST', 'y'])).toBe(true);
  });
});
