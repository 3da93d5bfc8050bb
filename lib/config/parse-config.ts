import { isContractTime, RUN_ID } from '../flags/documents';
import { DEFAULT_RULE_QUOTA, planProblems, RULE_BLOCKS, ruleBlockOf } from '../gateway/alb-rules';
import { overlappingMethods, ROUTED_METHODS, sharedExample, UNROUTED_METHODS } from '../gateway/routes';
import { type ConfigProblem, join, listOr, Reader } from '../validation/reader';
import { describeMemoryFor, FARGATE_CPUS, FARGATE_SIZES } from './fargate';
import type {
  AlarmThresholdsConfig,
  AlbConfig,
  BulkMigrationConfig,
  ContainerServiceConfig,
  CreatedDatabaseConfig,
  CutoverMarker,
  DatabaseConfig,
  ExtractedServiceConfig,
  FlagsConfig,
  GatewayConfig,
  HttpMethod,
  LegacyConfig,
  MigrationConfig,
  NotificationsConfig,
  Phase,
  RouteConfig,
  RouteIdentity,
  RoutingConfig,
  SecretReference,
  TaskSizing,
  VpcConfig,
} from './types';

export type ParseResult =
  | { readonly ok: true; readonly config: MigrationConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Thrown by `loadConfig` and friends; lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `Invalid configuration ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const NAME = /^[a-z][a-z0-9-]{1,20}[a-z0-9]$/;
const SERVICE_NAME = /^[a-z][a-z0-9]{1,15}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SG_ID = /^sg-[0-9a-f]{8,17}$/;
const CERT_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const IMAGE = /^[a-z0-9][a-z0-9._/:@-]*$/;
const INSTANCE_CLASS = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const DB_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const PARAM_PREFIX = /^(\/[A-Za-z0-9_.-]+){1,5}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ROUTE_PATH = /^(\/([A-Za-z0-9._~-]+|\{[a-z][a-zA-Z0-9_]*\}))+$/;
const ENGINE_VERSION = { postgres: /^\d{2}\.\d{1,2}$/, mysql: /^8\.[04]\.\d{1,2}$/ } as const;
const ENGINE_VERSION_FIX = {
  postgres: 'use a full Postgres version such as "17.9"',
  mysql: 'use a full MySQL version such as "8.4.9"',
} as const;

/** Environment variable names the app sets itself; a config may not override them. */
export const RESERVED_ENV_PREFIXES = ['DB_', 'LEGACY_DB_', 'MIGRATION_'] as const;

/**
 * The methods a route's list is read with. HEAD and OPTIONS are read so that checkServicesTogether can
 * say why they are refused (UNROUTED_METHODS), instead of a bare "not allowed".
 */
const HTTP_METHODS: readonly HttpMethod[] = [...ROUTED_METHODS, ...UNROUTED_METHODS];

const CONTAINER_KEYS = [
  'image',
  'port',
  'healthCheckPath',
  'cpu',
  'memoryMiB',
  'desiredCount',
  'minCount',
  'maxCount',
  'cpuTargetPercent',
  'logRetentionDays',
  'environment',
  'secrets',
] as const;

/** Retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Validates an untrusted configuration document and applies the documented defaults.
 * Never throws: every problem is returned with its path and the fix.
 */
export function parseConfig(input: unknown): ParseResult {
  const r = new Reader();
  const root = r.object('', input, [
    'name',
    'account',
    'region',
    'tags',
    'vpc',
    'alb',
    'legacy',
    'flags',
    'notifications',
    'gateway',
    'services',
    'routing',
  ]);
  if (!root) return { ok: false, problems: r.problems };

  const name = r.string('name', root.name, {
    pattern: NAME,
    fix: 'use 3-22 lowercase letters, digits or hyphens, starting with a letter, e.g. "demo" or "shop-prod"',
  });
  const account = r.optionalString('account', root.account, {
    pattern: ACCOUNT,
    fix: 'use the 12-digit account id',
  });
  const region = r.optionalString('region', root.region, {
    pattern: REGION,
    fix: 'use a region code such as "eu-west-1"',
  });
  if ((account === undefined) !== (region === undefined)) {
    r.problem(account === undefined ? 'account' : 'region', 'set both account and region, or neither');
  }

  const tags = r.record(
    'tags',
    root.tags,
    /^[A-Za-z0-9 _.:/=+@-]{1,128}$/,
    'use 1-128 letters, digits, spaces or _ . : / = + @ -',
    (path, v) =>
      r.string(path, v, {
        pattern: /^[A-Za-z0-9 _.:/=+@-]{0,256}$/,
        fix: 'use up to 256 letters, digits, spaces or _ . : / = + @ -',
      }),
  );
  for (const key of Object.keys(tags)) {
    if (key.startsWith('aws:') || key.startsWith('migration:'))
      r.problem(`tags.${key}`, 'the aws: and migration: prefixes are reserved; rename the tag');
  }
  const vpc = readVpc(r, root.vpc);
  if (vpc.mode === 'import' && (account === undefined || region === undefined)) {
    r.problem('vpc.vpcId', 'importing a VPC needs a lookup: set account and region as well');
  }
  const alb = readAlb(r, root.alb);
  const legacy = readLegacy(r, root.legacy);
  const flags = readFlags(r, root.flags, name);
  const notifications = readNotifications(r, root.notifications);
  const gateway = readGateway(r, root.gateway);
  const services = r
    .array('services', root.services, [])
    .map((s, i) => readService(r, join('services', i), s));
  checkServicesTogether(r, services, alb);
  const routing = readRouting(r, root.routing, legacy);

  if (r.problems.length > 0) return { ok: false, problems: r.problems };
  const config: MigrationConfig = {
    name,
    account,
    region,
    tags,
    vpc,
    alb,
    legacy,
    flags,
    notifications,
    gateway,
    services,
    routing,
  };
  return { ok: true, config };
}

/** Like `parseConfig` but throws a `ConfigError` naming `source`. */
export function parseConfigOrThrow(input: unknown, source: string): MigrationConfig {
  const result = parseConfig(input);
  if (!result.ok) throw new ConfigError(source, result.problems);
  return result.config;
}

function readVpc(r: Reader, value: unknown): VpcConfig {
  const v =
    r.object(
      'vpc',
      value,
      ['mode', 'cidr', 'maxAzs', 'natGateways', 'flowLogRetentionDays', 'vpcId'],
      true,
    ) ?? {};
  const mode = r.oneOf('vpc.mode', v.mode, ['create', 'import'] as const, 'create');
  if (mode === 'import') {
    for (const key of ['cidr', 'maxAzs', 'natGateways', 'flowLogRetentionDays']) {
      if (v[key] !== undefined) r.problem(`vpc.${key}`, 'only applies when vpc.mode is "create"; remove it');
    }
    return {
      mode,
      vpcId: r.string('vpc.vpcId', v.vpcId, {
        pattern: VPC_ID,
        fix: 'use an id like "vpc-0123456789abcdef0"',
      }),
    };
  }
  if (v.vpcId !== undefined)
    r.problem('vpc.vpcId', 'only applies when vpc.mode is "import"; remove it or set mode');
  const cidr = r.string('vpc.cidr', v.cidr, { default: '10.0.0.0/16' });
  if (!isPrivateCidr(cidr)) {
    r.problem(
      'vpc.cidr',
      `${JSON.stringify(cidr)} is not valid; use a private IPv4 CIDR with a /16 to /22 prefix, e.g. "10.0.0.0/16"`,
    );
  }
  const maxAzs = r.integer('vpc.maxAzs', v.maxAzs, {
    default: 2,
    min: 2,
    max: 6,
    fix: 'an ALB needs at least 2 availability zones; use 2 or 3',
  });
  const natGateways = r.integer('vpc.natGateways', v.natGateways, {
    default: 1,
    min: 1,
    max: 6,
    fix: 'the private subnets need a NAT gateway to pull images; use 1 (cheap) up to maxAzs (resilient)',
  });
  if (natGateways > maxAzs)
    r.problem('vpc.natGateways', `${natGateways} is more than maxAzs (${maxAzs}); use at most ${maxAzs}`);
  const prefix = Number(cidr.split('/')[1]);
  const needed = maxAzs * ADDRESSES_PER_AZ;
  if (isPrivateCidr(cidr) && needed > 2 ** (32 - prefix)) {
    r.problem(
      'vpc.cidr',
      `a /${prefix} holds ${2 ** (32 - prefix)} addresses but ${maxAzs} AZs need ${needed} (a /24 public, /22 private and /24 isolated subnet each); use a larger block such as /${32 - Math.ceil(Math.log2(needed))} or fewer AZs`,
    );
  }
  const flowLogRetentionDays = readRetention(r, 'vpc.flowLogRetentionDays', v.flowLogRetentionDays, 90);
  return { mode, cidr, maxAzs, natGateways, flowLogRetentionDays };
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

function readRetention(r: Reader, path: string, value: unknown, fallback: number): number {
  return r.oneOf(path, value, LOG_RETENTION_DAYS, fallback);
}

function readAlb(r: Reader, value: unknown): AlbConfig {
  const v =
    r.object('alb', value, ['certificateArn', 'accessLogRetentionDays', 'ruleQuota', 'ruleBlocks'], true) ??
    {};
  return {
    certificateArn: r.optionalString('alb.certificateArn', v.certificateArn, {
      pattern: CERT_ARN,
      fix: 'use an ACM certificate ARN like "arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>", or remove it for HTTP only',
    }),
    accessLogRetentionDays: r.integer('alb.accessLogRetentionDays', v.accessLogRetentionDays, {
      default: 90,
      min: 1,
      max: 3650,
    }),
    ruleQuota: r.integer('alb.ruleQuota', v.ruleQuota, {
      default: DEFAULT_RULE_QUOTA,
      min: 1,
      max: 10000,
      fix: 'use the "Rules per Application Load Balancer" quota of the account and region (100 unless AWS raised it)',
    }),
    ruleBlocks: r.record(
      'alb.ruleBlocks',
      v.ruleBlocks,
      SERVICE_NAME,
      'use the name of a service in services[]',
      (path, block) =>
        r.integer(path, block, {
          min: 1,
          max: RULE_BLOCKS,
          fix: `use a block from 1 to ${RULE_BLOCKS} that no other service has`,
        }),
    ),
  };
}

function readSecretArn(r: Reader, path: string, value: unknown): string {
  return r.string(path, value, {
    pattern: SECRET_ARN,
    fix: 'use the complete secret ARN, ending in the 6-character suffix, e.g. "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-AbCdEf"',
  });
}

function readSecretRef(r: Reader, path: string, value: unknown): SecretReference {
  const v = r.object(path, value, ['secretArn', 'field']) ?? {};
  return {
    secretArn: readSecretArn(r, join(path, 'secretArn'), v.secretArn),
    field: r.optionalString(join(path, 'field'), v.field, {
      pattern: /^[A-Za-z0-9_.-]+$/,
      fix: 'use a JSON key of the secret',
    }),
  };
}

/** Fargate size, autoscaling bounds and log retention, as every service and the gateway have them. */
function readSizing(r: Reader, path: string, v: Record<string, unknown>, defaultMax: number): TaskSizing {
  const p = (key: string) => join(path, key);
  const cpu = r.oneOf(p('cpu'), v.cpu, FARGATE_CPUS, 512);
  const memoryMiB = r.integer(p('memoryMiB'), v.memoryMiB, { default: cpu * 2, min: 512, max: 122880 });
  if (FARGATE_SIZES.has(cpu) && !FARGATE_SIZES.get(cpu)?.includes(memoryMiB)) {
    r.problem(
      p('memoryMiB'),
      `${memoryMiB} is not a Fargate size for cpu ${cpu}; use ${describeMemoryFor(cpu)}`,
    );
  }
  const minCount = r.integer(p('minCount'), v.minCount, { default: 2, min: 1, max: 100 });
  const maxCount = r.integer(p('maxCount'), v.maxCount, {
    default: Math.max(defaultMax, minCount),
    min: 1,
    max: 100,
  });
  if (minCount > maxCount)
    r.problem(p('minCount'), `${minCount} is above maxCount (${maxCount}); use minCount <= maxCount`);
  return {
    cpu,
    memoryMiB,
    minCount,
    maxCount,
    cpuTargetPercent: r.integer(p('cpuTargetPercent'), v.cpuTargetPercent, { default: 60, min: 10, max: 90 }),
    logRetentionDays: readRetention(r, p('logRetentionDays'), v.logRetentionDays, 30),
  };
}

function readContainer(
  r: Reader,
  path: string,
  v: Record<string, unknown>,
  defaults: { port: number; healthCheckPath: string },
): ContainerServiceConfig {
  const p = (key: string) => join(path, key);
  const image = r.string(p('image'), v.image, {
    pattern: IMAGE,
    fix: 'use an image reference such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1.4.2"',
  });
  if (image !== '' && !hasPinnedTag(image)) {
    r.problem(
      p('image'),
      `${JSON.stringify(image)} has no pinned tag; use an immutable tag or digest so a deploy is repeatable`,
    );
  }
  const sizing = readSizing(r, path, v, 4);
  if (v.desiredCount !== undefined) {
    r.problem(
      p('desiredCount'),
      'autoscaling owns the task count so a deploy never resets it; set minCount and maxCount instead',
    );
  }
  const environment = r.record(p('environment'), v.environment, ENV_NAME, 'use UPPER_SNAKE_CASE', (ep, ev) =>
    r.string(ep, ev),
  );
  const secrets = r.record(p('secrets'), v.secrets, ENV_NAME, 'use UPPER_SNAKE_CASE', (sp, sv) =>
    readSecretRef(r, sp, sv),
  );
  for (const [section, keys] of [
    ['environment', Object.keys(environment)],
    ['secrets', Object.keys(secrets)],
  ] as const) {
    for (const key of keys) {
      const reserved = RESERVED_ENV_PREFIXES.find((prefix) => key.startsWith(prefix));
      if (reserved)
        r.problem(
          join(p(section), key),
          `names starting with ${reserved} are set by this app; rename the variable`,
        );
    }
  }
  for (const key of Object.keys(environment)) {
    if (key in secrets) r.problem(join(p('environment'), key), 'is also in secrets; keep one of the two');
  }
  return {
    image,
    port: r.integer(p('port'), v.port, { default: defaults.port, min: 1, max: 65535 }),
    healthCheckPath: r.string(p('healthCheckPath'), v.healthCheckPath, {
      default: defaults.healthCheckPath,
      pattern: /^\/[A-Za-z0-9/._~-]*$/,
      fix: 'use an absolute path such as "/health"',
    }),
    ...sizing,
    environment,
    secrets,
  };
}

function readCreatedDatabase(
  r: Reader,
  path: string,
  v: Record<string, unknown>,
  defaultName: string,
): CreatedDatabaseConfig {
  const p = (key: string) => join(path, key);
  const engine = r.oneOf(p('engine'), v.engine, ['postgres', 'mysql'] as const, 'postgres');
  const engineVersion = r.string(p('engineVersion'), v.engineVersion, {
    default: engine === 'postgres' ? '17.9' : '8.4.9',
    pattern: ENGINE_VERSION[engine],
    fix: ENGINE_VERSION_FIX[engine],
  });
  const allocatedStorageGiB = r.integer(p('allocatedStorageGiB'), v.allocatedStorageGiB, {
    default: 20,
    min: 20,
    max: 65536,
  });
  const maxAllocatedStorageGiB = r.integer(p('maxAllocatedStorageGiB'), v.maxAllocatedStorageGiB, {
    default: Math.max(100, allocatedStorageGiB),
    min: 20,
    max: 65536,
  });
  if (maxAllocatedStorageGiB < allocatedStorageGiB) {
    r.problem(
      p('maxAllocatedStorageGiB'),
      `${maxAllocatedStorageGiB} is below allocatedStorageGiB (${allocatedStorageGiB}); raise it`,
    );
  }
  return {
    mode: 'create',
    engine,
    engineVersion,
    instanceClass: r.string(p('instanceClass'), v.instanceClass, {
      default: 't4g.medium',
      pattern: INSTANCE_CLASS,
      fix: 'use an RDS instance class without the "db." prefix, e.g. "t4g.medium" or "r7g.large"',
    }),
    allocatedStorageGiB,
    maxAllocatedStorageGiB,
    multiAz: r.boolean(p('multiAz'), v.multiAz, true),
    backupRetentionDays: r.integer(p('backupRetentionDays'), v.backupRetentionDays, {
      default: 7,
      min: 1,
      max: 35,
    }),
    databaseName: r.string(p('databaseName'), v.databaseName, {
      default: defaultName,
      pattern: DB_NAME,
      fix: 'use lowercase letters, digits and underscores, starting with a letter',
    }),
    secretRotationDays:
      v.secretRotationDays === undefined
        ? undefined
        : r.integer(p('secretRotationDays'), v.secretRotationDays, { min: 1, max: 365 }),
  };
}

const CREATED_DB_KEYS = [
  'mode',
  'engine',
  'engineVersion',
  'instanceClass',
  'allocatedStorageGiB',
  'maxAllocatedStorageGiB',
  'multiAz',
  'backupRetentionDays',
  'databaseName',
  'secretRotationDays',
];

function readDatabase(r: Reader, path: string, value: unknown): DatabaseConfig {
  const p = (key: string) => join(path, key);
  const raw = (value ?? {}) as Record<string, unknown>;
  const mode = r.oneOf(p('mode'), raw.mode, ['create', 'import'] as const, 'create');
  if (mode === 'create')
    return readCreatedDatabase(r, path, r.object(path, value, CREATED_DB_KEYS, true) ?? {}, 'app');
  const v =
    r.object(path, value, [
      'mode',
      'engine',
      'endpoint',
      'port',
      'securityGroupId',
      'secretArn',
      'databaseName',
    ]) ?? {};
  const engine = r.oneOf(p('engine'), v.engine, ['postgres', 'mysql'] as const);
  return {
    mode,
    engine,
    endpoint: r.string(p('endpoint'), v.endpoint, {
      pattern: HOSTNAME,
      fix: 'use the DNS name of the database endpoint',
    }),
    port: r.integer(p('port'), v.port, { default: engine === 'mysql' ? 3306 : 5432, min: 1, max: 65535 }),
    securityGroupId: r.string(p('securityGroupId'), v.securityGroupId, {
      pattern: SG_ID,
      fix: 'use an id like "sg-0123456789abcdef0"',
    }),
    secretArn: readSecretArn(r, p('secretArn'), v.secretArn),
    databaseName: r.string(p('databaseName'), v.databaseName, {
      pattern: DB_NAME,
      fix: 'use the database name the monolith connects to',
    }),
  };
}

function readLegacy(r: Reader, value: unknown): LegacyConfig {
  const v = r.object('legacy', value, [...CONTAINER_KEYS, 'database']);
  // When the object itself is missing, one problem says so; its fields would only repeat it.
  const rr = v ? r : new Reader();
  return {
    ...readContainer(rr, 'legacy', v ?? {}, { port: 80, healthCheckPath: '/health' }),
    database: readDatabase(rr, 'legacy.database', v?.database),
  };
}

function readFlags(r: Reader, value: unknown, name: string): FlagsConfig {
  const v =
    r.object('flags', value, ['parameterPrefix', 'cacheTtlSeconds', 'tier', 'adoptExisting'], true) ?? {};
  return {
    parameterPrefix: r.string('flags.parameterPrefix', v.parameterPrefix, {
      default: `/${name}/migration`,
      pattern: PARAM_PREFIX,
      fix: 'use an absolute SSM path of 1-5 segments without a trailing slash, e.g. "/shop/migration"',
    }),
    cacheTtlSeconds: r.integer('flags.cacheTtlSeconds', v.cacheTtlSeconds, {
      default: 15,
      min: 5,
      max: 300,
      fix: 'use 5 to 300 seconds: lower risks SSM throttling (40 reads/s per account), higher slows a rollback',
    }),
    tier: r.oneOf('flags.tier', v.tier, ['standard', 'advanced'] as const, 'standard'),
    adoptExisting: r.boolean('flags.adoptExisting', v.adoptExisting, false),
  };
}

function readGateway(r: Reader, value: unknown): GatewayConfig {
  const v =
    r.object(
      'gateway',
      value,
      ['cpu', 'memoryMiB', 'minCount', 'maxCount', 'cpuTargetPercent', 'logRetentionDays', 'timeoutMs'],
      true,
    ) ?? {};
  return {
    ...readSizing(r, 'gateway', v, 6),
    timeoutMs: r.integer('gateway.timeoutMs', v.timeoutMs, { default: 3000, min: 100, max: 60000 }),
  };
}

function readNotifications(r: Reader, value: unknown): NotificationsConfig {
  const v = r.object('notifications', value, ['emails'], true) ?? {};
  const emails = r
    .array('notifications.emails', v.emails, [])
    .map((e, i) =>
      r.string(join('notifications.emails', i), e, { pattern: EMAIL, fix: 'use an e-mail address' }),
    );
  return { emails };
}

function readRoute(r: Reader, path: string, value: unknown): RouteConfig {
  const v = r.object(path, value, ['path', 'methods', 'servicePath', 'identity', 'anonymous']) ?? {};
  const fix =
    'use an absolute path of literal segments and {placeholders}, e.g. "/api/users/{id}"; wildcards are not allowed';
  const routePath = r.string(join(path, 'path'), v.path, { pattern: ROUTE_PATH, fix });
  const servicePath = r.string(join(path, 'servicePath'), v.servicePath, { pattern: ROUTE_PATH, fix });
  const methods = r
    .array(join(path, 'methods'), v.methods)
    .map((m, i) => r.oneOf(join(join(path, 'methods'), i), m, HTTP_METHODS));
  if (methods.length === 0)
    r.problem(join(path, 'methods'), `list at least one of ${HTTP_METHODS.join(', ')}`);
  if (new Set(methods).size !== methods.length)
    r.problem(join(path, 'methods'), 'lists a method twice; list each once');
  const defined = new Set(placeholders(routePath));
  if (defined.size !== placeholders(routePath).length) {
    r.problem(join(path, 'path'), 'uses a placeholder name twice; give each a distinct name');
  }
  for (const ph of placeholders(servicePath)) {
    if (!defined.has(ph)) {
      const options = [...defined].map((d) => `{${d}}`);
      const fix =
        options.length === 0 ? 'remove it' : `use ${options.length === 1 ? '' : 'one of '}${listOr(options)}`;
      r.problem(
        join(path, 'servicePath'),
        `uses {${ph}}, which path ${JSON.stringify(routePath)} does not define; ${fix}`,
      );
    }
  }
  // Identity and anonymous policy appear only when set: the in-app route document stays as it was.
  const identity =
    v.identity === undefined
      ? undefined
      : readIdentity(r, join(path, 'identity'), v.identity, routePath, methods);
  const anonymous =
    v.anonymous === undefined
      ? undefined
      : r.oneOf(join(path, 'anonymous'), v.anonymous, ['legacy', 'service'] as const);
  return {
    path: routePath,
    methods,
    servicePath,
    ...(identity ? { identity } : {}),
    ...(anonymous ? { anonymous } : {}),
  };
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const CLAIM_NAME = /^[A-Za-z0-9_:/.#-]{1,128}$/;
const BODY_FIELD = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,4}$/;
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/;
/** Headers the proxy rewrites or drops (hop-by-hop and forwarding headers): never an identity. */
const NOT_IDENTITY_HEADERS = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
  'cookie',
  'authorization',
  'x-forwarded-for',
];

const IDENTITY_SOURCES = ['path', 'header', 'cookie', 'jwt', 'body'] as const;

/** One route's identity source (docs/routing-proxy.md, "Who is the user?"). */
function readIdentity(
  r: Reader,
  path: string,
  value: unknown,
  routePath: string,
  methods: readonly HttpMethod[],
): RouteIdentity | undefined {
  const raw = (value ?? {}) as Record<string, unknown>;
  const known = IDENTITY_SOURCES.includes(raw.source as never);
  const source = r.oneOf(join(path, 'source'), raw.source, IDENTITY_SOURCES);
  if (!known) return undefined; // one problem: the source; its keys would only repeat it
  const p = (key: string) => join(path, key);
  switch (source) {
    case 'path': {
      const v = r.object(path, value, ['source', 'name']) ?? {};
      const defined = placeholders(routePath);
      const name = r.string(p('name'), v.name, {
        fix:
          defined.length > 0 ? `use ${listOr(defined.map((d) => `"${d}"`))}` : 'the path has no placeholder',
      });
      if (name !== '' && !defined.includes(name)) {
        r.problem(
          p('name'),
          defined.length === 0
            ? `${JSON.stringify(routePath)} has no placeholder; use another identity source`
            : `${JSON.stringify(name)} is not a placeholder of ${JSON.stringify(routePath)}; use ${listOr(defined.map((d) => `"${d}"`))}`,
        );
      }
      return { source, name };
    }
    case 'header': {
      const v = r.object(path, value, ['source', 'name']) ?? {};
      const name = r.string(p('name'), v.name, {
        pattern: HEADER_NAME,
        fix: 'use a header name such as "X-User-Id"',
      });
      if (NOT_IDENTITY_HEADERS.includes(name.toLowerCase()))
        r.problem(
          p('name'),
          `${JSON.stringify(name)} cannot carry the user id; use source "jwt" for tokens, "cookie" for cookies, or another header`,
        );
      return { source, name };
    }
    case 'cookie': {
      const v = r.object(path, value, ['source', 'name']) ?? {};
      return {
        source,
        name: r.string(p('name'), v.name, { pattern: COOKIE_NAME, fix: 'use the cookie name, e.g. "uid"' }),
      };
    }
    case 'jwt': {
      const v = r.object(path, value, ['source', 'claim', 'cookie', 'jwksUrl', 'issuer', 'audience']) ?? {};
      const claim = r.string(p('claim'), v.claim, {
        default: 'sub',
        pattern: CLAIM_NAME,
        fix: 'use a top-level claim name such as "sub"',
      });
      const cookie = r.optionalString(p('cookie'), v.cookie, {
        pattern: COOKIE_NAME,
        fix: 'use the name of the cookie that holds the token, or remove it for the Authorization header',
      });
      const url = r.optionalString(p('jwksUrl'), v.jwksUrl, {
        pattern: HTTPS_URL,
        fix: 'use the https URL of the identity provider\'s JWKS, e.g. "https://login.example.com/.well-known/jwks.json"',
      });
      const text = (key: 'issuer' | 'audience') => {
        if (v[key] === undefined) return undefined;
        if (url === undefined)
          r.problem(p(key), 'only applies to a verified token; set jwksUrl too, or remove it');
        return r.string(p(key), v[key], {
          pattern: /^[\x21-\x7e]{1,256}$/,
          fix: 'use 1-256 visible ASCII characters',
        });
      };
      const issuer = text('issuer');
      const audience = text('audience');
      return {
        source,
        claim,
        ...(cookie !== undefined ? { cookie } : {}),
        ...(url !== undefined
          ? {
              jwks: {
                url,
                ...(issuer !== undefined ? { issuer } : {}),
                ...(audience !== undefined ? { audience } : {}),
              },
            }
          : {}),
      };
    }
    case 'body': {
      const v = r.object(path, value, ['source', 'field', 'maxBytes']) ?? {};
      const withoutBody = methods.filter(
        (m) => m === 'GET' || m === 'HEAD' || m === 'DELETE' || m === 'OPTIONS',
      );
      if (withoutBody.length > 0)
        r.problem(
          p('source'),
          `${withoutBody.join(', ')} requests carry no body to read; give them a route of their own with another identity source`,
        );
      return {
        source,
        field: r.string(p('field'), v.field, {
          pattern: BODY_FIELD,
          fix: 'use a field name, or a dotted path of up to 5 names such as "user.email"',
        }),
        maxBytes: r.integer(p('maxBytes'), v.maxBytes, {
          default: 16384,
          min: 256,
          max: 1048576,
          fix: 'use 256 to 1048576 bytes: the proxy holds this much of the body in memory to find the field',
        }),
      };
    }
  }
}

/** Where routing happens, and the routing proxy's limits (docs/routing-proxy.md). */
function readRouting(r: Reader, value: unknown, legacy: LegacyConfig): RoutingConfig {
  const v = r.object('routing', value, ['mode', 'proxy'], true) ?? {};
  const mode = r.oneOf('routing.mode', v.mode, ['proxy', 'in-app'] as const, 'proxy');
  if (mode === 'in-app') {
    if (v.proxy !== undefined)
      r.problem('routing.proxy', 'only applies when routing.mode is "proxy"; remove it or set mode "proxy"');
    return { mode };
  }
  const keys = [
    'port',
    'memoryMiB',
    'connectTimeoutMs',
    'headersTimeoutMs',
    'idleTimeoutMs',
    'drainSeconds',
    'maxHeaderBytes',
    'maxBodyBytes',
  ];
  const p = r.object('routing.proxy', v.proxy, keys, true) ?? {};
  const port = r.integer('routing.proxy.port', p.port, {
    default: 8800,
    min: 1024,
    max: 65535,
    fix: 'use a port from 1024 to 65535 (the proxy runs as a non-root user)',
  });
  if (port === legacy.port)
    r.problem(
      'routing.proxy.port',
      `${port} is also legacy.port: both containers share the task's network; use another port`,
    );
  const memoryMiB = r.integer('routing.proxy.memoryMiB', p.memoryMiB, { default: 256, min: 128, max: 4096 });
  if (memoryMiB >= legacy.memoryMiB)
    r.problem(
      'routing.proxy.memoryMiB',
      `${memoryMiB} leaves nothing of legacy.memoryMiB (${legacy.memoryMiB}) to the monolith; use less, or raise legacy.memoryMiB`,
    );
  const ms = (key: string, fallback: number, min: number, max: number, fix: string) =>
    r.integer(`routing.proxy.${key}`, p[key], { default: fallback, min, max, fix });
  return {
    mode,
    proxy: {
      port,
      memoryMiB,
      connectTimeoutMs: ms('connectTimeoutMs', 3000, 100, 60000, 'use 100 to 60000 milliseconds'),
      headersTimeoutMs: ms(
        'headersTimeoutMs',
        60000,
        100,
        3600000,
        'use 100 to 3600000 milliseconds; above the ALB idle timeout (60 s) the ALB gives up first',
      ),
      idleTimeoutMs: ms('idleTimeoutMs', 60000, 100, 3600000, 'use 100 to 3600000 milliseconds'),
      drainSeconds: r.integer('routing.proxy.drainSeconds', p.drainSeconds, {
        default: 25,
        min: 1,
        max: 110,
        fix: 'use 1 to 110 seconds: ECS stops a container at most 120 s after SIGTERM',
      }),
      maxHeaderBytes: r.integer('routing.proxy.maxHeaderBytes', p.maxHeaderBytes, {
        default: 65536,
        min: 8192,
        max: 65536,
        fix: 'use 8192 to 65536 bytes (the ALB accepts at most 64 KB of headers)',
      }),
      maxBodyBytes: r.integer('routing.proxy.maxBodyBytes', p.maxBodyBytes, {
        default: 104857600,
        min: 1024,
        max: 1073741824,
        fix: 'use 1024 bytes to 1 GiB',
      }),
    },
  };
}

