/**
 * Unit tests of the listener-rule planner: the regexes, the rewrites, how routes become rules and which
 * plans it refuses. The priority arithmetic (blocks per service and mode, the anchor, the order of the
 * `alb` rules, the query string through a rewrite) is in rule-priorities.test.ts.
 */
import { DEFAULT_RULE_QUOTA } from '../../lib/config/rule-layout';
import type { ExtractedServiceConfig, RouteConfig } from '../../lib/config/types';
import {
  AlbRulesError,
  MAX_REGEX_LENGTH,
  PIN_PINNED,
  PIN_RELEASED,
  pathRegex,
  pinRegex,
  pinRegexBody,
  planListenerRules,
  rewriteRegex,
  ruleCount,
} from '../../lib/gateway/alb-rules';

type Svc = Pick<ExtractedServiceConfig, 'name' | 'routes' | 'gateway'>;
const svc = (name: string, routes: RouteConfig[], gateway: 'krakend' | 'alb' = 'krakend'): Svc => ({
  name,
  routes,
  gateway,
});
const r = (path: string, methods: RouteConfig['methods'], servicePath = path): RouteConfig => ({
  path,
  methods,
  servicePath,
});
/** Explicit blocks, so that the priorities below do not depend on the hash of a name. */
const albConfig = (ruleBlocks: Record<string, number>, ruleQuota = DEFAULT_RULE_QUOTA) => ({
  ruleBlocks,
  ruleQuota,
});
/** The problems of a refused plan (fails the test when the plan is accepted). */
const problemsOf = (plan: () => unknown): readonly string[] => {
  try {
    plan();
  } catch (e) {
    expect(e).toBeInstanceOf(AlbRulesError);
    return (e as AlbRulesError).problems;
  }
  throw new Error('the plan was accepted');
};

describe('path matching', () => {
  it('matches exactly one segment per placeholder, anchored, with literal text escaped', () => {
    expect(pathRegex('/api/users/{id}')).toBe('^/api/users/[^/]+$');
    expect(pathRegex('/api/v1.0/{a}/x/{b}')).toBe('^/api/v1\\.0/[^/]+/x/[^/]+$');
    const re = new RegExp(pathRegex('/api/users/{id}'));
    expect(re.test('/api/users/42')).toBe(true);
    expect(re.test('/api/users/42/orders')).toBe(false);
    expect(re.test('/api/users')).toBe(false);
    expect(new RegExp(pathRegex('/api/v1.0')).test('/api/v1x0')).toBe(false);
  });

  // The capture groups moved from `pathRegex(path, true)` to `rewriteRegex`: the condition has none (it
  // matches the path only), the rewrite captures each placeholder up to a `?`, then the query string.
  it('captures one segment per placeholder for the native rewrite, literal text escaped, then the query', () => {
    expect(rewriteRegex('/api/v1.0/{a}/x/{b}')).toBe('^/api/v1\\.0/([^/?]+)/x/([^/?]+)(\\?.*)?$');
    const re = new RegExp(rewriteRegex('/api/users/{id}'));
    expect(re.exec('/api/users/42?x=1')?.slice(1)).toEqual(['42', '?x=1']);
    expect(re.test('/api/users/42/orders')).toBe(false);
    expect(re.test('/api/users')).toBe(false);
  });
  // The mapping of reordered placeholders to groups (`/v1/{y}/{x}`) is applied in rule-priorities.test.ts;
  // the replacement strings themselves are checked in the alb-mode plan below.
});

