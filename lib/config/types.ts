/**
 * The typed configuration of one environment of the migration, derived from the environment schema
 * (schema/environment.ts): what `parseConfig` returns, with every default applied, so constructs and stacks never
 * check for `undefined` or read the environment. The field documentation lives in the schema
 * (`.meta({ description })`), where the JSON Schema for editors takes it from too.
 *
 * `bin/app.ts` is the only place that chooses a configuration (the embedded `demo` default or a JSON
 * file passed with `-c config=path`).
 */
import type { z } from 'zod';
import type { environmentSchema } from './schema/environment';

/** The parsed value, deeply readonly, without the keys the schema refuses (typed `undefined` only). */
export type Config<T> = T extends readonly (infer U)[]
  ? readonly Config<U>[]
  : T extends object
    ? { readonly [K in keyof T as [Exclude<T[K], undefined>] extends [never] ? never : K]: Config<T[K]> }
    : T;

/** Complete, validated configuration of one environment. */
export type MigrationConfig = Config<z.output<typeof environmentSchema>>;

/** A migration phase. See the phase table in the README. */
export type Phase = ExtractedServiceConfig['phase'];

export const PHASES: readonly Phase[] = [0, 1, 2, 3];

export type VpcConfig = MigrationConfig['vpc'];
/** A VPC created by the network stack. */
export type CreatedVpcConfig = Extract<VpcConfig, { mode: 'create' }>;
/** An existing VPC, looked up by id (the result is cached in cdk.context.json). Needs account and region. */
export type ImportedVpcConfig = Extract<VpcConfig, { mode: 'import' }>;
/** Which subnets of an imported VPC the load balancer, the tasks and the databases use. */
export type SubnetsConfig = ImportedVpcConfig['subnets'];
/** A subnet group by name, or subnets by id. */
export type SubnetChoice = NonNullable<SubnetsConfig['loadBalancer']>;

export type AlbConfig = MigrationConfig['alb'];

/** The monolith: hosted by the app, or running elsewhere (`legacy.mode`). */
export type LegacyConfig = MigrationConfig['legacy'];
/** The monolith hosted by the app: its container on Fargate, behind the load balancer. */
export type HostedLegacyConfig = Extract<LegacyConfig, { mode: 'hosted' }>;
/** A monolith already serving production elsewhere, reached by the routing proxy as a service of its own. */
export type ExternalLegacyConfig = Extract<LegacyConfig, { mode: 'external' }>;
/** The names of the variables a hosted monolith reads its database from. */
export type DatabaseVariables = HostedLegacyConfig['databaseVariables'];

/** A secret injected into a container as an environment variable. */
export type SecretReference = HostedLegacyConfig['secrets'][string];

/** The keys of the size, scaling and log retention of a Fargate service. */
type SizingKey = 'cpu' | 'memoryMiB' | 'minCount' | 'maxCount' | 'cpuTargetPercent' | 'logRetentionDays';

/** Size, scaling and log retention of a Fargate service. */
export type TaskSizing = Pick<GatewayConfig, SizingKey>;

/** What every Fargate web service of the app is configured with. */
export type ContainerServiceConfig = Pick<
  HostedLegacyConfig,
  SizingKey | 'image' | 'port' | 'healthCheckPath' | 'environment' | 'secrets'
>;

export type DatabaseConfig = LegacyConfig['database'];
export type DatabaseEngine = DatabaseConfig['engine'];
/** A database instance created and owned by a stateful stack of this app. */
export type CreatedDatabaseConfig = Extract<DatabaseConfig, { mode: 'create' }>;
/** An existing database the app connects to but does not own (for the legacy database only). */
export type ImportedDatabaseConfig = Extract<DatabaseConfig, { mode: 'import' }>;

/** The KrakenD gateway: sizing and timeout (its image is built from the pinned KrakenD CE release). */
export type GatewayConfig = MigrationConfig['gateway'];

/** Where the SSM flag parameters live and how consumers cache them. */
export type FlagsConfig = MigrationConfig['flags'];

export type NotificationsConfig = MigrationConfig['notifications'];

/** A service extracted from the monolith. */
export type ExtractedServiceConfig = MigrationConfig['services'][number];

/**
 * One endpoint the extracted service takes over from the monolith.
 * `path` is what clients call today (old apps included); `servicePath` is the new service's path.
 */
export type RouteConfig = ExtractedServiceConfig['routes'][number];

/**
 * An old GET endpoint whose document the gateway assembles from several parts called in parallel
 * (docs/gateway-composition.md).
 */
export type CompositeConfig = ExtractedServiceConfig['composites'][number];

/** One part of a composite endpoint: where it comes from (a service, or the monolith through the proxy) and where it lands. */
export type CompositePartConfig = CompositeConfig['parts'][number];

/**
 * A method a route may list. HEAD and OPTIONS are read but refused by the config check: KrakenD CE
 * registers neither, so they stay with the monolith (docs/decisions/0007).
 */
export type HttpMethod = RouteConfig['methods'][number];

/**
 * The one source of a route's user id. Every value found is checked against the flag contract's user id
 * format; anything else (absent, malformed, unverifiable) makes the request anonymous.
 */
export type RouteIdentity = NonNullable<RouteConfig['identity']>;

/** A claim of a JWT, from the bearer token or a cookie; unverified unless `jwks` is set. */
export type JwtIdentity = Extract<RouteIdentity, { source: 'jwt' }>;

/**
 * Where a request without an identity goes: the monolith or the new service. Absent on a route (not
 * defaulted in the parsed config, so that the in-app route document stays as it was): the proxy applies
 * DEFAULT_ANONYMOUS.
 */
export type AnonymousPolicy = NonNullable<RouteConfig['anonymous']>;

export const DEFAULT_ANONYMOUS: AnonymousPolicy = 'legacy';

/** The company's domain: the name to move onto the app, and an optional alias for its load balancer. */
export type DnsConfig = NonNullable<MigrationConfig['dns']>;

/** Where routing happens in phases 1-2, and the routing proxy's limits. */
export type RoutingConfig = MigrationConfig['routing'];

/** The routing proxy's port, size, timeouts and limits. */
export type RoutingProxyConfig = Extract<RoutingConfig, { mode: 'proxy' }>['proxy'];

/** Alarm thresholds that trigger the automatic rollback of a service. */
export type AlarmThresholdsConfig = ExtractedServiceConfig['alarms'];

/** The bulk data migration of phase 2. */
export type BulkMigrationConfig = ExtractedServiceConfig['bulkMigration'];

/**
 * The deploy-time record of a completed cutover (the point of no return): copied into the environment
 * file from the CLI's success output.
 */
export type CutoverMarker = NonNullable<ExtractedServiceConfig['cutoverRecorded']>;
