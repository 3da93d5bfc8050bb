import { parseConfig } from '../../lib/environment/parse';
import { config, demoInput, jwtIdentity } from '../helpers/config-input';

// biome-ignore lint/suspicious/noExplicitAny: tests deliberately write invalid values into the document
type Loose = any;

function problemsOf(mutate: (c: Loose) => void): string[] {
  const input = demoInput();
  mutate(input);
  const result = parseConfig(input);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

const route = (c: Loose, i = 3) => c.services[0].routes[i];

describe('routing configuration', () => {
  it('routes through the proxy by default, with documented limits', () => {
    expect(config().routing).toEqual({
      mode: 'proxy',
      proxy: {
        port: 8800,
        memoryMiB: 256,
        connectTimeoutMs: 3000,
        headersTimeoutMs: 60000,
        idleTimeoutMs: 60000,
        drainSeconds: 25,
        maxHeaderBytes: 65536,
        maxBodyBytes: 104857600,
        pathVariants: {
          handling: 'route',
          trailingSlash: true,
          repeatedSlashes: true,
          dotSegments: true,
          percentEncoding: true,
          letterCase: true,
          backslashes: true,
          encodedSlashes: true,
        },
      },
    });
  });

  it('accepts in-app routing and every proxy key', () => {
    const inApp = demoInput();
    inApp.routing = { mode: 'in-app' };
    expect(config(inApp).routing).toEqual({ mode: 'in-app' });
    const tuned = demoInput();
    tuned.routing = {
      proxy: {
        port: 9090,
        memoryMiB: 512,
        connectTimeoutMs: 500,
        headersTimeoutMs: 5000,
        idleTimeoutMs: 10000,
        drainSeconds: 60,
        maxHeaderBytes: 16384,
        maxBodyBytes: 1048576,
        pathVariants: {
          handling: 'refuse',
          trailingSlash: false,
          repeatedSlashes: true,
          dotSegments: true,
          percentEncoding: false,
          letterCase: false,
          backslashes: false,
          encodedSlashes: true,
        },
      },
    };
    expect(config(tuned).routing).toEqual({ mode: 'proxy', proxy: tuned.routing.proxy });
  });

  it('checks the path variants: the handling, each equivalence a boolean, no unknown key', () => {
    expect(
      problemsOf((c) => {
        c.routing = { proxy: { pathVariants: { handling: 'strip', letterCase: 'yes', caseFold: true } } };
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^routing\.proxy\.pathVariants\.handling: .*"route".*"refuse"/),
        expect.stringMatching(/^routing\.proxy\.pathVariants\.letterCase: expected true or false/),
        expect.stringMatching(/^routing\.proxy\.pathVariants\.caseFold: /),
      ]),
    );
  });

  it('keeps routes without identity exactly as written (the in-app route document does not change)', () => {
    // The demo's sign-up route has no identity (no user exists yet), and here no anonymous policy.
    const input = demoInput();
    delete input.services[0].routes[2].anonymous;
    expect(config(input).services[0].routes[2]).toEqual({
      path: '/api/users',
      methods: ['POST'],
      servicePath: '/v1/users',
    });
  });

  it.each<[string, (c: Loose) => void, RegExp]>([
    [
      'an unknown mode',
      (c) => (c.routing = { mode: 'sidecar' }),
      /^routing\.mode: "sidecar" is not allowed; use "proxy" or "in-app"$/,
    ],
    [
      'proxy keys in in-app mode',
      (c) => (c.routing = { mode: 'in-app', proxy: { port: 9000 } }),
      /^routing\.proxy: only applies when routing\.mode is "proxy"; remove it or set mode "proxy"$/,
    ],
    [
      'an unknown proxy key',
      (c) => (c.routing = { proxy: { prot: 1 } }),
      /^routing\.proxy\.prot: unknown key; expected one of port, /,
    ],
    [
      'a privileged port',
      (c) => (c.routing = { proxy: { port: 1023 } }),
      /^routing\.proxy\.port: 1023 is out of range; use a port from 1024 to 65535 \(the proxy runs as a non-root user\)$/,
    ],
    [
      "the monolith's port",
      (c) => Object.assign(c, { legacy: { ...c.legacy, port: 8800 } }),
      /^routing\.proxy\.port: 8800 is also legacy\.port: both containers share the task's network; use another port$/,
    ],
    [
      'all of the task memory',
      (c) => (c.routing = { proxy: { memoryMiB: 1024 } }),
      /^routing\.proxy\.memoryMiB: 1024 leaves nothing of legacy\.memoryMiB \(1024\) to the monolith; use less, or raise legacy\.memoryMiB$/,
    ],
    [
      'a long drain',
      (c) => (c.routing = { proxy: { drainSeconds: 300 } }),
      /^routing\.proxy\.drainSeconds: 300 is out of range; use 1 to 110 seconds: ECS stops a container at most 120 s after SIGTERM$/,
    ],
    [
      'headers over the ALB limit',
      (c) => (c.routing = { proxy: { maxHeaderBytes: 100000 } }),
      /^routing\.proxy\.maxHeaderBytes: 100000 is out of range; use 8192 to 65536 bytes/,
    ],
    [
      'a fractional timeout',
      (c) => (c.routing = { proxy: { connectTimeoutMs: 1.5 } }),
      /^routing\.proxy\.connectTimeoutMs: expected a whole number from 100 to 60000, got 1\.5$/,
    ],
  ])('refuses %s', (_name, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual([expect.stringMatching(expected)]);
  });
});

