import {
  activeComposites,
  COMPOSITE_BASE_HEADERS,
  gatewayCallsLegacy,
  gatewayComposites,
  legacyFrontDoor,
  plannedComposites,
  withCompositeRoutes,
} from '../../lib/gateway/composites';
import { config, demoInput } from '../helpers/config-input';

/** A second service (test/helpers/test-app.ts has one too, but loads aws-cdk-lib). */
const ordersInput = () => ({
  name: 'orders',
  image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
  port: 80,
  routes: [{ path: '/api/orders/{id}', methods: ['GET'], servicePath: '/v2/orders/{id}' }],
  bulkMigration: { command: ['/app/orders', 'migrate'], verify: ['/app/orders', 'verify'] },
});

/** The demo plus `orders`, and a composite of users that also calls orders directly. */
function withOrders(ordersPhase: number, gateway: 'krakend' | 'alb' = 'krakend') {
  const input = demoInput();
  input.services.push({ ...ordersInput(), phase: ordersPhase, gateway });
  input.services[0].composites.push({
    path: '/api/users/{id}/summary',
    parts: [
      { from: 'users', path: '/v1/users/{id}' },
      { from: 'orders', path: '/v2/orders/by-user/{id}', group: 'orders' },
    ],
  });
  return input;
}

describe('which composite endpoints reach the gateway', () => {
  it("the demo's profile: users at phase 3 in krakend mode, the other part from the monolith", () => {
    expect(plannedComposites(config()).map((c) => [c.composite.path, c.waitingFor])).toEqual([
      ['/api/users/{id}/profile', []],
    ]);
    expect(gatewayCallsLegacy(config())).toBe(true);
  });

  it.each([0, 1, 2])('none while their owner is at phase %i: the monolith answers, as before', (phase) => {
    const input = demoInput();
    input.services[0].phase = phase;
    const cfg = config(input);
    expect(plannedComposites(cfg).map((c) => c.waitingFor)).toEqual([['users']]);
    expect(activeComposites(cfg)).toEqual([]);
    expect(gatewayCallsLegacy(cfg)).toBe(false);
  });

  it('a composite that calls another service waits for it to reach phase 3 in krakend mode', () => {
    const waiting = config(withOrders(2));
    expect(plannedComposites(waiting).map((c) => [c.composite.path, c.waitingFor])).toEqual([
      ['/api/users/{id}/profile', []],
      ['/api/users/{id}/summary', ['orders']],
    ]);
    expect(activeComposites(config(withOrders(3))).map((c) => c.composite.path)).toEqual([
      '/api/users/{id}/profile',
      '/api/users/{id}/summary',
    ]);
  });
});

describe('the ALB rules of a composite: its owner routes it like one more GET route', () => {
  it('appends the composites at the gateway to the routes, GET only', () => {
    const cfg = config();
    const [users] = cfg.services;
    expect(withCompositeRoutes(users, cfg).routes.slice(users.routes.length)).toEqual([
      { path: '/api/users/{id}/profile', methods: ['GET'], servicePath: '/api/users/{id}/profile' },
    ]);
  });

  it('leaves the routes alone while the composite waits', () => {
    const cfg = config(withOrders(2));
    const [users] = cfg.services;
    expect(withCompositeRoutes(users, cfg).routes.map((r) => r.path)).not.toContain(
      '/api/users/{id}/summary',
    );
  });
});

describe('the composites as the KrakenD generator reads them', () => {
  const hosts = { legacy: () => 'http://legacy:8800', service: (name: string) => `http://${name}:80` };

  it('reach the monolith through its front door and the services by name, with the gateway timeout', () => {
    const [profile] = gatewayComposites(config(), hosts);
    expect(profile).toMatchObject({ service: 'users', path: '/api/users/{id}/profile', timeoutMs: 3000 });
    expect(profile.parts.map((p) => [p.from, p.host, p.path])).toEqual([
      ['users', 'http://users:80', '/v1/users/{id}'],
      ['legacy', 'http://legacy:8800', '/api/users/{id}/orders'],
    ]);
  });

  it("pass the trace context, the credentials, the routes' identity headers and the composite's own", () => {
    const input = demoInput();
    input.services[0].routes.push({
      path: '/api/me',
      methods: ['GET'],
      servicePath: '/v1/me',
      identity: { source: 'header', name: 'X-User-Id' },
    });
    Object.assign(input.services[0].composites[0], { timeoutMs: 1500, headers: ['X-Api-Version', 'cookie'] });
    const [profile] = gatewayComposites(config(input), hosts);
    expect(profile.timeoutMs).toBe(1500);
    // Each header once, whatever its case (Cookie is a standard one already).
    expect(profile.headers).toEqual([...COMPOSITE_BASE_HEADERS, 'X-User-Id', 'X-Api-Version']);
  });
});

describe("the legacy task's front door", () => {
  it('is the routing proxy, whose Service Connect proxy listens on a port the task does not use', () => {
    expect(legacyFrontDoor(config())).toEqual({ dnsName: 'legacy', port: 8800, ingressPort: 8899 });
    const input = demoInput();
    input.routing = { mode: 'proxy', proxy: { port: 8899 } };
    expect(legacyFrontDoor(config(input))).toEqual({ dnsName: 'legacy', port: 8899, ingressPort: 8898 });
  });

  it('is the routing proxy of a monolith that runs elsewhere, which has no port in the task', () => {
    const input = demoInput();
    input.legacy = {
      mode: 'external',
      endpoint: { url: 'http://10.0.12.7:8899' },
      database: {
        mode: 'import',
        engine: 'postgres',
        endpoint: 'db.example.com',
        securityGroupId: 'sg-0123456789abcdef0',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf',
        databaseName: 'shop',
      },
    };
    expect(legacyFrontDoor(config(input))).toEqual({ dnsName: 'legacy', port: 8800, ingressPort: 8899 });
  });

  it('is the monolith when it routes itself', () => {
    const input = demoInput();
    input.routing = { mode: 'in-app' };
    input.legacy.port = 8899;
    expect(legacyFrontDoor(config(input))).toEqual({ dnsName: 'legacy', port: 8899, ingressPort: 8898 });
  });
});
