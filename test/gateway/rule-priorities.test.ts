import type { ExtractedServiceConfig } from '../../lib/config/types';
import {
  AlbRulesError,
  BLOCK_SIZE,
  derivedRuleBlock,
  GATEWAY_ANCHOR_PRIORITY,
  MODE_BASE,
  PIN_PINNED,
  PIN_RELEASED,
  parsePinRegex,
  pinRegex,
  pinRegexBody,
  planListenerRules,
  priorityRange,
  rewriteRegex,
  rewriteReplacement,
  ruleCount,
} from '../../lib/gateway/alb-rules';
import { validateGateway } from '../../lib/gateway/krakend';
import { bySpecificity, pathsOverlap } from '../../lib/gateway/routes';

type Service = Pick<ExtractedServiceConfig, 'name' | 'routes' | 'gateway'>;
const alb = { ruleBlocks: {}, ruleQuota: 100 };
const users: Service = {
  name: 'users',
  gateway: 'krakend',
  routes: [
    { path: '/api/login', methods: ['POST'], servicePath: '/v1/auth/login' },
    { path: '/api/users/{id}', methods: ['GET', 'PUT'], servicePath: '/v1/users/{id}' },
  ],
};
const orders: Service = {
  name: 'orders',
  gateway: 'alb',
  routes: [
    { path: '/api/orders/{id}', methods: ['GET'], servicePath: '/v2/orders/{id}' },
    { path: '/api/orders/latest', methods: ['GET'], servicePath: '/v2/orders/latest' },
  ],
};
const priorities = (services: Service[], options = alb) =>
  Object.fromEntries(
    planListenerRules(services, options).map((p) => [
      p.service,
      [...(p.pinPriority ? [p.pinPriority] : []), ...p.rules.map((r) => r.priority)],
    ]),
  );

describe('listener-rule priorities', () => {
  it('come from the service, not its position: adding, removing or reordering services moves no rule', () => {
    const alone = priorities([users]);
    expect(priorities([users, orders]).users).toEqual(alone.users);
    expect(priorities([orders, users])).toEqual(priorities([users, orders]));
    expect(priorities([orders]).orders).toEqual(priorities([users, orders]).orders);
  });

  it('lie in separate ranges per mode, so a mode switch never meets the old rules', () => {
    const krakend = priorities([users]).users;
    const asAlb = priorities([{ ...users, gateway: 'alb' }]).users;
    expect(krakend.some((p) => asAlb.includes(p))).toBe(false);
    const block = derivedRuleBlock('users');
    expect(krakend[0]).toBe(MODE_BASE.krakend + block * BLOCK_SIZE);
    expect(asAlb[0]).toBe(block * BLOCK_SIZE);
    for (const p of [...krakend, ...asAlb]) {
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(GATEWAY_ANCHOR_PRIORITY);
    }
    expect(priorityRange('alb', 780).last).toBeLessThan(MODE_BASE.krakend);
  });

  it('follow an explicit block from alb.ruleBlocks', () => {
    expect(priorities([users], { ...alb, ruleBlocks: { users: 7 } }).users).toEqual([25224, 25225]);
  });

  it('count the pins and the gateway anchor against the quota', () => {
    const plans = planListenerRules([users, orders], alb);
    expect(ruleCount(plans)).toBe(2 + 1 + 2 + 1);
    expect(() => planListenerRules([users, orders], { ...alb, ruleQuota: 5 })).toThrow(AlbRulesError);
    expect(() => planListenerRules([users, orders], { ...alb, ruleQuota: 5 })).toThrow(
      /need 6 listener rules; the load balancer's quota \(alb\.ruleQuota\) is 5/,
    );
  });
});

describe('alb mode: the more specific path first, and the query string kept', () => {
  it('orders a literal before a placeholder at the same position, under the pin', () => {
    const [plan] = planListenerRules([orders], alb);
    expect(plan.rules.map((r) => [r.priority - (plan.pinPriority ?? 0), r.pathRegexes[0]])).toEqual([
      [1, '^/api/orders/latest$'],
      [2, '^/api/orders/[^/]+$'],
    ]);
    expect(bySpecificity('/a/{x}/b', '/a/c/{y}')).toBeGreaterThan(0);
    expect(pathsOverlap('/a/{x}', '/a/b/c')).toBe(false);
  });

  /** What the ALB does with a rewrite, whether it matches against the path alone or with its query. */
  const rewrite = (path: string, servicePath: string, url: string) =>
    url.replace(new RegExp(rewriteRegex(path)), rewriteReplacement({ path, servicePath, methods: ['GET'] }));

  it.each([
    ['/api/login', '/v1/auth/login', '/api/login?x=1', '/v1/auth/login?x=1'],
    ['/api/login', '/v1/auth/login', '/api/login', '/v1/auth/login'],
    ['/api/users/{id}', '/v1/users/{id}', '/api/users/42?expand=a&b=2', '/v1/users/42?expand=a&b=2'],
    [
      '/api/users/{id}/password',
      '/v1/users/{id}/password',
      '/api/users/7/password?x',
      '/v1/users/7/password?x',
    ],
    ['/api/a/{x}/b/{y}', '/v2/{y}/{x}', '/api/a/1/b/2?q=3', '/v2/2/1?q=3'],
  ])('%s -> %s rewrites %s to %s', (path, servicePath, url, expected) => {
    expect(rewrite(path, servicePath, url)).toBe(expected);
  });

  it('matches the condition on the path only, one segment per placeholder', () => {
    const [plan] = planListenerRules([orders], alb);
    expect(new RegExp(plan.rules[1].pathRegexes[0]).test('/api/orders/1')).toBe(true);
    expect(new RegExp(plan.rules[1].pathRegexes[0]).test('/api/orders/1/items')).toBe(false);
  });
});

describe('the pin rule regex', () => {
  it('is read back from the live rule, pinned or released', () => {
    const body = pinRegexBody(orders.routes);
    expect(parsePinRegex(pinRegex(PIN_PINNED, body))).toEqual({ pin: PIN_PINNED, body });
    expect(parsePinRegex(pinRegex(PIN_RELEASED, body))).toEqual({ pin: PIN_RELEASED, body });
    expect(parsePinRegex('^/api/orders$')).toBeUndefined();
  });
});

describe('the KrakenD validator', () => {
  it('refuses HEAD and OPTIONS endpoints (KrakenD CE registers neither)', () => {
    const route = { service: 'users', path: '/api/users', host: 'http://users:80', servicePath: '/v1/users' };
    expect(
      validateGateway({
        name: 'g',
        port: 8080,
        timeoutMs: 1000,
        routes: [
          { ...route, method: 'HEAD' },
          { ...route, method: 'GET' },
        ],
      }),
    ).toEqual([
      'users: HEAD /api/users: KrakenD CE registers no HEAD endpoint; leave HEAD and OPTIONS to the monolith',
    ]);
  });
});