describe('route identity and anonymous policy', () => {
  it('reads each identity source', () => {
    const input = demoInput();
    const routes = input.services[0].routes;
    routes[0].identity = { source: 'body', field: 'user.email' };
    routes[0].anonymous = 'service';
    routes[1].identity = { source: 'cookie', name: 'uid' };
    routes[2].identity = { source: 'header', name: 'X-User-Id' };
    delete routes[2].anonymous;
    routes[3].identity = { source: 'path', name: 'id' };
    routes[4].identity = jwtIdentity();
    const parsed = config(input).services[0].routes;
    expect(parsed.map((r) => [r.identity, r.anonymous])).toEqual([
      [{ source: 'body', field: 'user.email', maxBytes: 16384 }, 'service'],
      [{ source: 'cookie', name: 'uid' }, undefined],
      [{ source: 'header', name: 'X-User-Id' }, undefined],
      [{ source: 'path', name: 'id' }, undefined],
      [
        {
          source: 'jwt',
          claim: 'uid',
          cookie: 'session',
          jwks: {
            url: 'https://login.example.com/.well-known/jwks.json',
            issuer: 'https://login.example.com/',
            audience: 'shop',
          },
        },
        undefined,
      ],
    ]);
  });

  it('defaults a JWT identity to the sub claim of the bearer token, unverified', () => {
    const input = demoInput();
    route(input).identity = { source: 'jwt' };
    expect(config(input).services[0].routes[3].identity).toEqual({ source: 'jwt', claim: 'sub' });
  });

  it.each<[string, (c: Loose) => void, RegExp]>([
    [
      'an unknown source',
      (c) => (route(c).identity = { source: 'ip' }),
      /^services\[0\]\.routes\[3\]\.identity\.source: "ip" is not allowed; use "path", "header", "cookie", "jwt" or "body"$/,
    ],
    [
      'a placeholder the path does not define',
      (c) => (route(c).identity = { source: 'path', name: 'userId' }),
      /^services\[0\]\.routes\[3\]\.identity\.name: "userId" is not a placeholder of "\/api\/users\/\{id\}"; use "id"$/,
    ],
    [
      'a path identity on a path without placeholders',
      (c) => (route(c, 0).identity = { source: 'path', name: 'id' }),
      /^services\[0\]\.routes\[0\]\.identity\.name: "\/api\/login" has no placeholder; use another identity source$/,
    ],
    [
      'the Authorization header as a plain header',
      (c) => (route(c).identity = { source: 'header', name: 'Authorization' }),
      /^services\[0\]\.routes\[3\]\.identity\.name: "Authorization" cannot carry the user id; use source "jwt" for tokens/,
    ],
    [
      'a header name with a space',
      (c) => (route(c).identity = { source: 'header', name: 'User Id' }),
      /^services\[0\]\.routes\[3\]\.identity\.name: "User Id" is not valid; use a header name such as "X-User-Id"$/,
    ],
    [
      'a key of another source',
      (c) => (route(c).identity = { source: 'cookie', name: 'uid', claim: 'sub' }),
      /^services\[0\]\.routes\[3\]\.identity\.claim: unknown key; expected one of source, name$/,
    ],
    [
      'an http JWKS',
      (c) => (route(c).identity = { source: 'jwt', jwksUrl: 'http://login.example.com/jwks' }),
      /^services\[0\]\.routes\[3\]\.identity\.jwksUrl: "http:\/\/login\.example\.com\/jwks" is not valid; use the https URL/,
    ],
    [
      'an issuer without verification',
      (c) => (route(c).identity = { source: 'jwt', issuer: 'https://login.example.com/' }),
      /^services\[0\]\.routes\[3\]\.identity\.issuer: only applies to a verified token; set jwksUrl too, or remove it$/,
    ],
    [
      'a body identity on a GET route',
      (c) => (route(c).identity = { source: 'body', field: 'id' }),
      /^services\[0\]\.routes\[3\]\.identity\.source: GET, DELETE requests carry no body to read; give them a route of their own/,
    ],
    [
      'a body bound too large',
      (c) => (route(c, 0).identity = { source: 'body', field: 'username', maxBytes: 10_000_000 }),
      /^services\[0\]\.routes\[0\]\.identity\.maxBytes: 10000000 is out of range; use 256 to 1048576 bytes: the proxy holds this much of the body in memory/,
    ],
    [
      'a body field that is not a path',
      (c) => (route(c, 0).identity = { source: 'body', field: 'user[0]' }),
      /^services\[0\]\.routes\[0\]\.identity\.field: "user\[0\]" is not valid; use a field name, or a dotted path/,
    ],
    [
      'an unknown anonymous policy',
      (c) => (route(c).anonymous = 'reject'),
      /^services\[0\]\.routes\[3\]\.anonymous: "reject" is not allowed; use "legacy" or "service"$/,
    ],
  ])('refuses %s', (_name, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual([expect.stringMatching(expected)]);
  });
});
