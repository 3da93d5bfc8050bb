import type { ExtractedServiceConfig, RouteConfig } from '../../lib/config/types';
import {
  AlbRulesError,
  PIN_PINNED,
  PIN_RELEASED,
  pathRegex,
  pinRegex,
  pinRegexBody,
  planListenerRules,
  rewriteReplacement,
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

describe('path matching', () => {
  it('matches exactly one segment per placeholder, anchored, with literal text escaped', () => {
    expect(pathRegex('/api/users/{id}')).toBe('^/api/users/[^/]+$');
    expect(pathRegex('/api/v1.0/{a}/x/{b}', true)).toBe('^/api/v1\\.0/([^/]+)/x/([^/]+)$');
    const re = new RegExp(pathRegex('/api/users/{id}'));
    expect(re.test('/api/users/42')).toBe(true);
    expect(re.test('/api/users/42/orders')).toBe(false);
    expect(re.test('/api/users')).toBe(false);
  });

  it('maps the service path placeholders to capture groups for the native rewrite', () => {
    expect(rewriteReplacement(r('/a/{x}/b/{y}', ['GET'], '/v1/{y}/{x}'))).toBe('/v1/$2/$1');
  });
});

describe('listener rule planning', () => {
  it('groups routes with the same methods while paths plus methods fit in five values', () => {
    const rules = planListenerRules(
      [
        svc('users', [
          r('/a', ['POST']),
          r('/b', ['POST']),
          r('/c', ['POST']),
          r('/d', ['POST']),
          r('/e', ['POST']),
          r('/u/{id}', ['GET', 'PUT']),
        ]),
      ],
      new Map([['users', 0]]),
    );
    expect(rules.map((x) => [x.priority, x.pathRegexes.length, x.methods])).toEqual([
      [100, 4, ['POST']],
      [101, 1, ['POST']],
      [102, 1, ['GET', 'PUT']],
    ]);
    for (const rule of rules) expect(rule.pathRegexes.length + rule.methods.length).toBeLessThanOrEqual(5);
  });

  it('gives each service a priority block by its position in the config', () => {
    const rules = planListenerRules(
      [svc('billing', [r('/x', ['GET'])])],
      new Map([
        ['users', 0],
        ['billing', 2],
      ]),
    );
    expect(rules[0].priority).toBe(300);
  });

  it('gives every path its own rule with a rewrite in alb mode', () => {
    const rules = planListenerRules(
      [
        svc(
          'orders',
          [r('/api/orders/{id}', ['GET'], '/orders/{id}'), r('/api/orders', ['GET'], '/orders')],
          'alb',
        ),
      ],
      new Map([['orders', 1]]),
    );
    expect(rules).toEqual([
      {
        service: 'orders',
        priority: 201,
        pathRegexes: ['^/api/orders/([^/]+)$'],
        methods: ['GET'],
        rewrite: { regex: '^/api/orders/([^/]+)$', replace: '/orders/$1' },
      },
      {
        service: 'orders',
        priority: 202,
        pathRegexes: ['^/api/orders$'],
        methods: ['GET'],
        rewrite: { regex: '^/api/orders$', replace: '/orders' },
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
    const long = Array.from({ length: 8 }, (_, i) => r(`/api/orders/very-long-segment-number-${i}`, ['GET']));
    expect(() => planListenerRules([svc('orders', long, 'alb')], new Map())).toThrow(
      /orders: its pin rule regex would be \d+ characters; an ALB condition value holds 128/,
    );
  });

  it('refuses a route with five or more methods, naming it', () => {
    expect(() =>
      planListenerRules([svc('users', [r('/u', ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'])])], new Map()),
    ).toThrow(
      'users: /u lists 5 methods; a rule holds 5 condition values (methods plus paths): split the route',
    );
  });

  it('refuses more than 100 rules per load balancer with the count', () => {
    const many = (name: string) =>
      svc(
        name,
        Array.from({ length: 60 }, (_, i) => r(`/${name}/${i}`, ['GET', 'PUT', 'POST', 'DELETE'])),
      );
    const plan = () =>
      planListenerRules(
        [many('users'), many('orders')],
        new Map([
          ['users', 0],
          ['orders', 1],
        ]),
      );
    expect(plan).toThrow(AlbRulesError);
    expect(plan).toThrow('the phase-3 routes need 120 listener rules; an ALB holds 100');
  });
});
