/**
 * The schema of an environment file: one zod schema gives the parser (`parseConfig`), the TypeScript
 * types (types.ts) and the JSON Schema editors complete envs/*.json with (schema/environment.schema.json).
 *
 * Field rules sit on the fields. Rules that read several fields are `superRefine`s guarded by `intact`
 * (schema-kit.ts), so they run whenever what they read is valid. Defaults that depend on another field
 * (a task's memory on its cpu, a database's name on its service) are applied by a transform at the end
 * of their object; a rule that reads such a field applies the same default itself.
 */
import { z } from 'zod';
import { isContractTime, RUN_ID } from '../flags/documents';
import { DEFAULT_RULE_QUOTA, planProblems, RULE_BLOCKS, ruleBlockOf } from '../gateway/alb-rules';
import { overlappingMethods, sharedExample } from '../gateway/routes';
import { SERVICE_NAME } from '../naming';
import { HOP_BY_HOP_HEADERS } from '../proxy/headers';
import { listOr } from '../validation/reader';
import { describeMemoryFor, FARGATE_CPUS, FARGATE_SIZES } from './fargate';
import {
  array,
  bool,
  int,
  intact,
  keyName,
  oneOf,
  oneOfNumbers,
  problem,
  record,
  refused,
  str,
  strict,
  union,
} from './schema-kit';

const NAME = /^[a-z][a-z0-9-]{1,20}[a-z0-9]$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SG_ID = /^sg-[0-9a-f]{8,17}$/;
const CIDR = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\/\d{1,2}$/;
const CERT_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const TAG_KEY = /^[A-Za-z0-9 _.:/=+@-]{1,128}$/;
const TAG_VALUE = /^[A-Za-z0-9 _.:/=+@-]{0,256}$/;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const IMAGE = /^[a-z0-9][a-z0-9._/:@-]*$/;
const INSTANCE_CLASS = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const DB_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const PARAM_PREFIX = /^(\/[A-Za-z0-9_.-]+){1,5}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ROUTE_PATH = /^(\/([A-Za-z0-9._~-]+|\{[a-z][a-zA-Z0-9_]*\}))+$/;
const HEALTH_PATH = /^\/[A-Za-z0-9/._~-]*$/;
const SECRET_FIELD = /^[A-Za-z0-9_.-]+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const CLAIM_NAME = /^[A-Za-z0-9_:/.#-]{1,128}$/;
const BODY_FIELD = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,4}$/;
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/;
const VISIBLE_ASCII = /^[\x21-\x7e]{1,256}$/;
/** Both engines' version shapes; the engine's own is checked by a rule of the database. */
const ENGINE_VERSION = /^(\d{2}\.\d{1,2}|8\.[04]\.\d{1,2})$/;
const ENGINE_VERSIONS = { postgres: /^\d{2}\.\d{1,2}$/, mysql: /^8\.[04]\.\d{1,2}$/ } as const;
const ENGINE_VERSION_FIX = {
  postgres: 'use a full Postgres version such as "17.9"',
  mysql: 'use a full MySQL version such as "8.4.9"',
} as const;
const DEFAULT_ENGINE_VERSION = { postgres: '17.9', mysql: '8.4.9' } as const;

/** Environment variable names the app sets itself; a config may not override them. */
export const RESERVED_ENV_PREFIXES = ['DB_', 'LEGACY_DB_', 'MIGRATION_'] as const;
/** Tag key prefixes AWS and this app own. */
const RESERVED_TAG_PREFIXES = ['aws:', 'migration:'] as const;
/** Service names the app's own stacks and parameters use. */
const RESERVED_SERVICE_NAMES = ['legacy', 'gateway'] as const;

/** Retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** The methods a route may be written with; HEAD and OPTIONS only to say why they are refused. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const ROUTED: readonly (typeof HTTP_METHODS)[number][] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const UNROUTED: readonly (typeof HTTP_METHODS)[number][] = ['HEAD', 'OPTIONS'];

/** A regex refusing strings that start with one of `prefixes` (a JSON Schema can check it too). */
function notStartingWith(prefixes: readonly string[]): RegExp {
  return new RegExp(`^(?!${prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
}

/**
 * A regex refusing each of `words` in any letter case. JSON Schema patterns take no flags, so each letter
 * is a class (`[cC][oO]...`).
 */
function noneOfCaseless(words: readonly string[]): RegExp {
  const caseless = (w: string) =>
    [...w]
      .map((ch) => (/[a-z]/.test(ch) ? `[${ch}${ch.toUpperCase()}]` : ch)) // header names: letters, digits and -
      .join('');
  return new RegExp(`^(?!(${words.map(caseless).join('|')})$)`);
}

/** Placeholder names of a route path, in order. */
export function placeholders(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
}

/**
 * An image reference pins a version when it has a digest, or a tag that is not `latest`. The tag is after
 * the last colon of the last path segment: in `registry:5000/legacy` the colon is the registry's port.
 */
export function hasPinnedTag(image: string): boolean {
  if (image.includes('@')) return true;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon > 0 && colon < last.length - 1 && last.slice(colon + 1) !== 'latest';
}

/** Addresses each AZ's subnets take (public /24, private /22, isolated /24); see NetworkStack. */
const ADDRESSES_PER_AZ = 256 + 1024 + 256;

function isPrivateCidr(cidr: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return false;
  const [a, b, c, d, prefix] = m.slice(1).map(Number);
  if ([a, b, c, d].some((o) => o > 255) || prefix < 16 || prefix > 22) return false;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

const retention = (fallback: (typeof LOG_RETENTION_DAYS)[number]) =>
  oneOfNumbers(LOG_RETENTION_DAYS).default(fallback);

const secretArn = str({
  pattern: SECRET_ARN,
  fix: 'use the complete secret ARN, ending in the 6-character suffix, e.g. "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-AbCdEf"',
});

// ---------------------------------------------------------------- network and load balancer

const createdVpc = strict({
  mode: z.literal('create').default('create'),
  cidr: str({
    pattern: CIDR,
    fix: 'use a private IPv4 CIDR with a /16 to /22 prefix, e.g. "10.0.0.0/16"',
  })
    .refine(isPrivateCidr, {
      error: (iss) =>
        `${JSON.stringify(iss.input)} is not valid; use a private IPv4 CIDR with a /16 to /22 prefix, e.g. "10.0.0.0/16"`,
      when: (p) => typeof p.value === 'string' && CIDR.test(p.value),
    })
    .default('10.0.0.0/16')
    .meta({ description: 'IPv4 CIDR of the VPC, e.g. "10.0.0.0/16".' }),
  maxAzs: int({ min: 2, max: 6, fix: 'an ALB needs at least 2 availability zones; use 2 or 3' })
    .default(2)
    .meta({ description: 'Number of availability zones (2 or 3 for production).' }),
  natGateways: int({
    min: 1,
    max: 6,
    fix: 'the private subnets need a NAT gateway to pull images; use 1 (cheap) up to maxAzs (resilient)',
  })
    .default(1)
    .meta({ description: 'NAT gateways: 1 saves money, one per AZ survives an AZ outage.' }),
  flowLogRetentionDays: retention(90).meta({ description: 'Retention of the VPC flow logs in days.' }),
  vpcId: refused('only applies when vpc.mode is "import"; remove it or set mode'),
})
  .superRefine(
    (v, ctx) => {
      if (v.natGateways > v.maxAzs)
        problem(
          ctx,
          ['natGateways'],
          `${v.natGateways} is more than maxAzs (${v.maxAzs}); use at most ${v.maxAzs}`,
        );
    },
    intact('natGateways', 'maxAzs'),
  )
  .superRefine(
    (v, ctx) => {
      const prefix = Number(v.cidr.split('/')[1]);
      const needed = v.maxAzs * ADDRESSES_PER_AZ;
      if (needed > 2 ** (32 - prefix))
        problem(
          ctx,
          ['cidr'],
          `a /${prefix} holds ${2 ** (32 - prefix)} addresses but ${v.maxAzs} AZs need ${needed} (a /24 public, /22 private and /24 isolated subnet each); use a larger block such as /${32 - Math.ceil(Math.log2(needed))} or fewer AZs`,
        );
    },
    intact('cidr', 'maxAzs'),
  )
  .meta({ description: 'A VPC created by the network stack.' });

const onlyWhenCreated = () => refused('only applies when vpc.mode is "create"; remove it');

const importedVpc = strict({
  mode: z.literal('import'),
  vpcId: str({ pattern: VPC_ID, fix: 'use an id like "vpc-0123456789abcdef0"' }).meta({
    description: 'The id of the VPC, e.g. "vpc-0123456789abcdef0".',
  }),
  cidr: onlyWhenCreated(),
  maxAzs: onlyWhenCreated(),
  natGateways: onlyWhenCreated(),
  flowLogRetentionDays: onlyWhenCreated(),
}).meta({
  description:
    'An existing VPC, looked up by id (the result is cached in cdk.context.json). Needs account and region.',
});

const vpc = union('mode', [createdVpc, importedVpc]).prefault({});

const alb = strict({
  certificateArn: str({
    pattern: CERT_ARN,
    fix: 'use an ACM certificate ARN like "arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>", or remove it for HTTP only',
  })
    .optional()
    .meta({
      description:
        'ACM certificate ARN. Present: HTTPS on 443 plus an HTTP-to-HTTPS redirect on 80. Absent: plain HTTP on 80 (a demo only).',
    }),
  accessLogRetentionDays: int({ min: 1, max: 3650 })
    .default(90)
    .meta({ description: 'Days the ALB access logs are kept in their bucket.' }),
  ruleQuota: int({
    min: 1,
    max: 10000,
    fix: 'use the "Rules per Application Load Balancer" quota of the account and region (100 unless AWS raised it)',
  })
    .default(DEFAULT_RULE_QUOTA)
    .meta({
      description:
        "The account's quota of listener rules per load balancer (100 by default; AWS raises it on request). The app refuses a config whose phase-3 routes need more rules than this.",
    }),
  ruleBlocks: record(
    keyName(SERVICE_NAME, 'use the name of a service in services[]'),
    int({ min: 1, max: RULE_BLOCKS, fix: `use a block from 1 to ${RULE_BLOCKS} that no other service has` }),
  )
    .default({})
    .meta({
      description:
        'Explicit listener-rule blocks by service name (docs/decisions/0007); a service without an entry gets the block derived from its name. Set one only to resolve a collision reported by the config check, for the service that is new.',
    }),
}).prefault({});

// ---------------------------------------------------------------- containers

const secretReference = strict({
  secretArn: secretArn.meta({ description: 'Complete ARN of the Secrets Manager secret.' }),
  field: str({ pattern: SECRET_FIELD, fix: 'use a JSON key of the secret' })
    .optional()
    .meta({ description: 'JSON field of the secret to inject; absent injects the whole secret string.' }),
});

/** An environment variable name the app does not set itself. */
const envName = keyName(ENV_NAME, 'use UPPER_SNAKE_CASE').regex(notStartingWith(RESERVED_ENV_PREFIXES), {
  error: (iss) =>
    `names starting with ${RESERVED_ENV_PREFIXES.find((p) => String(iss.input).startsWith(p))} are set by this app; rename the variable`,
});

/** Fargate size, autoscaling bounds and log retention, as every service and the gateway have them. */
const sizingShape = {
  cpu: oneOfNumbers(FARGATE_CPUS).default(512).meta({ description: 'Fargate CPU units (256 ... 16384).' }),
  memoryMiB: int({ min: 512, max: 122880 })
    .optional()
    .meta({ description: 'Fargate memory in MiB; must be valid for cpu. Default: twice the cpu units.' }),
  minCount: int({ min: 1, max: 100 }).default(2).meta({
    description:
      'Tasks always running: the lower bound of autoscaling. There is no desired count: autoscaling owns it, so a deploy never resets a scaled-out service.',
  }),
  maxCount: int({ min: 1, max: 100 }).optional().meta({ description: 'Upper bound of autoscaling.' }),
  cpuTargetPercent: int({ min: 10, max: 90 })
    .default(60)
    .meta({ description: 'Average CPU utilisation autoscaling keeps the service at.' }),
  logRetentionDays: retention(30).meta({ description: 'Days container logs are kept.' }),
};

interface SizingInput {
  readonly cpu: number;
  readonly memoryMiB?: number;
  readonly minCount: number;
  readonly maxCount?: number;
}

/** The sizing defaults that depend on other fields: memory on cpu, the upper bound on the lower one. */
function sized<T extends SizingInput>(v: T, defaultMax: number) {
  return {
    ...v,
    memoryMiB: v.memoryMiB ?? v.cpu * 2,
    maxCount: v.maxCount ?? Math.max(defaultMax, v.minCount),
  };
}

/** The sizing rules, attached to each object with a sizing (`defaultMax` as in `sized`). */
function sizingRules<S extends z.ZodType<SizingInput>>(schema: S, defaultMax: number): S {
  return schema
    .superRefine(
      (v, ctx) => {
        const { cpu, memoryMiB } = sized(v, defaultMax);
        if (FARGATE_SIZES.has(cpu) && !FARGATE_SIZES.get(cpu)?.includes(memoryMiB))
          problem(
            ctx,
            ['memoryMiB'],
            `${memoryMiB} is not a Fargate size for cpu ${cpu}; use ${describeMemoryFor(cpu)}`,
          );
      },
      intact('cpu', 'memoryMiB'),
    )
    .superRefine(
      (v, ctx) => {
        const { minCount, maxCount } = sized(v, defaultMax);
        if (minCount > maxCount)
          problem(ctx, ['minCount'], `${minCount} is above maxCount (${maxCount}); use minCount <= maxCount`);
      },
      intact('minCount', 'maxCount'),
    );
}

/** What every Fargate web service of the app is configured with. */
function containerShape(defaults: { port: number; healthCheckPath: string }) {
  return {
    image: str({
      pattern: IMAGE,
      fix: 'use an image reference such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1.4.2"',
    })
      .refine(hasPinnedTag, {
        error: (iss) =>
          `${JSON.stringify(iss.input)} has no pinned tag; use an immutable tag or digest so a deploy is repeatable`,
        when: (p) => typeof p.value === 'string' && p.value !== '',
      })
      .meta({ description: 'Container image with an immutable tag or digest.' }),
    port: int({ min: 1, max: 65535 })
      .default(defaults.port)
      .meta({ description: 'Port the container listens on.' }),
    healthCheckPath: str({ pattern: HEALTH_PATH, fix: 'use an absolute path such as "/health"' })
      .default(defaults.healthCheckPath)
      .meta({ description: 'HTTP path that answers 200 when a task is healthy.' }),
    ...sizingShape,
    desiredCount: refused(
      'autoscaling owns the task count so a deploy never resets it; set minCount and maxCount instead',
    ),
    environment: record(envName, str())
      .default({})
      .meta({ description: 'Plain environment variables (never secrets).' }),
    secrets: record(envName, secretReference)
      .default({})
      .meta({ description: 'Environment variables read from Secrets Manager at task start.' }),
  };
}

/** The container rules, attached to the monolith and to each service. */
function containerRules<S extends z.ZodType<SizingInput & ContainerVariables>>(schema: S): S {
  return sizingRules(schema, 4).superRefine(
    (v, ctx) => {
      for (const key of Object.keys(v.environment)) {
        if (key in v.secrets) problem(ctx, ['environment', key], 'is also in secrets; keep one of the two');
      }
    },
    intact('environment', 'secrets'),
  );
}

interface ContainerVariables {
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, unknown>>;
}

// ---------------------------------------------------------------- databases

const engine = oneOf(['postgres', 'mysql']);

function createdDatabase<M extends z.ZodType<'create', 'create' | undefined>>(mode: M) {
  const schema = strict({
    mode,
    engine: engine.default('postgres'),
    // The engine's own version shape is a rule below, so that the message names the engine; the JSON
    // Schema gets the shapes of both.
    engineVersion: str().optional().meta({
      pattern: ENGINE_VERSION.source,
      description: 'Full engine version: "17.9" for Postgres, "8.4.9" for MySQL (the defaults).',
    }),
    instanceClass: str({
      pattern: INSTANCE_CLASS,
      fix: 'use an RDS instance class without the "db." prefix, e.g. "t4g.medium" or "r7g.large"',
    })
      .default('t4g.medium')
      .meta({ description: 'Instance class without the "db." prefix, e.g. "t4g.medium".' }),
    allocatedStorageGiB: int({ min: 20, max: 65536 })
      .default(20)
      .meta({ description: 'Initial storage in GiB.' }),
    maxAllocatedStorageGiB: int({ min: 20, max: 65536 }).optional().meta({
      description: 'Storage autoscaling ceiling in GiB (default: 100, or allocatedStorageGiB if larger).',
    }),
    multiAz: bool().default(true).meta({ description: 'A standby in a second AZ.' }),
    backupRetentionDays: int({ min: 1, max: 35 })
      .default(7)
      .meta({ description: 'Days automated backups are kept (1-35).' }),
    databaseName: str({
      pattern: DB_NAME,
      fix: 'use lowercase letters, digits and underscores, starting with a letter',
    })
      .optional()
      .meta({ description: 'Name of the database created in the instance.' }),
    secretRotationDays: int({ min: 1, max: 365 }).optional().meta({
      description:
        'Days between rotations of the master credentials. Default: no rotation, since the services read credentials at task start.',
    }),
  })
    .superRefine(
      (v, ctx) => {
        if (v.engineVersion !== undefined && !ENGINE_VERSIONS[v.engine].test(v.engineVersion))
          problem(
            ctx,
            ['engineVersion'],
            `${JSON.stringify(v.engineVersion)} is not valid; ${ENGINE_VERSION_FIX[v.engine]}`,
          );
      },
      intact('engine', 'engineVersion'),
    )
    .superRefine(
      (v, ctx) => {
        const max = v.maxAllocatedStorageGiB;
        if (max !== undefined && max < v.allocatedStorageGiB)
          problem(
            ctx,
            ['maxAllocatedStorageGiB'],
            `${max} is below allocatedStorageGiB (${v.allocatedStorageGiB}); raise it`,
          );
      },
      intact('allocatedStorageGiB', 'maxAllocatedStorageGiB'),
    );
  return schema;
}

type CreatedDatabaseInput = z.output<ReturnType<typeof createdDatabase>>;

/** The database defaults that depend on other fields; `databaseName` defaults to its owner's name. */
function withDatabaseDefaults(v: CreatedDatabaseInput, defaultName: string) {
  return {
    mode: 'create' as const,
    engine: v.engine,
    engineVersion: v.engineVersion ?? DEFAULT_ENGINE_VERSION[v.engine],
    instanceClass: v.instanceClass,
    allocatedStorageGiB: v.allocatedStorageGiB,
    maxAllocatedStorageGiB: v.maxAllocatedStorageGiB ?? Math.max(100, v.allocatedStorageGiB),
    multiAz: v.multiAz,
    backupRetentionDays: v.backupRetentionDays,
    databaseName: v.databaseName ?? defaultName,
    secretRotationDays: v.secretRotationDays,
  };
}

const importedDatabase = strict({
  mode: z.literal('import'),
  engine,
  endpoint: str({ pattern: HOSTNAME, fix: 'use the DNS name of the database endpoint' }).meta({
    description: 'DNS name of the instance or cluster writer endpoint.',
  }),
  port: int({ min: 1, max: 65535 })
    .optional()
    .meta({ description: 'Database port (default: 3306 for MySQL, 5432 for Postgres).' }),
  securityGroupId: str({ pattern: SG_ID, fix: 'use an id like "sg-0123456789abcdef0"' }).meta({
    description: 'Security group attached to the database; the app adds ingress rules to it.',
  }),
  secretArn: secretArn.meta({
    description: 'Secret with username and password (and usually host, port, dbname).',
  }),
  databaseName: str({ pattern: DB_NAME, fix: 'use the database name the monolith connects to' }),
})
  .transform((v) => ({ ...v, port: v.port ?? (v.engine === 'mysql' ? 3306 : 5432) }))
  .meta({
    description: 'An existing database the app connects to but does not own (the legacy database only).',
  });

const legacyDatabase = union('mode', [
  createdDatabase(z.literal('create').default('create')).transform((v) => withDatabaseDefaults(v, 'app')),
  importedDatabase,
]).prefault({});

const legacy = containerRules(
  strict({
    ...containerShape({ port: 80, healthCheckPath: '/health' }),
    database: legacyDatabase,
  }),
)
  .transform((v) => sized(v, 4))
  .meta({ description: 'The monolith.' });

// ---------------------------------------------------------------- flags, notifications, gateway

const flags = strict({
  parameterPrefix: str({
    pattern: PARAM_PREFIX,
    fix: 'use an absolute SSM path of 1-5 segments without a trailing slash, e.g. "/shop/migration"',
  })
    .optional()
    .meta({
      description:
        'Path prefix of every flag parameter (default "/<name>/migration"); each service gets <prefix>/<service>/...',
    }),
  cacheTtlSeconds: int({
    min: 5,
    max: 300,
    fix: 'use 5 to 300 seconds: lower risks SSM throttling (40 reads/s per account), higher slows a rollback',
  })
    .default(15)
    .meta({
      description: 'Seconds a consumer caches a flag document (SSM allows 40 reads per second by default).',
    }),
  tier: oneOf(['standard', 'advanced']).default('standard').meta({
    description:
      'SSM tier of the routing parameter: standard holds 4 KB, advanced 8 KB (and costs money). SSM cannot go back from advanced.',
  }),
  adoptExisting: bool().default(false).meta({
    description:
      'Take over flag parameters left behind by another environment or an earlier build, with their values.',
  }),
}).prefault({});

const notifications = strict({
  emails: array(str({ pattern: EMAIL, fix: 'use an e-mail address' }))
    .default([])
    .meta({ description: 'E-mail addresses subscribed to the migration alert topic.' }),
}).prefault({});

const gateway = sizingRules(
  strict({
    ...sizingShape,
    timeoutMs: int({ min: 100, max: 60000 })
      .default(3000)
      .meta({ description: 'Backend timeout of every gateway endpoint, in milliseconds.' }),
  }),
  6,
)
  .transform((v) => sized(v, 6))
  .prefault({})
  .meta({
    description: 'The shared KrakenD gateway of phase 3 (its image is the pinned KrakenD CE release).',
  });

// ---------------------------------------------------------------- routes

/** Headers the proxy rewrites or drops (hop-by-hop and forwarding headers): never an identity. */
const NOT_IDENTITY_HEADERS = [
  ...HOP_BY_HOP_HEADERS,
  'host',
  'content-length',
  'cookie',
  'authorization',
  'x-forwarded-for',
];

const jwtText = str({ pattern: VISIBLE_ASCII, fix: 'use 1-256 visible ASCII characters' }).optional();

/** Where the routing proxy finds the user of a request (docs/routing-proxy.md, "Who is the user?"). */
const identity = union('source', [
  strict({
    source: z.literal('path'),
    name: str({ fix: 'use a placeholder of the route path' }).meta({
      description: 'A placeholder of the route path, e.g. "id" of /api/users/{id}.',
    }),
  }),
  strict({
    source: z.literal('header'),
    name: str({ pattern: HEADER_NAME, fix: 'use a header name such as "X-User-Id"' })
      .regex(noneOfCaseless(NOT_IDENTITY_HEADERS), {
        error: (iss) =>
          `${JSON.stringify(iss.input)} cannot carry the user id; use source "jwt" for tokens, "cookie" for cookies, or another header`,
      })
      .meta({ description: 'A request header set by an upstream authenticator, e.g. "X-User-Id".' }),
  }),
  strict({
    source: z.literal('cookie'),
    name: str({ pattern: COOKIE_NAME, fix: 'use the cookie name, e.g. "uid"' }),
  }),
  strict({
    source: z.literal('jwt'),
    claim: str({ pattern: CLAIM_NAME, fix: 'use a top-level claim name such as "sub"' })
      .default('sub')
      .meta({ description: 'A top-level claim of the token.' }),
    cookie: str({
      pattern: COOKIE_NAME,
      fix: 'use the name of the cookie that holds the token, or remove it for the Authorization header',
    })
      .optional()
      .meta({ description: 'The cookie holding the token; default: the Authorization: Bearer header.' }),
    jwksUrl: str({
      pattern: HTTPS_URL,
      fix: 'use the https URL of the identity provider\'s JWKS, e.g. "https://login.example.com/.well-known/jwks.json"',
    })
      .optional()
      .meta({
        description:
          'Verify the signature against this JWKS; default: not verified (the claim only routes the request).',
      }),
    issuer: jwtText.meta({ description: 'Expected issuer of a verified token.' }),
    audience: jwtText.meta({ description: 'Expected audience of a verified token.' }),
  })
    .superRefine((v, ctx) => {
      if (v.jwksUrl !== undefined) return;
      for (const key of ['issuer', 'audience'] as const) {
        if (v[key] !== undefined)
          problem(ctx, [key], 'only applies to a verified token; set jwksUrl too, or remove it');
      }
    }, intact('jwksUrl'))
    .transform(({ source, claim, cookie, jwksUrl, issuer, audience }) => ({
      source,
      claim,
      ...(cookie !== undefined ? { cookie } : {}),
      ...(jwksUrl !== undefined
        ? {
            jwks: {
              url: jwksUrl,
              ...(issuer !== undefined ? { issuer } : {}),
              ...(audience !== undefined ? { audience } : {}),
            },
          }
        : {}),
    })),
  strict({
    source: z.literal('body'),
    field: str({
      pattern: BODY_FIELD,
      fix: 'use a field name, or a dotted path of up to 5 names such as "user.email"',
    }).meta({ description: 'A field of a JSON or form body (login routes); the body is forwarded intact.' }),
    maxBytes: int({
      min: 256,
      max: 1048576,
      fix: 'use 256 to 1048576 bytes: the proxy holds this much of the body in memory to find the field',
    })
      .default(16384)
      .meta({ description: 'How much of the body the proxy reads to find the field.' }),
  }),
]);

const routePathFix =
  'use an absolute path of literal segments and {placeholders}, e.g. "/api/users/{id}"; wildcards are not allowed';

const route = strict({
  path: str({ pattern: ROUTE_PATH, fix: routePathFix }).meta({
    description: 'What clients call today (old apps included); {name} stands for one path segment.',
  }),
  methods: array(
    // The JSON Schema offers only the methods a route can take; the parser reads HEAD and OPTIONS to say why.
    oneOf(HTTP_METHODS).meta({ enum: [...ROUTED] }),
  )
    .min(1, { error: `list at least one of ${ROUTED.join(', ')}` })
    .meta({ uniqueItems: true }),
  servicePath: str({ pattern: ROUTE_PATH, fix: routePathFix }).meta({
    description: "The new service's path; its placeholders are those of path.",
  }),
  identity: identity.optional(),
  anonymous: oneOf(['legacy', 'service']).optional().meta({
    description:
      'Where a request without an identity goes when the routing document lists users or a percentage (default "legacy").',
  }),
})
  .superRefine(
    (v, ctx) => {
      v.methods.forEach((method, k) => {
        if (UNROUTED.includes(method))
          problem(
            ctx,
            ['methods', k],
            `${method} cannot be routed to a service: KrakenD CE registers no HEAD or OPTIONS endpoint, so the ALB would send it to a gateway without the route; remove it (${UNROUTED.join(' and ')} requests on ${v.path} stay with the monolith, whose proxy handles them)`,
          );
      });
    },
    intact('methods', 'path'),
  )
  .superRefine((v, ctx) => {
    if (new Set(v.methods).size !== v.methods.length)
      problem(ctx, ['methods'], 'lists a method twice; list each once');
  }, intact('methods'))
  .superRefine((v, ctx) => {
    const defined = placeholders(v.path);
    if (new Set(defined).size !== defined.length)
      problem(ctx, ['path'], 'uses a placeholder name twice; give each a distinct name');
  }, intact('path'))
  .superRefine(
    (v, ctx) => {
      const defined = new Set(placeholders(v.path));
      for (const ph of placeholders(v.servicePath)) {
        if (defined.has(ph)) continue;
        const options = [...defined].map((d) => `{${d}}`);
        const fix =
          options.length === 0
            ? 'remove it'
            : `use ${options.length === 1 ? '' : 'one of '}${listOr(options)}`;
        problem(
          ctx,
          ['servicePath'],
          `uses {${ph}}, which path ${JSON.stringify(v.path)} does not define; ${fix}`,
        );
      }
    },
    intact('path', 'servicePath'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.identity?.source !== 'path') return;
      const defined = placeholders(v.path);
      if (!defined.includes(v.identity.name))
        problem(
          ctx,
          ['identity', 'name'],
          defined.length === 0
            ? `${JSON.stringify(v.path)} has no placeholder; use another identity source`
            : `${JSON.stringify(v.identity.name)} is not a placeholder of ${JSON.stringify(v.path)}; use ${listOr(defined.map((d) => `"${d}"`))}`,
        );
    },
    intact('path', 'identity'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.identity?.source !== 'body') return;
      const withoutBody = v.methods.filter(
        (m) => m === 'GET' || m === 'HEAD' || m === 'DELETE' || m === 'OPTIONS',
      );
      if (withoutBody.length > 0)
        problem(
          ctx,
          ['identity', 'source'],
          `${withoutBody.join(', ')} requests carry no body to read; give them a route of their own with another identity source`,
        );
    },
    intact('methods', 'identity'),
  )
  .meta({ description: 'One endpoint the extracted service takes over from the monolith.' });

// ---------------------------------------------------------------- services

const alarms = strict({
  errorRatePercent: int({ min: 1, max: 100 })
    .default(5)
    .meta({ description: 'Target 5xx responses as a percentage of requests over the evaluation window.' }),
  p99LatencyMs: int({ min: 10, max: 60000 })
    .default(1500)
    .meta({ description: 'p99 target response time in milliseconds.' }),
  unhealthyHosts: int({ min: 1, max: 100 })
    .default(1)
    .meta({ description: 'Unhealthy hosts at or above this count alarm.' }),
  evaluationMinutes: int({ min: 1, max: 60 })
    .default(3)
    .meta({ description: 'One-minute periods evaluated.' }),
})
  .prefault({})
  .meta({ description: 'Alarm thresholds that trigger the automatic rollback of the service.' });

const bulkMigration = strict({
  command: array(str()).default([]).meta({
    description: 'Command run in the service image, e.g. ["/app/migrate", "--all"]; required from phase 2.',
  }),
  timeoutMinutes: int({ min: 5, max: 1440 })
    .default(120)
    .meta({ description: 'Timeout of one run in minutes.' }),
})
  .prefault({})
  .meta({ description: 'The bulk data migration of phase 2.' });

const fromCutover = 'copy it from the output of the cutover (or npm run migrate -- status)';

const cutoverMarker = strict({
  runId: str({ pattern: RUN_ID, fix: `use the run id of the cutover; ${fromCutover}` }).meta({
    description: "The cutover document's run id (the execution name).",
  }),
  completedAt: str({ fix: fromCutover })
    .refine(isContractTime, {
      error: (iss) => `${JSON.stringify(iss.input)} is not a UTC time; ${fromCutover}`,
    })
    .meta({ description: "The cutover document's completedAt." }),
}).meta({
  description:
    "The deploy-time record of a completed cutover (the point of no return), copied from the CLI's success output. Readers then route the service to the new service before their first read of the flags and whenever SSM fails.",
});

const service = containerRules(
  strict({
    ...containerShape({ port: 8080, healthCheckPath: '/health' }),
    name: str({
      pattern: SERVICE_NAME,
      fix: 'use 2-16 lowercase letters or digits, starting with a letter, e.g. "users"',
    })
      .regex(new RegExp(`^(?!(${RESERVED_SERVICE_NAMES.join('|')})$)`), {
        error: (iss) => `${JSON.stringify(iss.input)} is reserved; choose another name`,
      })
      .meta({
        description:
          'Short lowercase name: used in stack names, parameter paths and the Service Connect DNS name.',
      }),
    phase: oneOfNumbers([0, 1, 2, 3]).default(0).meta({
      description:
        'The phase this service is at (see the phase table in the README). Each service moves on its own.',
    }),
    routes: array(route)
      .default([])
      .meta({ description: "The endpoints it takes over, in the monolith's URL space." }),
    database: createdDatabase(
      z
        .literal('create', {
          error: 'an extracted service always owns its database; use "create" or remove the key',
        })
        .default('create'),
    )
      .prefault({})
      .meta({ description: 'Its own database, created in its stateful stack from phase 1.' }),
    legacyReadSecretArn: secretArn.optional().meta({
      description:
        'Secret for reading the legacy database during organic and bulk import; should be a read-only user. Default: the legacy master secret, with a warning.',
    }),
    gateway: oneOf(['krakend', 'alb']).default('krakend').meta({
      description:
        'At phase 3: through the shared KrakenD gateway, or straight to the service with native ALB URL rewrite.',
    }),
    alarms,
    bulkMigration,
    cutoverRecorded: cutoverMarker.optional(),
  }),
)
  .superRefine(
    (v, ctx) => {
      if (v.phase === 3 && v.routes.length === 0)
        problem(
          ctx,
          ['routes'],
          "phase 3 routes the service's endpoints at the ALB; list at least one route",
        );
    },
    intact('phase', 'routes'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.phase >= 2 && v.bulkMigration.command.length === 0)
        problem(
          ctx,
          ['bulkMigration', 'command'],
          'required from phase 2; set the command that copies the remaining records, e.g. ["/app/service", "migrate", "--bulk"]',
        );
    },
    intact('phase', 'bulkMigration'),
  )
  .superRefine((v, ctx) => {
    if (v.cutoverRecorded !== undefined && v.phase < 2)
      problem(
        ctx,
        ['phase'],
        `is ${v.phase}, but the cutover of this service is recorded (cutoverRecorded): it stays at phase 2 or later, since its data now lives only in the new database`,
      );
  }, intact('phase'))
  .transform(({ cutoverRecorded, ...v }) => ({
    ...sized(v, 4),
    database: withDatabaseDefaults(v.database, v.name),
    ...(cutoverRecorded === undefined ? {} : { cutoverRecorded }),
  }))
  .meta({ description: 'A service extracted from the monolith.' });

// ---------------------------------------------------------------- routing

const proxy = strict({
  port: int({
    min: 1024,
    max: 65535,
    fix: 'use a port from 1024 to 65535 (the proxy runs as a non-root user)',
  })
    .default(8800)
    .meta({
      description: "Port the proxy listens on in the legacy task (the legacy target group's traffic port).",
    }),
  memoryMiB: int({ min: 128, max: 4096 })
    .default(256)
    .meta({ description: "Hard memory limit of the proxy container, taken from the task's memory." }),
  connectTimeoutMs: int({ min: 100, max: 60000, fix: 'use 100 to 60000 milliseconds' })
    .default(3000)
    .meta({ description: 'Connection setup to the monolith or a service, in milliseconds (then 504).' }),
  headersTimeoutMs: int({
    min: 100,
    max: 3600000,
    fix: 'use 100 to 3600000 milliseconds; above the ALB idle timeout (60 s) the ALB gives up first',
  })
    .default(60000)
    .meta({ description: 'Wait for the response headers, in milliseconds (then 504).' }),
  idleTimeoutMs: int({ min: 100, max: 3600000, fix: 'use 100 to 3600000 milliseconds' })
    .default(60000)
    .meta({ description: 'Longest silence while a body streams in either direction, in milliseconds.' }),
  drainSeconds: int({
    min: 1,
    max: 110,
    fix: 'use 1 to 110 seconds: ECS stops a container at most 120 s after SIGTERM',
  })
    .default(25)
    .meta({
      description: 'On SIGTERM, how long in-flight requests may finish before the proxy exits, in seconds.',
    }),
  maxHeaderBytes: int({
    min: 8192,
    max: 65536,
    fix: 'use 8192 to 65536 bytes (the ALB accepts at most 64 KB of headers)',
  })
    .default(65536)
    .meta({ description: 'Largest request head (request line and headers), in bytes (then 431).' }),
  maxBodyBytes: int({ min: 1024, max: 1073741824, fix: 'use 1024 bytes to 1 GiB' })
    .default(104857600)
    .meta({ description: 'Largest request body, in bytes (then 413).' }),
});

const routing = union('mode', [
  strict({ mode: z.literal('proxy').default('proxy'), proxy: proxy.prefault({}) }).meta({
    description:
      'The routing proxy: a second container in the legacy task, in front of the monolith, from phase 0.',
  }),
  strict({
    mode: z.literal('in-app'),
    proxy: refused('only applies when routing.mode is "proxy"; remove it or set mode "proxy"'),
  }).meta({
    description: 'The monolith routes itself, reading the environment and flags of docs/flag-contract.md.',
  }),
])
  .transform((v) => (v.mode === 'proxy' ? { mode: v.mode, proxy: v.proxy } : { mode: v.mode }))
  .prefault({})
  .meta({ description: "Where the per-user routing of phases 1-2 happens, and the routing proxy's limits." });

// ---------------------------------------------------------------- the environment

type Ctx = z.core.$RefinementCtx;

const environment = strict({
  $schema: str().optional().meta({ description: 'The JSON Schema of this file, for editors.' }),
  name: str({
    pattern: NAME,
    fix: 'use 3-22 lowercase letters, digits or hyphens, starting with a letter, e.g. "demo" or "shop-prod"',
  }).meta({ description: 'Name prefix of every stack and physical name.' }),
  account: str({ pattern: ACCOUNT, fix: 'use the 12-digit account id' })
    .optional()
    .meta({ description: 'AWS account id; absent (with region) means an environment-agnostic app.' }),
  region: str({ pattern: REGION, fix: 'use a region code such as "eu-west-1"' })
    .optional()
    .meta({ description: 'AWS region; absent (with account) means an environment-agnostic app.' }),
  tags: record(
    keyName(TAG_KEY, 'use 1-128 letters, digits, spaces or _ . : / = + @ -').regex(
      notStartingWith(RESERVED_TAG_PREFIXES),
      { error: 'the aws: and migration: prefixes are reserved; rename the tag' },
    ),
    str({ pattern: TAG_VALUE, fix: 'use up to 256 letters, digits, spaces or _ . : / = + @ -' }),
  )
    .default({})
    .meta({ description: 'Tags on every stack, resource and flag parameter (cost allocation, ownership).' }),
  vpc,
  alb,
  legacy,
  flags,
  notifications,
  gateway,
  services: array(service).default([]).meta({
    description: 'The services extracted from the monolith, each moving through the phases on its own.',
  }),
  routing,
});

/** The environment as its fields parse, before the cross-field rules and the last defaults. */
type Environment = z.output<typeof environment>;

/**
 * The schema of one environment file. Its output is a complete `MigrationConfig`: every default
 * applied, so that constructs and stacks never check for `undefined`.
 */
export const environmentSchema = environment
  .superRefine(
    (v, ctx) => {
      if ((v.account === undefined) !== (v.region === undefined))
        problem(
          ctx,
          [v.account === undefined ? 'account' : 'region'],
          'set both account and region, or neither',
        );
    },
    intact('account', 'region'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.vpc.mode === 'import' && (v.account === undefined || v.region === undefined))
        problem(ctx, ['vpc', 'vpcId'], 'importing a VPC needs a lookup: set account and region as well');
    },
    intact('vpc', 'account', 'region'),
  )
  .superRefine(uniqueNames, intact('services.*.name'))
  .superRefine(oneOwnerPerEndpoint, intact('services.*.name', 'services.*.routes'))
  .superRefine(ruleBlockOwners, intact('services.*.name', 'alb.ruleBlocks.{keys}'))
  .superRefine(ruleBlocks, intact('services.*.name', 'alb.ruleBlocks'))
  .superRefine(
    listenerRules,
    intact('alb', 'services.*.name', 'services.*.phase', 'services.*.gateway', 'services.*.routes'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.routing.mode !== 'proxy') return;
      const { port, memoryMiB } = v.routing.proxy;
      if (port === v.legacy.port)
        problem(
          ctx,
          ['routing', 'proxy', 'port'],
          `${port} is also legacy.port: both containers share the task's network; use another port`,
        );
      if (memoryMiB >= v.legacy.memoryMiB)
        problem(
          ctx,
          ['routing', 'proxy', 'memoryMiB'],
          `${memoryMiB} leaves nothing of legacy.memoryMiB (${v.legacy.memoryMiB}) to the monolith; use less, or raise legacy.memoryMiB`,
        );
    },
    intact('routing', 'legacy'),
  )
  .transform(({ $schema: _schema, flags, ...v }) => ({
    name: v.name,
    account: v.account,
    region: v.region,
    tags: v.tags,
    vpc: v.vpc,
    alb: v.alb,
    legacy: v.legacy,
    flags: { ...flags, parameterPrefix: flags.parameterPrefix ?? `/${v.name}/migration` },
    notifications: v.notifications,
    gateway: v.gateway,
    services: v.services,
    routing: v.routing,
  }))
  .meta({
    title: 'Environment of the strangler-fig migration',
    description:
      'One environment of the migration: pass it with -c config=<path> to cdk, or --config to the CLI.',
  });

