/**
 * The typed configuration of one environment of the migration.
 *
 * `bin/app.ts` is the only place that chooses a configuration (the embedded `demo` default or a JSON
 * file passed with `-c config=path`). Every value here has been validated by `parseConfig` and has its
 * defaults applied, so constructs and stacks never check for `undefined` or read the environment.
 */

/** A migration phase. See the phase table in the README. */
export type Phase = 0 | 1 | 2 | 3;

export const PHASES: readonly Phase[] = [0, 1, 2, 3];

/** Complete, validated configuration of one environment. */
export interface MigrationConfig {
  /** Name prefix of every stack and physical name (lowercase letters, digits, hyphens). */
  readonly name: string;
  /** AWS account id; absent means an environment-agnostic app. */
  readonly account?: string;
  /** AWS region; absent means an environment-agnostic app. */
  readonly region?: string;
  /** Tags on every stack, resource and flag parameter (cost allocation, ownership). */
  readonly tags: Readonly<Record<string, string>>;
  readonly vpc: VpcConfig;
  readonly alb: AlbConfig;
  readonly legacy: LegacyConfig;
  readonly flags: FlagsConfig;
  readonly notifications: NotificationsConfig;
  /** The shared KrakenD gateway of phase 3. */
  readonly gateway: GatewayConfig;
  /** Where the per-user routing of phases 1-2 happens: the routing proxy in the legacy task, or the monolith. */
  readonly routing: RoutingConfig;
  /** The services extracted from the monolith, each moving through the phases on its own. */
  readonly services: readonly ExtractedServiceConfig[];
}

/** A VPC created by the network stack. */
export interface CreatedVpcConfig {
  readonly mode: 'create';
  /** IPv4 CIDR of the VPC, e.g. `10.0.0.0/16`. */
  readonly cidr: string;
  /** Number of availability zones (2 or 3 for production). */
  readonly maxAzs: number;
  /** NAT gateways: 1 saves money, one per AZ survives an AZ outage. */
  readonly natGateways: number;
  /** Retention of the VPC flow logs in days. */
  readonly flowLogRetentionDays: number;
}

/** An existing VPC, looked up by id (the result is cached in cdk.context.json). Needs account and region. */
export interface ImportedVpcConfig {
  readonly mode: 'import';
  /** The id of the VPC, e.g. `vpc-0123456789abcdef0`. */
  readonly vpcId: string;
}

export type VpcConfig = CreatedVpcConfig | ImportedVpcConfig;

export interface AlbConfig {
  /**
   * ACM certificate ARN. Present: HTTPS on 443 plus an HTTP-to-HTTPS redirect on 80.
   * Absent: plain HTTP on 80 (acceptable for a demo only; acknowledged in cdk-nag).
   */
  readonly certificateArn?: string;
  /** Days the ALB access logs are kept in their bucket. */
  readonly accessLogRetentionDays: number;
  /**
   * The account's quota of listener rules per load balancer (100 by default; AWS raises it on request).
   * The app refuses a config whose phase-3 routes need more rules than this.
   */
  readonly ruleQuota: number;
  /**
   * Explicit listener-rule blocks (1-249) by service name. A service's rules take the priorities of its
   * block (docs/decisions/0007); a service without an entry gets the block derived from its name.
   * Set one only to resolve a collision reported by the config check, for the service that is new.
   */
  readonly ruleBlocks: Readonly<Record<string, number>>;
}

/** A secret injected into a container as an environment variable. */
export interface SecretReference {
  /** Complete ARN of the Secrets Manager secret. */
  readonly secretArn: string;
  /** JSON field of the secret to inject; absent injects the whole secret string. */
  readonly field?: string;
}

/** Size, scaling and log retention of a Fargate service. */
export interface TaskSizing {
  /** Fargate CPU units (256 ... 16384). */
  readonly cpu: number;
  /** Fargate memory in MiB; must be valid for `cpu`. */
  readonly memoryMiB: number;
  /**
   * Tasks always running: the lower bound of autoscaling. There is deliberately no desired count: the
   * template leaves it to autoscaling, so a deploy never resets a scaled-out service (docs/decisions).
   */
  readonly minCount: number;
  /** Upper bound of autoscaling. */
  readonly maxCount: number;
  /** Average CPU utilisation autoscaling keeps the service at. */
  readonly cpuTargetPercent: number;
  /** Days container logs are kept. */
  readonly logRetentionDays: number;
}

/** What every Fargate web service of the app is configured with. */
export interface ContainerServiceConfig extends TaskSizing {
  /** Container image, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/legacy:2024-05-01`. */
  readonly image: string;
  /** Port the container listens on. */
  readonly port: number;
  /** HTTP path that answers 200 when a task is healthy. */
  readonly healthCheckPath: string;
  /** Plain environment variables (never secrets). */
  readonly environment: Readonly<Record<string, string>>;
  /** Environment variables read from Secrets Manager at task start. */
  readonly secrets: Readonly<Record<string, SecretReference>>;
}

