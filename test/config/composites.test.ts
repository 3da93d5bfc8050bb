/**
 * The config's composite endpoints (services[].composites): every refusal names the field, the path and
 * the fix, and changes nothing (decision 0014).
 */
import { parseConfig } from '../../lib/environment/parse';
import { demoInput } from '../helpers/config-input';

// biome-ignore lint/suspicious/noExplicitAny: tests deliberately write invalid values into the document
type Loose = any;

function problemsOf(mutate: (c: Loose) => void): string[] {
  const input = demoInput();
  mutate(input);
  const result = parseConfig(input);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

const profile = (c: Loose) => c.services[0].composites[0];
const orders = {
  name: 'orders',
  image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
  routes: [{ path: '/api/orders/{id}', methods: ['GET'], servicePath: '/v2/orders/{id}' }],
};

describe('composite endpoints in the config', () => {
  it('the demo has one, and gets the documented defaults', () => {
    const result = parseConfig(demoInput());
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const [composite] = result.config.services[0].composites;
    expect(composite).toMatchObject({ path: '/api/users/{id}/profile', method: 'GET', headers: [] });
    expect(composite.timeoutMs).toBeUndefined();
  });

  it.each<[string, (c: Loose) => void, string[]]>([
    [
      'a write',
      (c) => (profile(c).method = 'POST'),
      [
        'services[0].composites[0].method: a composite endpoint answers GET only: a write sent to several backends cannot be undone when one of them fails; make POST /api/users/{id}/profile a route of the service that owns the write (services[].routes)',
      ],
    ],
    [
      'HEAD',
      (c) => (profile(c).method = 'HEAD'),
      [
        'services[0].composites[0].method: KrakenD CE registers no HEAD endpoint; HEAD requests on /api/users/{id}/profile stay with the monolith: remove the method (GET is the default)',
      ],
    ],
    [
      'a service in alb mode',
      (c) => (c.services[0].gateway = 'alb'),
      [
        'services[0].composites: the ALB cannot compose: a composite endpoint is answered by the KrakenD gateway, which this service does not use in alb mode; set gateway "krakend", or remove the composites',
      ],
    ],
    [
      'one part',
      (c) => profile(c).parts.pop(),
      [
        'services[0].composites[0].parts: a composite joins at least two parts; an endpoint answered by one backend is a route (services[].routes)',
      ],
    ],
    [
      'a part placeholder the path lacks',
      (c) => (profile(c).parts[1].path = '/api/orders/{userId}'),
      [
        'services[0].composites[0].parts[1].path: uses {userId}, which path "/api/users/{id}/profile" does not define; use {id}',
      ],
    ],
    [
      'two parts at the root of the document',
      (c) => delete profile(c).parts[1].collection,
      [
        'services[0].composites[0].parts[1]: lands at the root of the document like parts[0]: a key both answers have would come from whichever answers last; give one of them a group',
      ],
    ],
    [
      'two parts under one key',
      (c) => {
        profile(c).parts[0].group = 'orders';
        delete profile(c).parts[0].allow;
        delete profile(c).parts[0].mapping;
      },
      [
        'services[0].composites[0].parts[1].collection: "orders" is also where parts[0] lands; the later answer would replace the earlier: use another key',
      ],
    ],
    [
      'a key the root part keeps',
      (c) => (profile(c).parts[1].collection = 'name'),
      [
        'services[0].composites[0].parts[1].collection: "name" is also a field parts[0] keeps at the root; the later answer would replace the earlier: use another key',
      ],
    ],
    [
      'a field listed twice',
      (c) => profile(c).parts[0].allow.push('id'),
      [
        'services[0].composites[0].parts[0].allow[3]: lists "id" twice (KrakenD\'s schema refuses it); list each field once',
      ],
    ],
    [
      'allow and deny',
      (c) => (profile(c).parts[0].deny = ['password']),
      [
        'services[0].composites[0].parts[0].deny: KrakenD applies allow and ignores deny when both are set; keep one of them',
      ],
    ],
    [
      'a renamed field allow drops',
      (c) => (profile(c).parts[0].mapping = { mail: 'email2' }),
      [
        'services[0].composites[0].parts[0].mapping.mail: renames "mail", which allow drops first (KrakenD filters before it renames): add "mail" to allow',
      ],
    ],
    [
      'object shaping on an array',
      (c) => (profile(c).parts[1].allow = ['id']),
      [
        'services[0].composites[0].parts[1].collection: places a JSON array under "orders"; allow shapes an object: remove it, or remove collection if the answer is an object',
      ],
    ],
    [
      'deny three levels deep',
      (c) => {
        delete profile(c).parts[0].allow;
        delete profile(c).parts[0].mapping;
        profile(c).parts[0].deny = ['a.b.c'];
      },
      [
        'services[0].composites[0].parts[0].deny[0]: "a.b.c" is not valid; use a JSON field or "parent.field": KrakenD deny reaches two levels',
      ],
    ],
    [
      'Accept-Encoding among the headers',
      (c) => (profile(c).headers = ['Accept-Encoding']),
      [
        'services[0].composites[0].headers[0]: the gateway decodes every part itself and reads gzip only: a part compressed otherwise would fail; remove it',
      ],
    ],
    [
      'a timeout the load balancer does not wait for',
      (c) => (profile(c).timeoutMs = 90000),
      [
        'services[0].composites[0].timeoutMs: 90000 is out of range; use 100 to 60000 milliseconds (the load balancer gives up after 60 s)',
      ],
    ],
  ])('refuses %s', (_name, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual(expected);
  });
});

describe("the domain's checks of composite endpoints", () => {
  it.each<[string, (c: Loose) => void, string[]]>([
    [
      'a part from a service the config does not have',
      (c) => (profile(c).parts[0].from = 'accounts'),
      [
        'services[0].composites[0].parts[0].from: names no service; use "legacy" (the monolith, through the routing proxy) or one of "users"',
      ],
    ],
    [
      'a part from a service in alb mode',
      (c) => {
        c.services.push({ ...orders, gateway: 'alb' });
        profile(c).parts[1] = { from: 'orders', path: '/v2/orders/{id}', group: 'orders' };
      },
      [
        'services[0].composites[0].parts[1].from: orders is in alb mode: the ALB cannot compose, and the gateway calls orders only in krakend mode; fetch this part from the monolith through the routing proxy (from "legacy", on its old path), or set orders\'s gateway to "krakend"',
      ],
    ],
    [
      'a path a GET route of the same service matches',
      (c) => (profile(c).path = '/api/users/{id}'),
      [
        'services[0].composites[0].path: GET /api/users/{id} overlaps /api/users/{id} of services[0].routes[3] (users): a request such as GET /api/users/x matches both; remove GET from the route, or use a path the other cannot match',
      ],
    ],
    [
      "a path another service's GET route matches",
      (c) => {
        c.services.push({
          ...orders,
          routes: [{ path: '/api/users/{id}/{view}', methods: ['GET'], servicePath: '/v2/{id}/{view}' }],
        });
      },
      [
        'services[0].composites[0].path: GET /api/users/{id}/profile overlaps /api/users/{id}/{view} of services[1].routes[0] (orders): a request such as GET /api/users/x/profile matches both; remove GET from the route, or use a path the other cannot match',
      ],
    ],
    [
      'two composites one request matches',
      (c) => {
        c.services[0].composites.push({ ...profile(c), path: '/api/users/{id}/{view}' });
      },
      [
        'services[0].composites[1].path: GET /api/users/{id}/{view} overlaps the composite /api/users/{id}/profile of services[0] (users): a request such as GET /api/users/x/profile matches both; keep one',
      ],
    ],
  ])('refuses %s', (_name, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual(expected);
  });

  it('accepts a part from another service in krakend mode, at any phase (the composite waits for it)', () => {
    expect(
      problemsOf((c) => {
        c.services.push({ ...orders, phase: 1 });
        profile(c).parts[1] = { from: 'orders', path: '/v2/orders/{id}', group: 'orders' };
      }),
    ).toEqual([]);
  });

  it('a PUT route on the path of a composite is no overlap (the composite is GET)', () => {
    expect(
      problemsOf((c) =>
        c.services[0].routes.push({
          path: '/api/users/{id}/profile',
          methods: ['PUT'],
          servicePath: '/v1/users/{id}/profile',
        }),
      ),
    ).toEqual([]);
  });
});