function uniqueNames(v: Pick<Environment, 'services'>, ctx: Ctx): void {
  const names = new Map<string, number>();
  v.services.forEach((s, i) => {
    const first = names.get(s.name);
    if (first !== undefined)
      problem(
        ctx,
        ['services', i, 'name'],
        `"${s.name}" is also services[${first}].name; names must be unique`,
      );
    else names.set(s.name, i);
  });
}

/** Paths that differ only in their placeholders' names are one endpoint. */
function sameShape(a: string, b: string): boolean {
  const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
  return shape(a) === shape(b);
}

/**
 * An endpoint belongs to one service: two services may not list routes that one request can match
 * (same method; equal paths, or paths that differ only where one has a placeholder), since which one
 * wins would depend on rule order in three routers. Within a service the more specific path wins.
 */
function oneOwnerPerEndpoint(v: Pick<Environment, 'services'>, ctx: Ctx): void {
  const seen: {
    service: number;
    route: number;
    config: Environment['services'][number]['routes'][number];
  }[] = [];
  v.services.forEach((s, i) => {
    s.routes.forEach((route, j) => {
      for (const other of seen) {
        if (other.service === i) continue;
        const methods = overlappingMethods(route, other.config);
        if (methods.length === 0) continue;
        const owner = `services[${other.service}].routes[${other.route}] (${v.services[other.service].name})`;
        const shared = `${methods[0]} ${sharedExample(route.path, other.config.path)}`;
        problem(
          ctx,
          ['services', i, 'routes', j],
          sameShape(route.path, other.config.path)
            ? `${methods.join(', ')} ${route.path} is also claimed by services[${other.service}].routes[${other.route}]; each endpoint belongs to one service`
            : `${methods.join(', ')} ${route.path} overlaps ${other.config.path} of ${owner}: a request such as ${shared} matches both; each endpoint belongs to one service: move the route to that service, or use a path its placeholders cannot match`,
        );
      }
      seen.push({ service: i, route: j, config: route });
    });
  });
}

