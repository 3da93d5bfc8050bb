/**
 * The bundled routing proxy attacked with raw sockets (an HTTP client would normalise the attack),
 * between stand-in upstreams, with moto_server for SSM: upgrades, path spellings, stalled bodies, slow
 * clients, repeated headers (issue 23).
 */
import { connect } from 'node:net';
import type { ProxyRoute } from '../../lib/proxy/contract';
import {
  DOCS,
  eventually,
  isolatedPrefix,
  logged,
  motoSsm,
  type ProxyProcess,
  proxyConfig,
  proxyPool,
  putFlag,
  rawRequest,
  type StandIn,
  serviceEntry,
  standIn,
} from './harness';

const ssm = motoSsm();
const { off, cutOver } = DOCS;

const ROUTES: ProxyRoute[] = [
  {
    path: '/api/users/{id}',
    methods: ['GET', 'PUT'],
    servicePath: '/v1/users/{id}',
    identity: { source: 'path', name: 'id' },
    anonymous: 'legacy',
  },
  {
    path: '/api/users/{id}/password',
    methods: ['PUT'],
    servicePath: '/v1/users/{id}/password',
    identity: { source: 'path', name: 'id' },
    anonymous: 'legacy',
  },
  {
    path: '/api/profile',
    methods: ['GET', 'PUT'],
    servicePath: '/v1/profile',
    identity: { source: 'header', name: 'X-User-Id' },
    anonymous: 'legacy',
  },
  {
    path: '/api/me',
    methods: ['GET'],
    servicePath: '/v1/me',
    identity: { source: 'jwt', claim: 'sub' },
    anonymous: 'legacy',
  },
  {
    path: '/api/settings',
    methods: ['GET'],
    servicePath: '/v1/settings',
    identity: { source: 'cookie', name: 'uid' },
    anonymous: 'legacy',
  },
];

/** The monolith of these tests has no upgrade handler: it answers an upgrade with a plain 200. */
let legacy: StandIn;
let service: StandIn;
const pool = proxyPool();
const proxy = pool.start;

/** A proxy at phase 2 after the cutover (routing `off`: only the cutover sends users to the service). */
async function cutOverProxy(overrides: Parameters<typeof proxyConfig>[2] = {}): Promise<ProxyProcess> {
  const prefix = isolatedPrefix();
  await putFlag(ssm, `${prefix}/users/routing`, off);
  await putFlag(ssm, `${prefix}/users/cutover`, cutOver);
  const p = await proxy(
    proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES, { phase: 2 })], overrides),
  );
  await eventually(async () => {
    const out = await rawRequest(p.port, 'GET /api/users/1 HTTP/1.1\r\nHost: x\r\n\r\n', 1000, (d) =>
      d.includes('}'),
    );
    return out.includes('"upstream":"users"');
  });
  return p;
}

const seenSince = (s: StandIn, from: number) => s.seen.slice(from).map((r) => `${r.method} ${r.url}`);

beforeAll(async () => {
  legacy = await standIn('legacy', { upgrades: false });
  service = await standIn('users');
});

afterAll(async () => {
  await pool.stopAll();
  await Promise.all([legacy.close(), service.close()]);
});

beforeEach(() => {
  legacy.delayMs = 0;
  service.delayMs = 0;
  service.fail = undefined;
});