/** Placeholder names of a route path, in order. */
export function placeholders(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
}

function readService(outer: Reader, path: string, value: unknown): ExtractedServiceConfig {
  const checked = outer.object(path, value, [
    ...CONTAINER_KEYS,
    'name',
    'phase',
    'routes',
    'database',
    'legacyReadSecretArn',
    'gateway',
    'alarms',
    'bulkMigration',
    'cutoverRecorded',
  ]);
  const v = checked ?? {};
  const r = checked ? outer : new Reader(); // one problem for a missing entry, not one per field
  const p = (key: string) => join(path, key);
  const name = r.string(p('name'), v.name, {
    pattern: SERVICE_NAME,
    fix: 'use 2-16 lowercase letters or digits, starting with a letter, e.g. "users"',
  });
  if (name === 'legacy' || name === 'gateway')
    r.problem(p('name'), `"${name}" is reserved; choose another name`);
  const phase = r.oneOf(p('phase'), v.phase, [0, 1, 2, 3] as const, 0) as Phase;
  const routes = r
    .array(p('routes'), v.routes, [])
    .map((route, i) => readRoute(r, join(p('routes'), i), route));
  if (phase === 3 && routes.length === 0)
    r.problem(p('routes'), "phase 3 routes the service's endpoints at the ALB; list at least one route");
  const dbValue = r.object(p('database'), v.database, CREATED_DB_KEYS, true) ?? {};
  if (dbValue.mode !== undefined && dbValue.mode !== 'create') {
    r.problem(
      p('database.mode'),
      'an extracted service always owns its database; use "create" or remove the key',
    );
  }
  const database = readCreatedDatabase(r, p('database'), dbValue, name || 'app');
  const legacyReadSecretArn =
    v.legacyReadSecretArn === undefined
      ? undefined
      : readSecretArn(r, p('legacyReadSecretArn'), v.legacyReadSecretArn);
  const gateway = r.oneOf(p('gateway'), v.gateway, ['krakend', 'alb'] as const, 'krakend');
  return {
    ...readContainer(r, path, v, { port: 8080, healthCheckPath: '/health' }),
    name,
    phase,
    routes,
    database,
    legacyReadSecretArn,
    gateway,
    alarms: readAlarms(r, p('alarms'), v.alarms),
    bulkMigration: readBulkMigration(r, p('bulkMigration'), v.bulkMigration, phase),
    ...(v.cutoverRecorded === undefined
      ? {}
      : { cutoverRecorded: readCutoverMarker(r, p('cutoverRecorded'), v.cutoverRecorded, phase) }),
  };
}