/** alb.ruleBlocks names only services of the config. */
function ruleBlockOwners(v: Pick<Environment, 'alb' | 'services'>, ctx: Ctx): void {
  for (const name of Object.keys(v.alb.ruleBlocks)) {
    if (!v.services.some((s) => s.name === name))
      problem(
        ctx,
        ['alb', 'ruleBlocks', name],
        `no service is named "${name}"; remove the entry or fix the name`,
      );
  }
}

/** Every service's listener-rule block is its own. */
function ruleBlocks(v: Pick<Environment, 'alb' | 'services'>, ctx: Ctx): void {
  const { alb, services } = v;
  const owners = new Map<number, number>();
  services.forEach((s, i) => {
    const block = ruleBlockOf(alb, s.name);
    const first = owners.get(block);
    if (first === undefined) {
      owners.set(block, i);
      return;
    }
    const taken = new Set(services.map((x) => ruleBlockOf(alb, x.name)));
    let free = block;
    while (taken.has(free)) free = (free % RULE_BLOCKS) + 1;
    const explicit = alb.ruleBlocks[s.name] !== undefined;
    problem(
      ctx,
      explicit ? ['alb', 'ruleBlocks', s.name] : ['services', i, 'name'],
      `${s.name} gets listener-rule block ${block}${explicit ? '' : ' (derived from its name)'}, which services[${first}] (${services[first].name}) has already; a deployed service's block must never change, so give the newer of the two a free block, e.g. "alb": {"ruleBlocks": {"${s.name}": ${free}}}`,
    );
  });
}

/** The listener rules of the phase-3 services, planned as the app will plan them: the ALB's limits. */
function listenerRules(v: Environment, ctx: Ctx): void {
  const atPhase3 = v.services.map((s, i) => ({ s, i })).filter(({ s }) => s.phase === 3);
  for (const found of planProblems(
    atPhase3.map(({ s }) => s),
    v.alb,
  ).problems) {
    const index = atPhase3.find(({ s }) => s.name === found.service)?.i;
    problem(ctx, index === undefined ? ['alb', 'ruleQuota'] : ['services', index, 'routes'], found.message);
  }
}