describe('1. an upgrade becomes a tunnel only on a 101', () => {
  let p: ProxyProcess;
  beforeAll(async () => {
    p = await cutOverProxy();
  });

  it('refuses an upgrade on a migrated route: a request sent after it reaches neither side unparsed', async () => {
    const before = { legacy: legacy.seen.length, service: service.seen.length };
    const out = await rawRequest(
      p.port,
      'GET /api/users/1001 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' +
        'PUT /api/users/1001/password HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxy',
      1500,
    );
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(out).toContain('Connection: close');
    expect(out.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(seenSince(legacy, before.legacy)).toEqual([]);
    expect(seenSince(service, before.service)).toEqual([]);
    await eventually(async () => p.requests().some((l) => l.reason === 'upgrade-on-service-route'));
    expect(await logged(p, (l) => l.reason === 'upgrade-on-service-route')).toMatchObject({
      Service: 'users',
      Side: 'proxy',
      status: 400,
      route: '/api/users/1001',
    });
  });

  it('passes the answer of a monolith that does not switch protocols, then closes the connection', async () => {
    const before = legacy.seen.length;
    const out = await rawRequest(
      p.port,
      'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' +
        'PUT /api/users/1001/password HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxy',
      1500,
    );
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out).toMatch(/\r\nConnection: close\r\n/i);
    expect(out).toContain('"upstream":"legacy"');
    expect(out.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 200));
    // Only the upgrade request itself: the PUT after it was never forwarded, to either side.
    expect(seenSince(legacy, before)).toEqual(['GET /ws']);
    expect(service.seen.some((s) => s.url.includes('password'))).toBe(false);
    await eventually(async () => p.requests().some((l) => l.reason === 'upgrade-refused'));
    expect(await logged(p, (l) => l.reason === 'upgrade-refused')).toMatchObject({
      Service: 'none',
      Side: 'legacy',
      status: 200,
    });
    expect(p.requests().some((l) => l.status === 101)).toBe(false);
  });
});

describe('2. other spellings of a migrated path never reach the monolith', () => {
  /** Spellings a PHP router may serve as `/api/users/1001`; each is a GET sent as written. */
  const VARIANTS = [
    '/api/users/1001/',
    '/api//users/1001',
    '//api/users/1001',
    '/api/./users/1001',
    '/api/x/../users/1001',
    '/api/users/./1001',
    '/api/users/1001/.',
    '/api/%75sers/1001',
    '/%61pi/users/1001',
    '/API/USERS/1001',
    '/api/Users/1001',
    '/api%2Fusers/1001',
    '/api%2fusers%2F1001',
    '/api/users/1001%2F',
    '/api\\users\\1001',
    '/api/users\\1001/',
  ];
  const EXACT = ['/api/users/1001', '/api/users/%31001'];

  const get = (port: number, path: string) =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 1500);

  it('routes each spelling after the cutover as the route itself (the default), with the canonical path', async () => {
    const p = await cutOverProxy();
    const before = legacy.seen.length;
    for (const path of [...EXACT, ...VARIANTS]) {
      const out = await get(p.port, path);
      expect([path, out.split('\r\n')[0]]).toEqual([path, 'HTTP/1.1 200 OK']);
      expect([path, /"upstream":"(\w+)"/.exec(out)?.[1]]).toEqual([path, 'users']);
    }
    expect(seenSince(legacy, before)).toEqual([]);
    const urls = service.seen.slice(-VARIANTS.length).map((s) => s.url);
    expect(new Set(urls)).toEqual(new Set(['/v1/users/1001']));
    // A spelling of something that is not a route is still the monolith's, untouched.
    expect(await get(p.port, '/api/users/1001/..')).toContain('"upstream":"legacy"');
    expect(await get(p.port, '/api/users/1001/avatar/')).toContain('"url":"/api/users/1001/avatar/"');
  });

  it('refuses each spelling with 400 when configured to, and still routes the route as written', async () => {
    const p = await cutOverProxy({ paths: { handling: 'refuse' } });
    const before = { legacy: legacy.seen.length, service: service.seen.length };
    for (const path of VARIANTS) {
      const out = await get(p.port, path);
      expect([path, out.split('\r\n')[0]]).toEqual([path, 'HTTP/1.1 400 Bad Request']);
      expect(out).toContain('"reason":"path-variant"');
    }
    expect(seenSince(legacy, before.legacy)).toEqual([]);
    expect(seenSince(service, before.service)).toEqual([]);
    for (const path of EXACT) expect(await get(p.port, path)).toContain('"upstream":"users"');
    await eventually(async () => p.requests().some((l) => l.reason === 'path-variant'));
    expect(await logged(p, (l) => l.reason === 'path-variant')).toMatchObject({
      Service: 'users',
      Side: 'proxy',
      route: '/api/users/{id}',
      status: 400,
      Proxy5xx: 0,
    });
  });
});

