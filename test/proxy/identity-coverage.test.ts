/**
 * Configurations that look right and route nobody (issue 26): routes without an identity at phase 1
 * or later, and routes of one service that find the user in different places. Pure; the stack tests
 * check that the app raises these as synth warnings (test/stacks/phase1.cases.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { identifiesNobody, identityWarnings } from '../../lib/proxy/identity-coverage';
import { config, demoInput } from '../helpers/config-input';

/** The demo's users service at a phase, its input changed by `mutate`. */
// biome-ignore lint/suspicious/noExplicitAny: a raw config input (demoInput)
function demo(phase: number, mutate: (users: any, input: any) => void = () => {}) {
  const input = demoInput();
  input.services[0].phase = phase;
  mutate(input.services[0], input);
  return config(input);
}

const withoutIdentities = (users: { routes: Record<string, unknown>[] }) => {
  for (const r of users.routes) {
    delete r.identity;
    delete r.anonymous;
  }
};

describe('routes without an identity', () => {
  it('warn at phase 1, naming each route and the fix, and that only "all" moves anybody', () => {
    const warnings = identityWarnings(demo(1, withoutIdentities));
    expect(warnings).toEqual([
      {
        service: 'users',
        id: 'migration:route-without-identity',
        message: expect.stringContaining(
          'users: services[0].routes[0] (POST /api/login), services[0].routes[1] (POST /api/logout), services[0].routes[2] (POST /api/users), services[0].routes[3] (GET,PUT,DELETE /api/users/{id}), services[0].routes[4] (PUT /api/users/{id}/password) have no identity, so with routing "users" or "percent" no request on them is identified and none moves',
        ),
      },
    ]);
    expect(warnings[0].message).toContain('no route of users has one, so only "all" moves anybody');
    expect(warnings[0].message).toContain('Set routes[].identity');
  });

  it('warn about one route among identified ones, without saying nobody moves', () => {
    const [warning] = identityWarnings(
      demo(2, (users) => {
        delete users.routes[2].anonymous;
      }),
    );
    expect(warning.message).toMatch(
      /^users: services\[0\]\.routes\[2\] \(POST \/api\/users\) has no identity/,
    );
    expect(warning.message).not.toContain('only "all"');
  });

  it('are quiet when the route says where its anonymous requests go (a sign-up), at phase 0, or in-app', () => {
    expect(identityWarnings(demo(1))).toEqual([]);
    expect(identityWarnings(demo(0, withoutIdentities))).toEqual([]);
    expect(
      identityWarnings(
        demo(1, (users, input) => {
          withoutIdentities(users);
          input.routing = { mode: 'in-app' };
        }),
      ),
    ).toEqual([]);
  });

  it('a service identifies nobody when no route names an identity', () => {
    expect(identifiesNobody(demo(1, withoutIdentities).services[0])).toBe(true);
    expect(identifiesNobody(demo(1).services[0])).toBe(false);
  });
});

describe('routes of one service that find the user in different places', () => {
  it('warn, naming each place and its routes, unless identitiesAgree', () => {
    const warnings = identityWarnings(
      demo(1, (users) => {
        users.identitiesAgree = false;
      }),
    );
    expect(warnings).toEqual([
      {
        service: 'users',
        id: 'migration:mixed-identity-sources',
        message: expect.stringContaining(
          "users's routes find the user in 3 places (body field username on POST /api/login; JWT claim sub on POST /api/logout; path {id} on GET,PUT,DELETE /api/users/{id} and PUT /api/users/{id}/password)",
        ),
      },
    ]);
    expect(warnings[0].message).toContain('one person can be split between the monolith and the service');
    expect(warnings[0].message).toContain('set services[0].identitiesAgree to true');
  });

  it('are quiet when every route finds the user in one place', () => {
    const warnings = identityWarnings(
      demo(1, (users) => {
        users.identitiesAgree = false;
        users.routes = users.routes.filter((r: { path: string }) => r.path.startsWith('/api/users/'));
      }),
    );
    expect(warnings).toEqual([]);
  });

  it('envs/example.json, once at phase 1, warns about its login body and path id', () => {
    const input = JSON.parse(readFileSync(join(__dirname, '..', '..', 'envs', 'example.json'), 'utf8'));
    input.services[0].phase = 1;
    expect(identityWarnings(config(input)).map((w) => w.id)).toEqual(['migration:mixed-identity-sources']);
  });
});
