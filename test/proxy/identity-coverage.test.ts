/**
 * Configurations that look right and route nobody (issue 26): routes without an identity at phase 1
 * or later. Pure; the stack tests
 * check that the app raises these as synth warnings (test/stacks/phase1.cases.ts).
 */
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
