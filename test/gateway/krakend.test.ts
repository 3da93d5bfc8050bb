import {
  GatewayConfigError,
  type GatewayModel,
  type GatewayRoute,
  krakendConfig,
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