/**
 * The deploy-time marker of a recorded cutover: what `npm run migrate -- cutover` prints on success. Once
 * set, readers route the service to the new service even before their first read of the flags.
 */
function readCutoverMarker(r: Reader, path: string, value: unknown, phase: Phase): CutoverMarker {
  const v = r.object(path, value, ['runId', 'completedAt']) ?? {};
  const from = 'copy it from the output of the cutover (or npm run migrate -- status)';
  const runId = r.string(join(path, 'runId'), v.runId, {
    pattern: RUN_ID,
    fix: `use the run id of the cutover; ${from}`,
  });
  const completedAt = r.string(join(path, 'completedAt'), v.completedAt, { fix: from });
  if (typeof v.completedAt === 'string' && !isContractTime(completedAt))
    r.problem(join(path, 'completedAt'), `${JSON.stringify(completedAt)} is not a UTC time; ${from}`);
  if (phase < 2)
    r.problem(
      join(path.replace(/\.cutoverRecorded$/, ''), 'phase'),
      `is ${phase}, but the cutover of this service is recorded (cutoverRecorded): it stays at phase 2 or later, since its data now lives only in the new database`,
    );
  return { runId, completedAt };
}

function readAlarms(r: Reader, path: string, value: unknown): AlarmThresholdsConfig {
  const v =
    r.object(
      path,
      value,
      ['errorRatePercent', 'p99LatencyMs', 'unhealthyHosts', 'evaluationMinutes'],
      true,
    ) ?? {};
  return {
    errorRatePercent: r.integer(join(path, 'errorRatePercent'), v.errorRatePercent, {
      default: 5,
      min: 1,
      max: 100,
    }),
    p99LatencyMs: r.integer(join(path, 'p99LatencyMs'), v.p99LatencyMs, {
      default: 1500,
      min: 10,
      max: 60000,
    }),
    unhealthyHosts: r.integer(join(path, 'unhealthyHosts'), v.unhealthyHosts, {
      default: 1,
      min: 1,
      max: 100,
    }),
    evaluationMinutes: r.integer(join(path, 'evaluationMinutes'), v.evaluationMinutes, {
      default: 3,
      min: 1,
      max: 60,
    }),
  };
}

