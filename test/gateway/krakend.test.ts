import {
  type GatewayComposite,
  type GatewayCompositePart,
  GatewayConfigError,
  type GatewayModel,
  type GatewayRoute,
  krakendConfig,
  startupProblems,
  validateGateway,
} from '../../lib/gateway/krakend';

const route = (over: Partial<GatewayRoute>): GatewayRoute => ({
  service: 'users',
  path: '/api/users/{id}',
  method: 'GET',
  host: 'http://users:8080',
  servicePath: '/v1/users/{id}',
  ...over,
});
const model = (routes: GatewayRoute[]): GatewayModel => ({
  name: 'demo-gateway',
  port: 8080,
  timeoutMs: 3000,
  routes,
});

describe('the generated KrakenD configuration', () => {
  it('declares one endpoint per path and method, rewriting with url_pattern to the Service Connect host', () => {
    const config = krakendConfig(
      model([
        route({ method: 'PUT' }),
        route({}),
        route({ path: '/api/login', method: 'POST', servicePath: '/v1/auth/login' }),
      ]),
    );
    expect(config).toMatchObject({
      version: 3,
      name: 'demo-gateway',
      port: 8080,
      timeout: '3000ms',
      output_encoding: 'no-op',
    });
    expect(config.endpoints).toEqual([
      {
        endpoint: '/api/login',
        method: 'POST',
        output_encoding: 'no-op',
        timeout: '3000ms',
        input_headers: ['*'],
        input_query_strings: ['*'],
        backend: [
          { host: ['http://users:8080'], url_pattern: '/v1/auth/login', method: 'POST', encoding: 'no-op' },
        ],
      },
      expect.objectContaining({ endpoint: '/api/users/{id}', method: 'GET' }),
      expect.objectContaining({
        endpoint: '/api/users/{id}',
        method: 'PUT',
        backend: [expect.objectContaining({ url_pattern: '/v1/users/{id}' })],
      }),
    ]);
  });
});

describe('what would make KrakenD CE refuse to start or misroute', () => {
  it.each<[string, GatewayRoute[], string]>([
    [
      'a url_pattern placeholder the endpoint lacks',
      [route({ servicePath: '/v1/users/{userId}' })],
      'users: GET /api/users/{id}: url_pattern /v1/users/{userId} uses {userId}, which the endpoint does not define',
    ],
    [
      'the same endpoint and method twice',
      [route({}), route({ service: 'accounts' })],
      'accounts: GET /api/users/{id}: declared twice (also by users); each endpoint and method once',
    ],
    [
      'different placeholder names at one position',
      [
        route({}),
        route({
          path: '/api/users/{userId}/password',
          method: 'PUT',
          servicePath: '/v1/users/{userId}/password',
        }),
      ],
      'users: PUT /api/users/{userId}/password: placeholder {userId} after /api/users conflicts with {id} in /api/users/{id}; use one name at one position',
    ],
    [
      'a wildcard endpoint',
      [route({ path: '/api/users/*', servicePath: '/v1/users' })],
      'users: GET /api/users/*: wildcard and catch-all endpoints need KrakenD Enterprise; declare every path',
    ],
    [
      'a catch-all segment',
      [route({ path: '/api/:rest', servicePath: '/v1' })],
      'users: GET /api/:rest: wildcard and catch-all endpoints need KrakenD Enterprise',
    ],
    [
      'a host with a path',
      [route({ host: 'http://users:8080/v1' })],
      'users: GET /api/users/{id}: host "http://users:8080/v1" contains a path; put the path in the url_pattern',
    ],
    [
      'a host that is not a URL',
      [route({ host: 'users' })],
      'users: GET /api/users/{id}: host "users" is not a URL such as http://users:8080',
    ],
    [
      'a placeholder inside a segment',
      [route({ path: '/api/users/id-{id}' })],
      'users: GET /api/users/id-{id}: segment "id-{id}" mixes text and a placeholder',
    ],
  ])('%s', (_name, routes, message) => {
    expect(validateGateway(model(routes))).toEqual(
      expect.arrayContaining([expect.stringContaining(message)]),
    );
    expect(() => krakendConfig(model(routes))).toThrow(GatewayConfigError);
    expect(() => krakendConfig(model(routes))).toThrow(message);
  });

  it('accepts the same placeholder name at the same position across endpoints', () => {
    expect(
      validateGateway(
        model([
          route({}),
          route({ path: '/api/users/{id}/password', method: 'PUT', servicePath: '/v1/users/{id}/password' }),
        ]),
      ),
    ).toEqual([]);
  });
});

