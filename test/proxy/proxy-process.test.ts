/**
 * The bundled routing proxy as a child process between two stand-in upstreams on loopback, with
 * moto_server for SSM: pass-through, every routing mode, the cutover latch and the deploy-time marker,
 * SSM down at start and while running, slow and failing services, large bodies, malformed input,
 * smuggling attempts and the SIGTERM drain.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { bucketOf } from '../../lib/flags/evaluate';
import type { ProxyRoute } from '../../lib/proxy/contract';
import {
  closedPort,
  DOCS,
  eventually,
  isolatedPrefix,
  logged,
  motoSsm,
  type ProxyProcess,
  proxyConfig,
  proxyPool,
  putFlag,
  putUnchecked,
  rawRequest,
  type StandIn,
  serviceEntry,
  ssmRelay,
  standIn,
} from './harness';

const ssm = motoSsm();

interface Answer {
  status: number;
  headers: Headers;
  upstream?: string;
  url?: string;
  bytes?: number;
  sha256?: string;
  text: string;
}

async function call(base: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { ...init, redirect: 'manual' });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  const { upstream, url, bytes, sha256 } = json as {
    upstream?: string;
    url?: string;
    bytes?: number;
    sha256?: string;
  };
  return { status: res.status, headers: res.headers, text, upstream, url, bytes, sha256 };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const { off, notCutOver, cutOver } = DOCS;

const ROUTES: ProxyRoute[] = [
  {
    path: '/api/users/{id}',
    methods: ['GET', 'PUT'],
    servicePath: '/v1/users/{id}',
    identity: { source: 'path', name: 'id' },
    anonymous: 'legacy',
  },
  {
    path: '/api/login',
    methods: ['POST'],
    servicePath: '/v1/auth/login',
    identity: { source: 'body', field: 'username', maxBytes: 1024 },
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
    path: '/api/profile',
    methods: ['GET'],
    servicePath: '/v1/profile',
    identity: { source: 'header', name: 'X-User-Id' },
    anonymous: 'service',
  },
];

let legacy: StandIn;
let service: StandIn;
const pool = proxyPool();
const proxy = pool.start;

beforeAll(async () => {
  legacy = await standIn('legacy');
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

describe('phase 0: pure pass-through', () => {
  let p: ProxyProcess;
  let ssmCounter: StandIn;
  beforeAll(async () => {
    ssmCounter = await standIn('ssm');
    p = await proxy(proxyConfig(legacy, []), ssmCounter.url);
  });
  afterAll(() => ssmCounter.close());

  it('sends everything to the monolith untouched, with forwarding headers, and never calls SSM', async () => {
    const a = await call(p.url, '/api/users/42?x=1&y=%20', {
      headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', cookie: 'uid=42' },
    });
    expect(a).toMatchObject({ status: 200, upstream: 'legacy', url: '/api/users/42?x=1&y=%20' });
    const seen = legacy.seen[legacy.seen.length - 1];
    expect(seen.headers).toMatchObject({
      'x-forwarded-for': '203.0.113.9, 127.0.0.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': `127.0.0.1:${p.port}`,
      host: `127.0.0.1:${p.port}`,
      cookie: 'uid=42',
    });
    expect(a.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect((await call(p.url, '/health')).upstream).toBe('legacy');
    await new Promise((r) => setTimeout(r, 300));
    expect(ssmCounter.seen).toEqual([]);
    expect(p.lines.find((l) => l.msg === 'listening')).toMatchObject({ passThrough: true });
  });

  it('streams a 10 MB upload and a 10 MB download', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 'x');
    const up = await call(p.url, '/upload', { method: 'POST', body });
    expect(up).toMatchObject({ status: 200, upstream: 'legacy', bytes: body.length, sha256: sha(body) });
    const res = await fetch(`${p.url}/download/${10 * 1024 * 1024}`);
    expect(Buffer.from(await res.arrayBuffer()).length).toBe(10 * 1024 * 1024);
  });

  it('gives up the upstream request when the client goes away, before the answer or in the middle of it', async () => {
    const before = legacy.aborted;
    // Generous waits: the client goes away long before the monolith would answer, even on a loaded
    // machine, and the test waits for neither (each ends as soon as the proxy has acted).
    legacy.delayMs = 5000;
    const client = connect(p.port, '127.0.0.1', () => client.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n'));
    client.on('error', () => undefined);
    await eventually(async () => legacy.seen.some((s) => s.url === '/slow'));
    client.destroy();
    legacy.delayMs = 0;
    const partial = await rawRequest(
      p.port,
      `GET /download/${512 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\n\r\n`,
      10000,
      (data) => data.length > 256 * 1024,
    );
    expect(partial).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    await eventually(async () => legacy.aborted - before >= 2);
    // The proxy logs each request once it has ended, which may follow the upstream's abort.
    await eventually(async () => p.requests().some((l) => l.route === '/slow'));
    await eventually(async () => p.requests().some((l) => String(l.route).startsWith('/download/5')));
    expect(await logged(p, (l) => l.route === '/slow')).toMatchObject({ status: 499, Proxy5xx: 0 });
    expect(await logged(p, (l) => String(l.route).startsWith('/download/5'))).toMatchObject({
      status: 200,
    });
    expect((await call(p.url, '/still-alive')).status).toBe(200);
  });

  it('passes a WebSocket upgrade through to the monolith as a tunnel', async () => {
    const out = await rawRequest(
      p.port,
      'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nping',
      1000,
      (data) => data.endsWith('ping'),
    );
    expect(out).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(out.endsWith('ping')).toBe(true);
    expect(legacy.seen[legacy.seen.length - 1]).toMatchObject({
      url: '/ws',
      headers: { upgrade: 'websocket' },
    });
  });

  it.each([
    [
      'conflicting Content-Length and Transfer-Encoding',
      'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n',
    ],
    [
      'a duplicate Content-Length',
      'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd',
    ],
    [
      'differing Content-Lengths',
      'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd',
    ],
    ['obsolete line folding', 'GET /a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n'],
    [
      'a Transfer-Encoding that is not chunked last',
      'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    ],
    ['a space before the colon', 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length : 4\r\n\r\nabcd'],
  ])('rejects a smuggling attempt (%s) with 400 and forwards nothing', async (_name, bytes) => {
    const before = legacy.seen.length;
    const out = await rawRequest(p.port, bytes);
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(out).toContain('Connection: close');
    expect(legacy.seen.length).toBe(before);
  });

  it('answers malformed input without crashing: huge headers, a request target that is not a path, bad escapes', async () => {
    const huge = await rawRequest(p.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    const absolute = await rawRequest(p.port, 'GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(absolute).toMatch(/^HTTP\/1\.1 400 /);
    expect(await call(p.url, '/api/users/%zz%')).toMatchObject({
      status: 200,
      upstream: 'legacy',
      url: '/api/users/%zz%',
    });
    const big = await call(p.url, '/upload', {
      method: 'POST',
      body: Buffer.alloc(10),
      headers: { 'content-length': String(64 * 1024 * 1024) },
    }).catch(() => ({ status: 413 }));
    expect(big.status).toBe(413);
    expect((await call(p.url, '/still-alive')).status).toBe(200);
    expect(p.proc.exitCode).toBeNull();
  });
});

describe('phase 1: the per-user decision', () => {
  const prefix = isolatedPrefix();
  const names = {
    routing: `${prefix}/users/routing`,
    cutover: `${prefix}/users/cutover`,
  };
  let p: ProxyProcess;
  let jwks: Server;
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwt = (payload: object, key = keys.privateKey) => {
    const head = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k1', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), key).toString('base64url')}`;
  };
  const side = async (path: string, init?: RequestInit) => (await call(p.url, path, init)).upstream;

  beforeAll(async () => {
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          keys: [{ ...keys.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }],
        }),
      );
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const verified: ProxyRoute = {
      path: '/api/verified',
      methods: ['GET'],
      servicePath: '/v1/verified',
      identity: {
        source: 'jwt',
        claim: 'sub',
        jwks: {
          url: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
          issuer: 'https://login.test/',
        },
      },
      anonymous: 'legacy',
    };
    await putFlag(ssm, names.routing, { mode: 'users', users: ['42', 'alice'], percent: 0 });
    await putFlag(ssm, names.cutover, notCutOver);
    p = await proxy(proxyConfig(legacy, [serviceEntry(prefix, service, [...ROUTES, verified])]));
    await eventually(async () => (await side('/api/users/42')) === 'users');
  });
  afterAll(() => new Promise<void>((resolve) => jwks.close(() => resolve())));

  it('sends a listed user to the service with the path rewritten, and everyone else to the monolith', async () => {
    const routed = await call(p.url, '/api/users/42?expand=roles');
    expect(routed).toMatchObject({ upstream: 'users', url: '/v1/users/42?expand=roles' });
    expect(service.seen[service.seen.length - 1].headers).toMatchObject({
      host: service.url.slice('http://'.length),
      'x-forwarded-host': `127.0.0.1:${p.port}`,
    });
    expect(await call(p.url, '/api/users/7?expand=roles')).toMatchObject({
      upstream: 'legacy',
      url: '/api/users/7?expand=roles',
    });
    expect(await side('/api/other')).toBe('legacy');
    expect(await side('/health')).toBe('legacy');
  });

  it('reads the user of a login from its JSON body and forwards the body intact', async () => {
    const body = (username: string) => JSON.stringify({ username, password: 'secret' });
    const headers = { 'content-type': 'application/json' };
    const routed = await call(p.url, '/api/login', { method: 'POST', headers, body: body('alice') });
    expect(routed).toMatchObject({
      upstream: 'users',
      url: '/v1/auth/login',
      sha256: sha(Buffer.from(body('alice'))),
    });
    const kept = await call(p.url, '/api/login', { method: 'POST', headers, body: body('bob') });
    expect(kept).toMatchObject({
      upstream: 'legacy',
      url: '/api/login',
      sha256: sha(Buffer.from(body('bob'))),
    });
    // Past the read bound the user is unknown (anonymous: the monolith), and the whole body still arrives.
    const long = Buffer.from(JSON.stringify({ username: 'alice', padding: 'p'.repeat(5000) }));
    expect(await call(p.url, '/api/login', { method: 'POST', headers, body: long })).toMatchObject({
      upstream: 'legacy',
      bytes: long.length,
      sha256: sha(long),
    });
  });

  it('reads a JWT claim (unverified), and treats a bad token as anonymous', async () => {
    const token = jwt({ sub: '42' });
    expect(await side('/api/me', { headers: { authorization: `Bearer ${token}` } })).toBe('users');
    for (const authorization of [
      'Bearer garbage',
      'Bearer a.b.c',
      `Bearer ${jwt({ sub: 'bob' })}`,
      'Basic eDp5',
    ])
      expect(await side('/api/me', { headers: { authorization } })).toBe('legacy');
  });

  it('verifies a JWT against the JWKS when configured: a forged token is anonymous', async () => {
    const claims = { sub: '42', iss: 'https://login.test/', exp: Math.floor(Date.now() / 1000) + 600 };
    expect(await side('/api/verified', { headers: { authorization: `Bearer ${jwt(claims)}` } })).toBe(
      'users',
    );
    const forged = jwt(claims, forger.privateKey);
    expect(await side('/api/verified', { headers: { authorization: `Bearer ${forged}` } })).toBe('legacy');
    const otherIssuer = jwt({ ...claims, iss: 'https://evil.test/' });
    expect(await side('/api/verified', { headers: { authorization: `Bearer ${otherIssuer}` } })).toBe(
      'legacy',
    );
  });

  it('sends an anonymous request where the route says', async () => {
    expect(await side('/api/profile')).toBe('users');
    expect(await side('/api/profile', { headers: { 'x-user-id': 'bob' } })).toBe('legacy');
    expect(await side('/api/profile', { headers: { 'x-user-id': '42' } })).toBe('users');
  });

  it('streams a 10 MB body to the service', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 'y');
    expect(await call(p.url, '/api/users/42', { method: 'PUT', body })).toMatchObject({
      upstream: 'users',
      bytes: body.length,
      sha256: sha(body),
    });
  });

  it('answers 504 for a slow service and 502 for a failing one, never retried nor sent to the monolith', async () => {
    // A proxy of its own with a short wait for the headers: the shared one keeps the harness's, so that
    // the tests sending many requests at once do not meet it on a loaded machine.
    const impatient = await proxy(
      proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES)], { timeouts: { headersMs: 250 } }),
    );
    await eventually(async () => (await call(impatient.url, '/api/users/42')).upstream === 'users');
    const before = { legacy: legacy.seen.length, service: service.seen.length };
    service.delayMs = 2500;
    const started = Date.now();
    expect((await call(impatient.url, '/api/users/42')).status).toBe(504);
    // undici checks header timeouts on a coarse clock (about 0.5-1 s), long before the service answers.
    expect(Date.now() - started).toBeLessThan(2000);
    service.delayMs = 0;
    service.fail = 'reset';
    expect((await call(impatient.url, '/api/users/42')).status).toBe(502);
    expect(service.seen.length - before.service).toBe(2);
    expect(legacy.seen.length).toBe(before.legacy);
    await eventually(
      async () => impatient.requests().filter((l) => l.Side === 'service' && l.Proxy5xx === 1).length >= 2,
    );
    expect(
      impatient
        .requests()
        .filter((l) => l.Side === 'service' && l.Proxy5xx === 1)
        .map((l) => l.status),
    ).toEqual(expect.arrayContaining([502, 504]));
  });

  it('logs every request as an EMF line with the route, side, status and latency, and no token or body', async () => {
    const token = jwt({ sub: '42' });
    await call(p.url, '/api/me?secret=s3cr3t', { headers: { authorization: `Bearer ${token}` } });
    await eventually(async () => p.requests().some((l) => l.route === '/api/me'));
    const line = p.requests().find((l) => l.route === '/api/me');
    expect(line).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'StranglerMigration',
            Dimensions: [['Service', 'Side']],
            Metrics: [
              { Name: 'ProxyRequests', Unit: 'Count' },
              { Name: 'Proxy5xx', Unit: 'Count' },
              { Name: 'ProxyLatency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Service: 'users',
      Side: 'service',
      method: 'GET',
      status: 200,
      identified: true,
      ProxyRequests: 1,
      Proxy5xx: 0,
      ProxyLatency: expect.any(Number),
    });
    const all = JSON.stringify(p.lines);
    expect(all).not.toContain(token);
    expect(all).not.toContain('s3cr3t');
    expect(all).not.toContain('secret"'); // the login password
  });

  it('routes a sticky percentage, all, and off, as each checked write says', async () => {
    await putFlag(ssm, names.routing, { mode: 'percent', users: [], percent: 30 });
    const users = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const expected = users.map((u) => (bucketOf('users', u) < 30 ? 'users' : 'legacy'));
    expect(new Set(expected)).toEqual(new Set(['users', 'legacy']));
    await eventually(
      async () =>
        (await side('/api/users/p0')) === expected[0] && (await side('/api/users/p1')) === expected[1],
    );
    for (let round = 0; round < 2; round++) {
      const sides = await Promise.all(users.map((u) => side(`/api/users/${u}`)));
      expect(sides).toEqual(expected);
    }
    // An unchecked write (no last-good label yet) is not what readers read.
    await putUnchecked(ssm, names.routing, { mode: 'all', users: [], percent: 0 });
    await new Promise((r) => setTimeout(r, 400)); // more than two refreshes
    expect(await Promise.all(users.map((u) => side(`/api/users/${u}`)))).toEqual(expected);

    await putFlag(ssm, names.routing, { mode: 'all', users: [], percent: 0 });
    await eventually(
      async () => (await side('/api/users/p5')) === 'users' && (await side('/api/me')) === 'users',
    );
    await putFlag(ssm, names.routing, off);
    await eventually(async () => (await side('/api/users/42')) === 'legacy');
    expect(await side('/api/profile')).toBe('legacy');
  });
});

describe('phase 2: the point of no return', () => {
  it('latches a completed cutover: a later "not completed" and routing "off" do not bring users back', async () => {
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, off);
    await putFlag(ssm, `${prefix}/users/cutover`, cutOver);
    const p = await proxy(proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES, { phase: 2 })]));
    await eventually(async () => (await call(p.url, '/api/users/7')).upstream === 'users');
    await putFlag(ssm, `${prefix}/users/cutover`, notCutOver);
    await eventually(async () => p.lines.some((l) => JSON.stringify(l).includes('cutover stays completed')));
    expect((await call(p.url, '/api/users/7')).upstream).toBe('users');
    expect((await call(p.url, '/api/other')).upstream).toBe('legacy');
  });

  it('with SSM down from the start: waits (503) only on the routes of a service that may have cut over', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const prefix = isolatedPrefix();
    const route = (path: string): ProxyRoute => ({
      path,
      methods: ['GET'],
      servicePath: path,
      anonymous: 'legacy',
    });
    const p = await proxy(
      proxyConfig(legacy, [
        serviceEntry(prefix, service, [route('/api/users/{id}')], { phase: 2 }),
        serviceEntry(prefix, service, [route('/api/orders/{id}')], {
          name: 'orders',
          phase: 2,
          cutoverRecorded: true,
        }),
        serviceEntry(prefix, service, [route('/api/invoices/{id}')], { name: 'billing', phase: 1 }),
      ]),
      down,
    );
    const waiting = await call(p.url, '/api/users/42');
    expect(waiting.status).toBe(503);
    expect(waiting.headers.get('retry-after')).toBe('1');
    // The deploy-time marker: cut over before anything is read.
    expect((await call(p.url, '/api/orders/1')).upstream).toBe('users');
    // Phase 1: no cutover possible; with no routing known, the monolith.
    expect((await call(p.url, '/api/invoices/1')).upstream).toBe('legacy');
    // The one service it cannot decide keeps this task out of the load balancer until its first read.
    const health = await call(p.url, '/health');
    expect(health.status).toBe(503);
    expect(JSON.parse(health.text)).toMatchObject({ reason: 'flags-not-loaded', services: ['users'] });
    expect((await call(p.url, '/anything/else')).upstream).toBe('legacy');
    expect(await logged(p, (l) => l.status === 503)).toMatchObject({
      Service: 'users',
      Side: 'proxy',
      Proxy5xx: 1,
    });
  });
});

describe('SSM going down while the proxy runs', () => {
  it('keeps deciding with the last good flags', async () => {
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'users', users: ['42'], percent: 0 });
    await putFlag(ssm, `${prefix}/users/cutover`, notCutOver);
    const relay = await ssmRelay();
    try {
      const p = await proxy(
        proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES, { phase: 2 })]),
        relay.url,
      );
      await eventually(async () => (await call(p.url, '/api/users/42')).upstream === 'users');
      relay.cut();
      await eventually(async () => p.lines.some((l) => l.msg === 'flags' && l.level === 'warn'));
      await new Promise((r) => setTimeout(r, 300)); // more refreshes fail meanwhile
      expect((await call(p.url, '/api/users/42')).upstream).toBe('users');
      expect((await call(p.url, '/api/users/7')).upstream).toBe('legacy');
      expect((await call(p.url, '/health')).status).toBe(200);
    } finally {
      await relay.close();
    }
  });
});

describe('SIGTERM', () => {
  it('stops accepting and drains in-flight requests without failing one', async () => {
    const slow = await standIn('slow-legacy');
    slow.delayMs = 1000;
    try {
      const p = await proxy(proxyConfig(slow, []));
      const inFlight = Array.from({ length: 8 }, (_, i) => call(p.url, `/work/${i}`));
      // All eight are in flight: the monolith has them and answers a second later. (A fixed wait let
      // SIGTERM come before the proxy had accepted the last one on a loaded machine.)
      await eventually(async () => slow.seen.length === 8);
      const exited = p.stop('SIGTERM');
      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(await exited).toEqual({ code: 0, signal: null });
      await expect(fetch(`${p.url}/late`)).rejects.toThrow();
      expect(p.lines.find((l) => l.msg === 'stopped')).toMatchObject({ drained: true });
    } finally {
      await slow.close();
    }
  });
});