describe('listener rule planning', () => {
  it('groups routes with the same methods while paths plus methods fit in five values', () => {
    const [plan] = planListenerRules(
      [
        svc('users', [
          r('/a', ['POST']),
          r('/b', ['POST']),
          r('/c', ['POST']),
          r('/d', ['POST']),
          r('/e', ['POST']),
          r('/u/{id}', ['PUT', 'GET']),
        ]),
      ],
      albConfig({ users: 1 }),
    );
    expect(plan.rules.map((x) => [x.priority, x.pathRegexes, x.methods])).toEqual([
      [25032, ['^/a$', '^/b$', '^/c$', '^/d$'], ['POST']],
      [25033, ['^/e$'], ['POST']],
      [25034, ['^/u/[^/]+$'], ['GET', 'PUT']],
    ]);
    for (const rule of plan.rules) {
      expect(rule.pathRegexes.length + rule.methods.length).toBeLessThanOrEqual(5);
      expect(rule.rewrite).toBeUndefined();
    }
    expect(plan.pinPriority).toBeUndefined();
  });

  // Dropped on purpose: "gives each service a priority block by its position in the config". Blocks now
  // come from the service's name or alb.ruleBlocks (decision 0007), which rule-priorities.test.ts checks.

  it('gives every path its own rule with a rewrite in alb mode, even paths with the same methods', () => {
    const [plan] = planListenerRules(
      [
        svc(
          'orders',
          [r('/api/orders/{id}', ['GET'], '/orders/{id}'), r('/api/orders', ['GET'], '/orders')],
          'alb',
        ),
      ],
      albConfig({ orders: 2 }),
    );
    // The pin takes the first priority of the block (64); the rewriting rules follow it. Conditions have
    // no capture group any more, and each replacement appends the query group (decision 0007).
    expect(plan.pinPriority).toBe(64);
    expect(plan.rules).toEqual([
      {
        service: 'orders',
        mode: 'alb',
        priority: 65,
        pathRegexes: ['^/api/orders/[^/]+$'],
        methods: ['GET'],
        rewrite: { regex: '^/api/orders/([^/?]+)(\\?.*)?$', replace: '/orders/$1$2' },
      },
      {
        service: 'orders',
        mode: 'alb',
        priority: 66,
        pathRegexes: ['^/api/orders$'],
        methods: ['GET'],
        rewrite: { regex: '^/api/orders(\\?.*)?$', replace: '/orders$1' },
      },
    ]);
  });

  it('builds the pin regex of an alb-mode service from its routes, and refuses one over 128 characters', () => {
    expect(
      pinRegex(PIN_PINNED, pinRegexBody([r('/api/orders/{id}', ['GET']), r('/api/orders', ['GET'])])),
    ).toBe('^/?(/api/orders/[^/]+|/api/orders)$');
    const pinned = new RegExp(pinRegex(PIN_PINNED, pinRegexBody([r('/api/orders/{id}', ['GET'])])));
    const released = new RegExp(pinRegex(PIN_RELEASED, pinRegexBody([r('/api/orders/{id}', ['GET'])])));
    expect([pinned.test('/api/orders/7'), pinned.test('/api/orders/7/items')]).toEqual([true, false]);
    expect(released.test('/api/orders/7')).toBe(false);

    // `^/?(<path>)$` is the path plus 6 characters: a 122-character path makes a pin of exactly 128.
    const path = (length: number) => `/api/${'a'.repeat(length - 5)}`;
    expect(pinRegex(PIN_PINNED, pinRegexBody([r(path(122), ['GET'])]))).toHaveLength(MAX_REGEX_LENGTH);
    expect(() =>
      planListenerRules([svc('orders', [r(path(122), ['GET'])], 'alb')], albConfig({})),
    ).not.toThrow();
    expect(
      problemsOf(() => planListenerRules([svc('orders', [r(path(123), ['GET'])], 'alb')], albConfig({}))),
    ).toEqual([
      'orders: its pin rule regex would be 129 characters; an ALB condition value holds 128: use fewer routes per service in alb mode, or krakend',
    ]);
    const long = Array.from({ length: 8 }, (_, i) => r(`/api/orders/very-long-segment-number-${i}`, ['GET']));
    expect(() => planListenerRules([svc('orders', long, 'alb')], albConfig({}))).toThrow(
      /orders: its pin rule regex would be \d+ characters; an ALB condition value holds 128/,
    );
    // A krakend service has no pin: the same routes are accepted there.
    expect(() => planListenerRules([svc('orders', long)], albConfig({}))).not.toThrow();
  });

  it('refuses a route with five or more methods, naming it', () => {
    expect(() =>
      planListenerRules([svc('users', [r('/u', ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'])])], albConfig({})),
    ).toThrow(
      'users: /u lists 5 methods; a rule holds 5 condition values (methods plus paths): split the route',
    );
    const [four] = planListenerRules(
      [svc('users', [r('/u', ['GET', 'PUT', 'POST', 'DELETE'])])],
      albConfig({}),
    );
    expect(four.rules.map((x) => [x.pathRegexes, x.methods])).toEqual([
      [['^/u$'], ['DELETE', 'GET', 'POST', 'PUT']],
    ]);
  });

  // Rewritten: the old input (60 one-path rules in each of two services) is now refused per service,
  // before the quota: a block holds 32 rules, and one template resolves 60 dynamic references (30
  // weighted rules). The quota is alb.ruleQuota (default 100) and counts the pins and the gateway's anchor.
  it('refuses 60 rules in one service: more than its block holds, more live weights than a template resolves', () => {
    const routes = Array.from({ length: 60 }, (_, i) => r(`/users/${i}`, ['GET', 'PUT', 'POST', 'DELETE']));
    expect(problemsOf(() => planListenerRules([svc('users', routes)], albConfig({ users: 1 })))).toEqual([
      "users: needs 60 listener rules in krakend mode; a service's block holds 32: split it into two services",
      'users: its 60 weighted rules read 120 live weights with dynamic references; a CloudFormation template resolves 60: group routes with the same methods, or split the service',
    ]);
  });

  it('refuses more rules than the default quota of 100 per load balancer, with the count', () => {
    const many = (name: string, count: number) =>
      svc(
        name,
        Array.from({ length: count }, (_, i) => r(`/${name}/${i}`, ['GET', 'PUT', 'POST', 'DELETE'])),
      );
    const blocks = albConfig({ users: 1, orders: 2, billing: 3, stock: 4 });
    // 25 + 25 + 25 + 24 weighted rules and the gateway's anchor: exactly the quota.
    const full = [many('users', 25), many('orders', 25), many('billing', 25), many('stock', 24)];
    expect(ruleCount(planListenerRules(full, blocks))).toBe(DEFAULT_RULE_QUOTA);
    const over = () => planListenerRules([...full.slice(0, 3), many('stock', 25)], blocks);
    expect(over).toThrow(AlbRulesError);
    expect(problemsOf(over)).toEqual([
      "the phase-3 routes need 101 listener rules; the load balancer's quota (alb.ruleQuota) is 100: group routes with the same methods, move a service back to phase 2, or raise the quota with AWS and then alb.ruleQuota",
    ]);
  });

  it("counts the port-80 listener's redirect rule against the quota when there is a certificate", () => {
    const many = (name: string, count: number) =>
      svc(
        name,
        Array.from({ length: count }, (_, i) => r(`/${name}/${i}`, ['GET', 'PUT', 'POST', 'DELETE'])),
      );
    const blocks = albConfig({ users: 1, orders: 2, billing: 3, stock: 4 });
    const full = [many('users', 25), many('orders', 25), many('billing', 25), many('stock', 24)];
    const certificateArn = 'arn:aws:acm:eu-west-1:123456789012:certificate/x';
    expect(ruleCount(planListenerRules(full, blocks), { certificateArn })).toBe(DEFAULT_RULE_QUOTA + 1);
    expect(problemsOf(() => planListenerRules(full, { ...blocks, certificateArn }))).toEqual([
      "the phase-3 routes need 101 listener rules (with the port-80 redirect rule); the load balancer's quota (alb.ruleQuota) is 100: group routes with the same methods, move a service back to phase 2, or raise the quota with AWS and then alb.ruleQuota",
    ]);
  });
});