const part = (over: Partial<GatewayCompositePart> = {}): GatewayCompositePart => ({
  from: 'users',
  host: 'http://users:8080',
  path: '/v1/users/{id}',
  ...over,
});
const profile = (over: Partial<GatewayComposite> = {}): GatewayComposite => ({
  service: 'users',
  path: '/api/users/{id}/profile',
  timeoutMs: 2500,
  headers: ['Authorization', 'traceparent'],
  parts: [
    part({ allow: ['id', 'displayName'], mapping: { displayName: 'name' } }),
    part({
      from: 'legacy',
      host: 'http://legacy:8800/',
      path: '/api/users/{id}/orders',
      collection: 'orders',
    }),
  ],
  ...over,
});
const withComposites = (composites: GatewayComposite[], routes: GatewayRoute[] = []): GatewayModel => ({
  ...model(routes),
  composites,
});
type Endpoint = { endpoint: string; method: string; backend: Record<string, unknown>[] } & Record<
  string,
  unknown
>;
const endpointsOf = (config: Record<string, unknown>) => config.endpoints as Endpoint[];

describe('a composite endpoint in the generated configuration', () => {
  it('merges decoded parts (json, never the root no-op), GET only, with its own timeout and headers', () => {
    const config = krakendConfig(withComposites([profile()], [route({})]));
    const [plain, composite] = endpointsOf(config);
    expect(plain).toMatchObject({ endpoint: '/api/users/{id}', output_encoding: 'no-op' });
    const { backend, ...endpoint } = composite;
    expect(endpoint).toEqual({
      endpoint: '/api/users/{id}/profile',
      method: 'GET',
      output_encoding: 'json',
      timeout: '2500ms',
      input_headers: ['Authorization', 'traceparent'],
      input_query_strings: ['*'],
    });
    expect(backend).toEqual([
      {
        host: ['http://users:8080'],
        url_pattern: '/v1/users/{id}',
        method: 'GET',
        encoding: 'json',
        allow: ['id', 'displayName'],
        mapping: { displayName: 'name' },
      },
      {
        host: ['http://legacy:8800'],
        url_pattern: '/api/users/{id}/orders',
        method: 'GET',
        encoding: 'json',
        is_collection: true,
        mapping: { collection: 'orders' },
      },
    ]);
    expect(startupProblems(config)).toEqual([]);
  });

  it('writes group, deny and target as KrakenD names them', () => {
    const config = krakendConfig(
      withComposites([
        profile({
          parts: [
            part({ deny: ['password', 'audit.ip'] }),
            part({
              from: 'orders',
              host: 'http://orders:80',
              path: '/v2/orders',
              group: 'recent',
              target: 'data',
            }),
          ],
        }),
      ]),
    );
    expect(endpointsOf(config)[0].backend).toEqual([
      expect.objectContaining({ deny: ['password', 'audit.ip'] }),
      {
        host: ['http://orders:80'],
        url_pattern: '/v2/orders',
        method: 'GET',
        encoding: 'json',
        target: 'data',
        group: 'recent',
      },
    ]);
    const backends = endpointsOf(config)[0].backend;
    for (const b of backends) expect(b).not.toHaveProperty('is_collection');
    expect(backends[0]).not.toHaveProperty('group');
  });
});