export type DatabaseEngine = 'postgres' | 'mysql';

/** A database instance created and owned by a stateful stack of this app. */
export interface CreatedDatabaseConfig {
  readonly mode: 'create';
  readonly engine: DatabaseEngine;
  /** Full engine version: `17.9` for Postgres, `8.4.9` for MySQL. */
  readonly engineVersion: string;
  /** Instance class without the `db.` prefix, e.g. `t4g.medium`. */
  readonly instanceClass: string;
  /** Initial storage in GiB. */
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling in GiB. */
  readonly maxAllocatedStorageGiB: number;
  /** A standby in a second AZ. */
  readonly multiAz: boolean;
  /** Days automated backups are kept (1-35). */
  readonly backupRetentionDays: number;
  /** Name of the database created in the instance. */
  readonly databaseName: string;
  /**
   * Days between rotations of the master credentials.
   * @default - no rotation: the services read credentials at task start, and a rotation would break
   *   their new connections until the next deploy. Enable it once they read the secret at connect time.
   */
  readonly secretRotationDays?: number;
}

/** An existing database the app connects to but does not own (for the legacy database only). */
export interface ImportedDatabaseConfig {
  readonly mode: 'import';
  readonly engine: DatabaseEngine;
  /** DNS name of the instance or cluster writer endpoint. */
  readonly endpoint: string;
  readonly port: number;
  /** Security group attached to the database; the app adds ingress rules to it. */
  readonly securityGroupId: string;
  /** Secret with `username` and `password` (and usually `host`, `port`, `dbname`). */
  readonly secretArn: string;
  readonly databaseName: string;
}

export type DatabaseConfig = CreatedDatabaseConfig | ImportedDatabaseConfig;

/** The monolith. */
export interface LegacyConfig extends ContainerServiceConfig {
  readonly database: DatabaseConfig;
}

/** The KrakenD gateway: sizing and timeout (its image is built from the pinned KrakenD CE release). */
export interface GatewayConfig extends TaskSizing {
  /** Backend timeout of every gateway endpoint, in milliseconds. */
  readonly timeoutMs: number;
}

/** Where the SSM flag parameters live and how consumers cache them. */
export interface FlagsConfig {
  /** Path prefix of every flag parameter, e.g. `/demo/migration`; each service gets `<prefix>/<service>/...`. */
  readonly parameterPrefix: string;
  /** Seconds a consumer caches a flag document (SSM allows 40 reads per second per account by default). */
  readonly cacheTtlSeconds: number;
  /**
   * SSM tier of the routing parameter: standard holds 4 KB, advanced 8 KB (and costs money). Standard to
   * advanced applies on the next write; SSM cannot go back, so a deploy refuses advanced to standard.
   */
  readonly tier: 'standard' | 'advanced';
  /**
   * Take over flag parameters that another environment, or an earlier build of this one, left behind,
   * with their values. Off by default: a rebuilt environment must not inherit a completed cutover.
   */
  readonly adoptExisting: boolean;
}

export interface NotificationsConfig {
  /** E-mail addresses subscribed to the migration alert topic. */
  readonly emails: readonly string[];
}

/**
 * A method a route may list. HEAD and OPTIONS are read but refused by the config check: KrakenD CE
 * registers neither, so they stay with the monolith (docs/decisions/0007).
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/**
 * One endpoint the extracted service takes over from the monolith.
 * `path` is what clients call today (old apps included); `servicePath` is the new service's path.
 * Placeholders are `{name}` and stand for exactly one path segment.
 */
export interface RouteConfig {
  readonly path: string;
  readonly methods: readonly HttpMethod[];
  readonly servicePath: string;
  /**
   * Where the routing proxy finds the user of a request (docs/routing-proxy.md).
   * @default - none: every request on the route is anonymous and goes where `anonymous` says
   */
  readonly identity?: RouteIdentity;
  /**
   * Where a request without an identity goes when the routing document lists users or a percentage.
   * Absent (not defaulted in the parsed config, so that the in-app route document stays as it was):
   * the proxy applies DEFAULT_ANONYMOUS.
   * @default 'legacy'
   */
  readonly anonymous?: AnonymousPolicy;
}

/** Where a request without an identity goes: the monolith or the new service. */
export type AnonymousPolicy = 'legacy' | 'service';

export const DEFAULT_ANONYMOUS: AnonymousPolicy = 'legacy';

/**
 * The one source of a route's user id. Every value found is checked against the flag contract's user id
 * format; anything else (absent, malformed, unverifiable) makes the request anonymous.
 */