function readBulkMigration(r: Reader, path: string, value: unknown, phase: Phase): BulkMigrationConfig {
  const v = r.object(path, value, ['command', 'timeoutMinutes'], true) ?? {};
  const command = r
    .array(join(path, 'command'), v.command, [])
    .map((c, i) => r.string(join(join(path, 'command'), i), c));
  if (phase >= 2 && command.length === 0) {
    r.problem(
      join(path, 'command'),
      'required from phase 2; set the command that copies the remaining records, e.g. ["/app/service", "migrate", "--bulk"]',
    );
  }
  return {
    command,
    timeoutMinutes: r.integer(join(path, 'timeoutMinutes'), v.timeoutMinutes, {
      default: 120,
      min: 5,
      max: 1440,
    }),
  };
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

function checkServicesTogether(r: Reader, services: readonly ExtractedServiceConfig[], alb: AlbConfig): void {
  const names = new Map<string, number>();
  services.forEach((s, i) => {
    const first = names.get(s.name);
    if (first !== undefined)
      r.problem(`services[${i}].name`, `"${s.name}" is also services[${first}].name; names must be unique`);
    else names.set(s.name, i);
  });
  checkRouteMethods(r, services);
  checkRouteOwners(r, services);
  checkRuleBlocks(r, services, alb);
  // The listener rules of the phase-3 services, planned as the app will plan them: the ALB's limits.
  const atPhase3 = services.map((s, i) => ({ s, i })).filter(({ s }) => s.phase === 3);
  for (const problem of planProblems(
    atPhase3.map(({ s }) => s),
    alb,
  ).problems) {
    const index = atPhase3.find(({ s }) => s.name === problem.service)?.i;
    r.problem(index === undefined ? 'alb.ruleQuota' : `services[${index}].routes`, problem.message);
  }
}

/** HEAD and OPTIONS: KrakenD CE registers neither, so no router of the app may take them over. */
function checkRouteMethods(r: Reader, services: readonly ExtractedServiceConfig[]): void {
  services.forEach((s, i) => {
    s.routes.forEach((route, j) => {
      route.methods.forEach((method, k) => {
        if (UNROUTED_METHODS.includes(method))
          r.problem(
            `services[${i}].routes[${j}].methods[${k}]`,
            `${method} cannot be routed to a service: KrakenD CE registers no HEAD or OPTIONS endpoint, so the ALB would send it to a gateway without the route; remove it (${UNROUTED_METHODS.join(' and ')} requests on ${route.path} stay with the monolith, whose proxy handles them)`,
          );
      });
    });
  });
}

/**
 * An endpoint belongs to one service: two services may not list routes that one request can match
 * (same method; equal paths, or paths that differ only where one has a placeholder), since which one
 * wins would depend on rule order in three routers. Within a service the more specific path wins.
 */
function checkRouteOwners(r: Reader, services: readonly ExtractedServiceConfig[]): void {
  const seen: { service: number; route: number; config: ExtractedServiceConfig['routes'][number] }[] = [];
  services.forEach((s, i) => {
    s.routes.forEach((route, j) => {
      for (const other of seen) {
        if (other.service === i) continue;
        const methods = overlappingMethods(route, other.config);
        if (methods.length === 0) continue;
        const owner = `services[${other.service}].routes[${other.route}] (${services[other.service].name})`;
        const shared = `${methods[0]} ${sharedExample(route.path, other.config.path)}`;
        r.problem(
          `services[${i}].routes[${j}]`,
          sameShape(route.path, other.config.path)
            ? `${methods.join(', ')} ${route.path} is also claimed by services[${other.service}].routes[${other.route}]; each endpoint belongs to one service`
            : `${methods.join(', ')} ${route.path} overlaps ${other.config.path} of ${owner}: a request such as ${shared} matches both; each endpoint belongs to one service: move the route to that service, or use a path its placeholders cannot match`,
        );
      }
      seen.push({ service: i, route: j, config: route });
    });
  });
}

/** Paths that differ only in their placeholders' names are one endpoint. */
function sameShape(a: string, b: string): boolean {
  const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
  return shape(a) === shape(b);
}

/** Every service's listener-rule block is its own; alb.ruleBlocks names only services of the config. */
function checkRuleBlocks(r: Reader, services: readonly ExtractedServiceConfig[], alb: AlbConfig): void {
  for (const name of Object.keys(alb.ruleBlocks)) {
    if (!services.some((s) => s.name === name))
      r.problem(`alb.ruleBlocks.${name}`, `no service is named "${name}"; remove the entry or fix the name`);
  }
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
    r.problem(
      explicit ? `alb.ruleBlocks.${s.name}` : `services[${i}].name`,
      `${s.name} gets listener-rule block ${block}${explicit ? '' : ' (derived from its name)'}, which services[${first}] (${services[first].name}) has already; a deployed service's block must never change, so give the newer of the two a free block, e.g. "alb": {"ruleBlocks": {"${s.name}": ${free}}}`,
    );
  });
}
