/**
 * The monolith: hosted by the app (its container and its database variables), or already running
 * elsewhere (its address, reached by the routing proxy as a service of its own); its database either way.
 */
import { z } from 'zod';
import { containerRules, containerShape, sized, sizingRules, sizingShape } from './containers';
import { legacyDatabase } from './databases';
import { intact, problem, refused, str, strict, union } from './kit';

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const HEALTH_PATH = /^\/[A-Za-z0-9/._~-]*$/;
const SG_ID = /^sg-[0-9a-f]{8,17}$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/** `http(s)://host[:port]`: an origin, no path (the proxy forwards the request's own path). */
const ORIGIN = /^(https?):\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/** What the monolith's container is told about its database, by variable name. */
const databaseVariables = strict({
  host: envVariable('DB_HOST'),
  port: envVariable('DB_PORT'),
  name: envVariable('DB_NAME'),
  username: envVariable('DB_USERNAME'),
  password: envVariable('DB_PASSWORD'),
})
  .superRefine((v, ctx) => {
    const seen = new Map<string, string>();
    for (const [key, name] of Object.entries(v)) {
      const first = seen.get(name);
      if (first !== undefined) problem(ctx, [key], `"${name}" is also ${first}; give each a name of its own`);
      else seen.set(name, key);
    }
  })
  .prefault({})
  .meta({
    description:
      "The names of the variables the monolith reads its database's endpoint and credentials from (the app sets them; username and password come from the database's secret).",
  });

function envVariable(fallback: string) {
  return str({ pattern: ENV_NAME, fix: 'use UPPER_SNAKE_CASE' })
    .regex(/^(?!MIGRATION_)/, {
      error: 'names starting with MIGRATION_ are set by this app; use another name',
    })
    .default(fallback)
    .meta({ description: `Default "${fallback}".` });
}

const hosted = containerRules(
  strict({
    ...containerShape({ port: 80, healthCheckPath: '/health' }),
    databaseVariables,
    endpoint: refused('only applies when legacy.mode is "external"; remove it, or set mode "external"'),
    database: legacyDatabase,
    mode: z.literal('hosted').default('hosted'),
  }),
)
  .superRefine(
    (v, ctx) => {
      for (const [key, name] of Object.entries(v.databaseVariables)) {
        for (const kind of ['environment', 'secrets'] as const)
          if (name in v[kind])
            problem(
              ctx,
              [kind, name],
              `is also databaseVariables.${key}, which the app sets; rename one of them`,
            );
      }
    },
    intact('databaseVariables', 'environment', 'secrets'),
  )
  .meta({
    description: 'The monolith hosted by the app: its container on Fargate, behind the load balancer.',
  });

const onlyHosted = (what: string) =>
  refused(
    `the app runs no monolith container when legacy.mode is "external" (${what}); remove it, or set mode "hosted"`,
  );

const endpoint = strict({
  url: str({
    pattern: ORIGIN,
    fix: 'use the address the monolith answers on inside the network, e.g. "https://internal-shop-123.eu-west-1.elb.amazonaws.com" or "http://10.0.12.7:8080", without a path',
  })
    .refine(
      (url) => Number(ORIGIN.exec(url)?.[3] ?? 80) <= 65535 && Number(ORIGIN.exec(url)?.[3] ?? 80) > 0,
      {
        error: 'has a port out of range; use 1 to 65535',
        when: (p) => typeof p.value === 'string' && ORIGIN.test(p.value),
      },
    )
    .meta({
      description:
        'Where the monolith answers today, from inside the VPC: its internal load balancer or its targets, http or https, without a path. Never a name that will point at this app once traffic moves (that would loop).',
    }),
  serverName: str({
    pattern: HOSTNAME,
    fix: 'use the host name the certificate of the monolith is issued for, e.g. "www.example.com"',
  })
    .optional()
    .meta({
      description:
        "https only: the name the monolith's TLS certificate is checked against (and sent as SNI). Default: the host of url.",
    }),
  securityGroupId: str({ pattern: SG_ID, fix: 'use an id like "sg-0123456789abcdef0"' }).optional().meta({
    description:
      "The monolith's (or its load balancer's) security group: the app admits the routing proxy's tasks to it on the url's port. Absent: admit them yourself.",
  }),
})
  .superRefine(
    (v, ctx) => {
      if (v.serverName !== undefined && !v.url.startsWith('https:'))
        problem(ctx, ['serverName'], 'only applies to an https url; remove it, or use https');
    },
    intact('url', 'serverName'),
  )
  .meta({
    description: 'The monolith that already serves production, and how the routing proxy reaches it.',
  });

const external = sizingRules(
  strict({
    mode: z.literal('external'),
    endpoint,
    healthCheckPath: str({ pattern: HEALTH_PATH, fix: 'use an absolute path such as "/health"' })
      .default('/health')
      .meta({
        description:
          "The monolith's health check path: the load balancer checks each proxy task with it, and the proxy always sends it to the monolith, so the check covers both.",
      }),
    ...sizingShape,
    database: legacyDatabase,
    image: onlyHosted('its image'),
    port: onlyHosted('its port: the endpoint url has it'),
    environment: onlyHosted('its environment'),
    secrets: onlyHosted('its secrets'),
    databaseVariables: onlyHosted('its database variables'),
    desiredCount: refused(
      'autoscaling owns the task count so a deploy never resets it; set minCount and maxCount instead',
    ),
  }),
  4,
)
  .superRefine((v, ctx) => {
    if (v.database.mode === 'create')
      problem(
        ctx,
        ['database', 'mode'],
        'a monolith that runs elsewhere has its database already; import it: mode "import" with its endpoint, port, securityGroupId, secretArn and databaseName',
      );
  }, intact('database'))
  .meta({
    description:
      'A monolith already serving production elsewhere: the routing proxy runs as a service of its own behind the load balancer and forwards to it.',
  });

export const legacy = union('mode', [hosted, external])
  .transform((v) => sized(v, 4))
  .meta({ description: 'The monolith.' });