export type RouteIdentity =
  /** A placeholder of the route's path, e.g. `{id}` of `/api/users/{id}`. */
  | { readonly source: 'path'; readonly name: string }
  /** A request header, e.g. `X-User-Id` (set by an upstream authenticator). */
  | { readonly source: 'header'; readonly name: string }
  /** A cookie. */
  | { readonly source: 'cookie'; readonly name: string }
  | JwtIdentity
  /** A field of a JSON or form body (login routes), read up to `maxBytes`; the body is forwarded intact. */
  | { readonly source: 'body'; readonly field: string; readonly maxBytes: number };

/** A claim of a JWT, from the bearer token or a cookie; unverified unless `jwks` is set. */
export interface JwtIdentity {
  readonly source: 'jwt';
  /** A top-level claim, e.g. `sub`. */
  readonly claim: string;
  /**
   * The cookie holding the token.
   * @default - the `Authorization: Bearer` header
   */
  readonly cookie?: string;
  /**
   * Verify the signature against this JWKS (and the issuer and audience when set).
   * @default - not verified: the service authenticates the request itself; the claim only routes it
   */
  readonly jwks?: { readonly url: string; readonly issuer?: string; readonly audience?: string };
}

/** Where routing happens in phases 1-2, and the routing proxy's limits. */
export type RoutingConfig =
  /** The routing proxy: a second container in the legacy task, in front of the monolith, from phase 0. */
  | { readonly mode: 'proxy'; readonly proxy: RoutingProxyConfig }
  /** The monolith routes itself, reading the environment and flags of docs/flag-contract.md. */
  | { readonly mode: 'in-app' };

/** The routing proxy's port, size, timeouts and limits. */
export interface RoutingProxyConfig {
  /** Port the proxy listens on in the legacy task (the legacy target group's traffic port). */
  readonly port: number;
  /** Hard memory limit of the proxy container, taken from the task's memory. */
  readonly memoryMiB: number;
  /** Connection setup to the monolith or a service, in milliseconds (then 504). */
  readonly connectTimeoutMs: number;
  /** Wait for the response headers, in milliseconds (then 504). */
  readonly headersTimeoutMs: number;
  /** Longest silence while a body streams in either direction, in milliseconds. */
  readonly idleTimeoutMs: number;
  /** On SIGTERM, how long in-flight requests may finish before the proxy exits, in seconds. */
  readonly drainSeconds: number;
  /** Largest request head (request line and headers), in bytes (then 431). */
  readonly maxHeaderBytes: number;
  /** Largest request body, in bytes (then 413). */
  readonly maxBodyBytes: number;
}

/** Alarm thresholds that trigger the automatic rollback of a service. */
export interface AlarmThresholdsConfig {
  /** Target 5xx responses as a percentage of requests over the evaluation window. */
  readonly errorRatePercent: number;
  /** p99 target response time in milliseconds. */
  readonly p99LatencyMs: number;
  /** Unhealthy hosts at or above this count alarm. */
  readonly unhealthyHosts: number;
  /** One-minute periods evaluated. */
  readonly evaluationMinutes: number;
}

/** The bulk data migration of phase 2. */
export interface BulkMigrationConfig {
  /** Command run in the service image, e.g. `["/app/migrate", "--all"]`. */
  readonly command: readonly string[];
  /** Timeout of one run in minutes. */
  readonly timeoutMinutes: number;
}

/**
 * The deploy-time record of a completed cutover (the point of no return): copied into the environment
 * file from the CLI's success output. Readers then route the service to the new service before their
 * first read of the flags and whenever SSM fails.
 */
export interface CutoverMarker {
  /** The cutover document's run id (the execution name). */
  readonly runId: string;
  /** The cutover document's completedAt. */
  readonly completedAt: string;
}

/** A service extracted from the monolith. */
export interface ExtractedServiceConfig extends ContainerServiceConfig {
  /** Short lowercase name: used in stack names, parameter paths and the Service Connect DNS name. */
  readonly name: string;
  /** The phase this service is at. Each service moves on its own. */
  readonly phase: Phase;
  /** The endpoints it takes over, in the monolith's URL space. */
  readonly routes: readonly RouteConfig[];
  /** Its own database, created in its stateful stack from phase 1. */
  readonly database: CreatedDatabaseConfig;
  /**
   * Secret for reading the legacy database during organic and bulk import. Should be a read-only user.
   * @default - the legacy master secret, with a warning in the synth summary
   */
  readonly legacyReadSecretArn?: string;
  /** At phase 3: through the shared KrakenD gateway, or straight to the service with native ALB URL rewrite. */
  readonly gateway: 'krakend' | 'alb';
  readonly alarms: AlarmThresholdsConfig;
  readonly bulkMigration: BulkMigrationConfig;
  /** Set once the cutover is recorded; the service then stays at phase 2 or later. */
  readonly cutoverRecorded?: CutoverMarker;
}