describe('what a composite would do wrong at start-up or in the merged document', () => {
  it.each<[string, GatewayComposite, GatewayRoute[], string]>([
    [
      'a single part',
      profile({ parts: [part()] }),
      [],
      'users: GET /api/users/{id}/profile: a composite needs at least two parts',
    ],
    [
      'a part placeholder the endpoint lacks',
      profile({ parts: [part({ path: '/v1/users/{userId}' }), part({ group: 'x' })] }),
      [],
      'users: GET /api/users/{id}/profile: part 1 (users): url_pattern /v1/users/{userId} uses {userId}, which the endpoint does not define',
    ],
    [
      'a part host with a path',
      profile({ parts: [part({ host: 'http://users:8080/v1' }), part({ group: 'x' })] }),
      [],
      'host "http://users:8080/v1" contains a path',
    ],
    [
      'two parts at the root',
      profile({ parts: [part(), part({ from: 'legacy', host: 'http://legacy:8800' })] }),
      [],
      'parts from users and legacy both land at the root of the document',
    ],
    [
      'two parts under one key',
      profile({ parts: [part({ group: 'orders' }), part({ from: 'legacy', collection: 'orders' })] }),
      [],
      'part 2 (legacy): lands under "orders" like the part from users',
    ],
    [
      'allow and deny together',
      profile({ parts: [part({ allow: ['id'], deny: ['x'] }), part({ group: 'x' })] }),
      [],
      'part 1 (users): allow and deny cannot coexist',
    ],
    [
      'a mapping of a field allow drops',
      profile({ parts: [part({ allow: ['id'], mapping: { email: 'mail' } }), part({ group: 'x' })] }),
      [],
      'part 1 (users): mapping renames "email", which allow drops first',
    ],
    [
      'a field twice',
      profile({ parts: [part({ allow: ['id', 'id'] }), part({ group: 'x' })] }),
      [],
      'part 1 (users): allow lists id twice',
    ],
    [
      'deny three levels deep',
      profile({ parts: [part({ deny: ['a.b.c'] }), part({ group: 'x' })] }),
      [],
      'part 1 (users): deny reaches two levels',
    ],
    [
      'object shaping on a collection',
      profile({ parts: [part(), part({ collection: 'orders', allow: ['id'] })] }),
      [],
      'part 2 (users): allow, deny, mapping and target shape an object',
    ],
    [
      'a timeout the load balancer does not wait for',
      profile({ timeoutMs: 61000 }),
      [],
      'users: GET /api/users/{id}/profile: timeout 61000 ms; use 1 to 60000 ms',
    ],
    [
      'Accept-Encoding passed to the parts',
      profile({ headers: ['accept-encoding'] }),
      [],
      'input_headers passes Accept-Encoding',
    ],
    [
      'the path of a route with GET',
      profile({ path: '/api/users/{id}' }),
      [route({})],
      'users: GET /api/users/{id}: declared twice (also by users as a route)',
    ],
    [
      "another placeholder name at a route's position",
      profile({
        path: '/api/users/{userId}/profile',
        parts: [part({ path: '/v1/users/{userId}' }), part({ group: 'x' })],
      }),
      [route({})],
      'placeholder {userId} after /api/users conflicts with {id} in /api/users/{id}',
    ],
  ])('%s', (_name, composite, routes, message) => {
    expect(validateGateway(withComposites([composite], routes))).toEqual(
      expect.arrayContaining([expect.stringContaining(message)]),
    );
    expect(() => krakendConfig(withComposites([composite], routes))).toThrow(message);
  });

  it('accepts the demo shape: one root part, the other placed under its own key', () => {
    expect(validateGateway(withComposites([profile()], [route({})]))).toEqual([]);
  });
});

describe("KrakenD CE's start-up rules on the generated document", () => {
  const doc = (endpoints: Record<string, unknown>[]) => ({ version: 3, output_encoding: 'no-op', endpoints });
  const backend = (encoding?: string) => ({ url_pattern: '/v1/x', ...(encoding ? { encoding } : {}) });

  it('refuses two backends under an inherited no-op (KrakenD does not start)', () => {
    expect(
      startupProblems(doc([{ endpoint: '/a', method: 'GET', backend: [backend('json'), backend('json')] }])),
    ).toEqual([
      'GET /a: 2 backends with output_encoding no-op (inherited from the root); KrakenD refuses to start: set output_encoding "json" on the endpoint',
    ]);
  });

  it('refuses a no-op backend in a merging endpoint, and an endpoint without a backend', () => {
    expect(
      startupProblems(
        doc([
          {
            endpoint: '/a',
            method: 'GET',
            output_encoding: 'json',
            backend: [backend('json'), backend('no-op')],
          },
          { endpoint: '/b', method: 'GET', backend: [] },
        ]),
      ),
    ).toEqual([
      'GET /a: backend /v1/x is no-op in a merging endpoint; its answer would not be decoded: use encoding "json"',
      'GET /b: no backend; KrakenD ignores an endpoint without one',
    ]);
  });

  it('accepts one no-op backend per no-op endpoint, and decoded backends in a json endpoint', () => {
    expect(
      startupProblems(
        doc([
          { endpoint: '/a', method: 'GET', backend: [backend('no-op')] },
          { endpoint: '/b', method: 'GET', output_encoding: 'json', backend: [backend(), backend('json')] },
        ]),
      ),
    ).toEqual([]);
  });
});