/** Opens a raw connection, writes `bytes`, and collects what comes back until it closes. */
function stalled(port: number, bytes: string) {
  const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
  let data = '';
  let closedAt: number | undefined;
  const opened = Date.now();
  socket.on('data', (d) => {
    data += d.toString('latin1');
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closedAt = Date.now();
  });
  return {
    answer: () => data,
    closedAfterMs: () => (closedAt === undefined ? undefined : closedAt - opened),
    destroy: () => socket.destroy(),
  };
}

describe('4. stalled request bodies are bounded by the idle timeout', () => {
  let p: ProxyProcess;
  beforeAll(async () => {
    p = await cutOverProxy({ timeouts: { idleMs: 1000 } });
  });

  it.each([
    ['a migrated route', '/api/users/1001', () => service],
    ['a legacy route', '/upload', () => legacy],
  ] as const)(
    'on %s: 408 and the connection closed, the upstream request given up',
    async (_n, path, side) => {
      const upstream = side();
      const before = upstream.aborted;
      const client = stalled(
        p.port,
        `PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789`,
      );
      try {
        await eventually(async () => client.closedAfterMs() !== undefined, 10000);
        expect(client.answer()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(client.answer()).toContain('"reason":"request-body-timeout"');
        await eventually(async () => upstream.aborted > before);
        await eventually(async () => p.requests().some((l) => l.status === 408 && l.method === 'PUT'));
      } finally {
        client.destroy();
      }
    },
  );

  it('on a login route whose body the proxy reads for the user (phase 1): 408, nothing forwarded', async () => {
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'users', users: ['alice'], percent: 0 });
    await putFlag(ssm, `${prefix}/users/cutover`, { completed: false });
    const login: ProxyRoute = {
      path: '/api/login',
      methods: ['POST'],
      servicePath: '/v1/login',
      identity: { source: 'body', field: 'username', maxBytes: 1024 },
      anonymous: 'legacy',
    };
    const phase1 = await proxy(
      proxyConfig(legacy, [serviceEntry(prefix, service, [login])], { timeouts: { idleMs: 1000 } }),
    );
    await eventually(async () => phase1.lines.some((l) => l.msg === 'flags' && l.mode === 'users'));
    const before = { legacy: legacy.seen.length, service: service.seen.length };
    const client = stalled(
      phase1.port,
      'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user',
    );
    try {
      await eventually(async () => client.closedAfterMs() !== undefined, 10000);
      expect(client.answer()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(seenSince(legacy, before.legacy)).toEqual([]);
      expect(seenSince(service, before.service)).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('lets a client that takes nothing of a response go after the idle timeout, the upstream given up', async () => {
    const before = legacy.aborted;
    const socket = connect(p.port, '127.0.0.1', () =>
      socket.write(`GET /download/${256 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\n\r\n`),
    );
    socket.on('error', () => undefined);
    socket.pause(); // reads nothing
    try {
      await eventually(async () => legacy.aborted > before, 10000);
      await eventually(async () => p.requests().some((l) => l.reason === 'client-timeout'));
      expect(await logged(p, (l) => l.reason === 'client-timeout')).toMatchObject({
        Side: 'legacy',
        status: 200,
        Proxy5xx: 0,
      });
    } finally {
      socket.destroy();
    }
  });
});

describe('5. a slow client is not a service failure', () => {
  it("a body stalled past the service's read timeout is the client's 408, not a service 502", async () => {
    const strict = await standIn('users', { readTimeoutMs: 1500 });
    try {
      const prefix = isolatedPrefix();
      await putFlag(ssm, `${prefix}/users/routing`, off);
      await putFlag(ssm, `${prefix}/users/cutover`, cutOver);
      const p = await proxy(
        proxyConfig(legacy, [serviceEntry(prefix, strict, ROUTES, { phase: 2 })], {
          timeouts: { idleMs: 30000 },
        }),
      );
      await eventually(async () =>
        (
          await rawRequest(p.port, 'GET /api/users/1 HTTP/1.1\r\nHost: x\r\n\r\n', 1000, (d) =>
            d.includes('}'),
          )
        ).includes('"upstream":"users"'),
      );
      const client = stalled(
        p.port,
        'PUT /api/users/1001 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789',
      );
      try {
        await eventually(async () => client.closedAfterMs() !== undefined, 10000);
        expect(client.answer()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        await eventually(async () => p.requests().some((l) => l.method === 'PUT'));
        expect(await logged(p, (l) => l.method === 'PUT')).toMatchObject({
          Service: 'users',
          Side: 'proxy',
          status: 408,
          Proxy5xx: 0,
        });
        expect(p.requests().filter((l) => l.Side === 'service' && l.Proxy5xx === 1)).toEqual([]);
        expect(p.lines.some((l) => l.msg === 'upstream failed')).toBe(false);
      } finally {
        client.destroy();
      }
    } finally {
      await strict.close();
    }
  });
});

describe('6. repeated identity headers and Host', () => {
  let p: ProxyProcess;
  const jwt = (sub: string) =>
    `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.x`;
  /** The answer's first line and, for a forwarded request, the upstream that answered. */
  const ask = async (path: string, headers: string) => {
    const out = await rawRequest(
      p.port,
      `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`,
      1500,
    );
    return `${out.split('\r\n')[0]} ${/"upstream":"(\w+)"/.exec(out)?.[1] ?? /"reason":"([\w-]+)"/.exec(out)?.[1] ?? ''}`;
  };

  beforeAll(async () => {
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'users', users: ['1001'], percent: 0 });
    await putFlag(ssm, `${prefix}/users/cutover`, { completed: false });
    p = await proxy(proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES)]));
    await eventually(async () => p.lines.some((l) => l.msg === 'flags' && l.mode === 'users'));
  });

  it('refuses an identity header repeated with different values (400), and reads one repeated with the same', async () => {
    const before = { legacy: legacy.seen.length, service: service.seen.length };
    expect(await ask('/api/profile', 'X-User-Id: 1001\r\nX-User-Id: 2002\r\n')).toBe(
      'HTTP/1.1 400 Bad Request ambiguous-identity',
    );
    expect(await ask('/api/profile', 'X-User-Id: 2002\r\nx-user-id: 1001\r\n')).toBe(
      'HTTP/1.1 400 Bad Request ambiguous-identity',
    );
    expect(seenSince(legacy, before.legacy)).toEqual([]);
    expect(seenSince(service, before.service)).toEqual([]);
    expect(await ask('/api/profile', 'X-User-Id: 1001\r\nX-User-Id: 1001\r\n')).toBe('HTTP/1.1 200 OK users');
    expect(await ask('/api/profile', 'X-User-Id: 1001\r\n')).toBe('HTTP/1.1 200 OK users');
  });

  it('refuses two different bearer tokens on a JWT route', async () => {
    expect(
      await ask(
        '/api/me',
        `Authorization: Bearer ${jwt('1001')}\r\nAuthorization: Bearer ${jwt('2002')}\r\n`,
      ),
    ).toBe('HTTP/1.1 400 Bad Request ambiguous-identity');
    expect(await ask('/api/me', `Authorization: Bearer ${jwt('1001')}\r\n`)).toBe('HTTP/1.1 200 OK users');
  });

  it('takes the first cookie of the name, across Cookie lines, as PHP and Go do', async () => {
    expect(await ask('/api/settings', 'Cookie: uid=1001\r\nCookie: uid=2002\r\n')).toBe(
      'HTTP/1.1 200 OK users',
    );
    expect(await ask('/api/settings', 'Cookie: a=1; uid=2002\r\nCookie: uid=1001\r\n')).toBe(
      'HTTP/1.1 200 OK legacy',
    );
  });

  it('answers two Host headers with 400 from the proxy, never a 502 counted against a side', async () => {
    const before = legacy.seen.length;
    const out = await rawRequest(p.port, 'GET /anything HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 1500);
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(out).toContain('"reason":"repeated-host"');
    expect(seenSince(legacy, before)).toEqual([]);
    await eventually(async () => p.requests().some((l) => l.reason === 'repeated-host'));
    expect(await logged(p, (l) => l.reason === 'repeated-host')).toMatchObject({
      Side: 'proxy',
      status: 400,
      Proxy5xx: 0,
    });
  });
});
