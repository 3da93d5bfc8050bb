import { RULE_BLOCKS } from '../../lib/config/rule-layout';
import { hasPinnedTag } from '../../lib/config/schema/containers';
import { parseConfig } from '../../lib/environment/parse';
import { derivedRuleBlock } from '../../lib/gateway/alb-rules';
import { demoInput } from '../helpers/test-app';

function problems(mutate: (input: ReturnType<typeof demoInput>) => void) {
  const input = demoInput();
  mutate(input);
  const result = parseConfig(input);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

const orders = (routes: unknown[], extra: Record<string, unknown> = {}) => ({
  name: 'orders',
  phase: 3,
  image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
  routes,
  bulkMigration: { command: ['/app/orders', 'migrate'], verify: ['/app/orders', 'verify'] },
  ...extra,
});

/** Two service names whose derived listener-rule blocks are the same. */
function collidingNames(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const name = `svc${i}`;
    const block = derivedRuleBlock(name);
    const other = seen.get(block);
    if (other) return [other, name];
    seen.set(block, name);
  }
}

describe('config: route methods', () => {
  it.each(['HEAD', 'OPTIONS'])('refuses %s with the reason and what happens to such requests', (method) => {
    expect(
      problems((i) => {
        i.services[0].routes[3].methods = ['GET', method];
      }),
    ).toEqual([
      `services[0].routes[3].methods[1]: ${method} cannot be routed to a service: KrakenD CE registers no HEAD or OPTIONS endpoint, so the ALB would send it to a gateway without the route; remove it (HEAD and OPTIONS requests on /api/users/{id} stay with the monolith, whose proxy handles them)`,
    ]);
  });
});

describe('config: one owner per endpoint', () => {
  it('refuses two services whose routes one request can match (a placeholder and a literal)', () => {
    expect(
      problems((i) => {
        i.services.push(orders([{ path: '/api/users/me', methods: ['GET', 'POST'], servicePath: '/me' }]));
      }),
    ).toEqual([
      'services[1].routes[0]: GET /api/users/me overlaps /api/users/{id} of services[0].routes[3] (users): a request such as GET /api/users/me matches both; each endpoint belongs to one service: move the route to that service, or use a path its placeholders cannot match',
    ]);
  });

  it('refuses the same endpoint under another placeholder name, and accepts paths that cannot meet', () => {
    expect(
      problems((i) => {
        i.services.push(
          orders([{ path: '/api/users/{userId}', methods: ['DELETE'], servicePath: '/x/{userId}' }]),
        );
      }),
    ).toEqual([
      'services[1].routes[0]: DELETE /api/users/{userId} is also claimed by services[0].routes[3]; each endpoint belongs to one service',
    ]);
    expect(
      problems((i) => {
        i.services.push(
          orders([
            { path: '/api/users/{id}/orders', methods: ['GET'], servicePath: '/v2/orders/{id}' },
            { path: '/api/users/me', methods: ['PATCH'], servicePath: '/v2/me' },
          ]),
        );
      }),
    ).toEqual([]);
  });

  it('accepts a literal and a placeholder path within one service (the more specific one wins)', () => {
    expect(
      problems((i) => {
        i.services[0].routes.push({ path: '/api/users/me', methods: ['GET'], servicePath: '/v1/me' });
      }),
    ).toEqual([]);
  });
});

describe('config: images and reserved variables', () => {
  it.each([
    ['registry:5000/legacy', false],
    ['registry:5000/legacy:latest', false],
    ['registry:5000/team/legacy:2024-05-01', true],
    ['legacy', false],
    ['legacy:', false],
    ['legacy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', true],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1.4.2', true],
  ])('%s pins a version: %s', (image, pinned) => {
    expect(hasPinnedTag(image)).toBe(pinned);
  });

  it('refuses an image on a registry with a port and no tag', () => {
    expect(problems((i) => (i.legacy.image = 'registry:5000/legacy'))).toEqual([
      'legacy.image: "registry:5000/legacy" has no pinned tag; use an immutable tag or digest so a deploy is repeatable',
    ]);
  });

  it('reports a reserved variable at its own path (environment or secrets)', () => {
    expect(
      problems((i) => {
        i.legacy.environment = { DB_HOST: 'x', APP_ENV: 'demo' };
        i.services[0].secrets = {
          MIGRATION_TOKEN: {
            secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-AbCdEf',
          },
        };
      }),
    ).toEqual([
      'legacy.environment.DB_HOST: names starting with DB_ are set by this app; rename the variable',
      'services[0].secrets.MIGRATION_TOKEN: names starting with MIGRATION_ are set by this app; rename the variable',
    ]);
  });
});

describe('config: listener-rule blocks and the rule quota', () => {
  it('refuses two services whose derived blocks collide, naming a free block for the newer one', () => {
    const [first, second] = collidingNames();
    const block = derivedRuleBlock(first);
    const found = problems((i) => {
      i.services = [
        { ...i.services[0], name: first, composites: [] },
        { ...orders([{ path: '/api/orders', methods: ['GET'], servicePath: '/orders' }]), name: second },
      ];
    });
    expect(found).toEqual([
      expect.stringContaining(
        `services[1].name: ${second} gets listener-rule block ${block} (derived from its name), which services[0] (${first}) has already`,
      ),
    ]);
    const free = Number(/"ruleBlocks": \{"[a-z0-9]+": (\d+)\}/.exec(found[0])?.[1]);
    expect(free).not.toBe(block);
    expect(
      problems((i) => {
        i.alb = { ruleBlocks: { [second]: free } };
        i.services = [
          { ...i.services[0], name: first, composites: [] },
          { ...orders([{ path: '/api/orders', methods: ['GET'], servicePath: '/orders' }]), name: second },
        ];
      }),
    ).toEqual([]);
  });

  it('refuses a block for a service that does not exist, and a block out of range', () => {
    expect(problems((i) => (i.alb = { ruleBlocks: { payments: 3, users: RULE_BLOCKS + 1 } }))).toEqual([
      `alb.ruleBlocks.users: ${RULE_BLOCKS + 1} is out of range; use a block from 1 to ${RULE_BLOCKS} that no other service has`,
      'alb.ruleBlocks.payments: no service is named "payments"; remove the entry or fix the name',
    ]);
  });

  it('reports more rules than the quota as a config problem naming alb.ruleQuota', () => {
    // The demo's three route rules, its composite endpoint's (GET /api/users/{id}/profile), the anchor.
    expect(problems((i) => (i.alb = { ruleQuota: 4 }))).toEqual([
      "alb.ruleQuota: the phase-3 routes need 5 listener rules; the load balancer's quota (alb.ruleQuota) is 4: group routes with the same methods, move a service back to phase 2, or raise the quota with AWS and then alb.ruleQuota",
    ]);
    expect(problems((i) => (i.alb = { ruleQuota: 5 }))).toEqual([]);
  });

  it('refuses more weighted rules in one service than one template can resolve live weights for', () => {
    const routes = Array.from({ length: 31 * 4 }, (_, k) => ({
      path: `/api/users/r${k}`,
      methods: ['GET'],
      servicePath: `/v1/r${k}`,
    }));
    expect(
      problems((i) => {
        i.services[0].routes = routes;
        i.services[0].composites = [];
        i.alb = { ruleQuota: 1000 };
      }),
    ).toEqual([
      'services[0].routes: its 31 weighted rules read 62 live weights with dynamic references; a CloudFormation template resolves 60: group routes with the same methods, or split the service',
    ]);
  });
});
