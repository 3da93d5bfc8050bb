/**
 * The demo grown to many services, for the limit test (test/stacks/limits.cases.ts) and the bench's
 * scaling rows (scripts/bench.ts): every service at phase 3, alternately in `krakend` and `alb` mode, two
 * routes each, each with the demo's bulk migration and write-back (the largest shape a service has). The
 * first service is the demo's `users` with its composite endpoint (krakend mode).
 */
import { DEMO_CONFIG_INPUT } from './demo';

// biome-ignore lint/suspicious/noExplicitAny: a raw JSON document, validated by the config parser
export function scaledDemoInput(count: number): any {
  const base = JSON.parse(JSON.stringify(DEMO_CONFIG_INPUT.services[0]));
  const services = Array.from({ length: count }, (_, i) => {
    const name = i === 0 ? 'users' : `svc${String(i).padStart(2, '0')}`;
    const gateway = i % 2 === 0 ? 'krakend' : 'alb';
    const { composites, ...rest } = base;
    return {
      ...JSON.parse(JSON.stringify(rest)),
      name,
      gateway,
      ...(i === 0 ? { composites } : {}),
      routes:
        i === 0
          ? base.routes.slice(0, 2)
          : [
              {
                path: `/api/${name}/login`,
                methods: ['POST'],
                servicePath: `/v1/${name}/login`,
                identity: { source: 'body', field: 'username' },
              },
              {
                path: `/api/${name}/{id}`,
                methods: ['GET', 'PUT'],
                servicePath: `/v1/${name}/{id}`,
                identity: { source: 'path', name: 'id' },
              },
            ],
    };
  });
  return {
    ...JSON.parse(JSON.stringify(DEMO_CONFIG_INPUT)),
    services,
    // Blocks given, so that no two derived blocks collide (a collision is a config error naming a free one).
    alb: { ruleBlocks: Object.fromEntries(services.map((s, i) => [s.name, i + 1])) },
  };
}
