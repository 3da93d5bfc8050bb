/**
 * Databases: one created and owned by a stateful stack of the app (each service's, and the monolith's
 * by default), or the monolith's existing one, imported.
 */
import { z } from 'zod';
import { secretArn } from './common';
import { bool, int, intact, oneOf, problem, str, strict, union } from './kit';

const SG_ID = /^sg-[0-9a-f]{8,17}$/;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const INSTANCE_CLASS = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const DB_NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** Both engines' version shapes; the engine's own is checked by a rule of the database. */
const ENGINE_VERSION = /^(\d{2}\.\d{1,2}|8\.[04]\.\d{1,2})$/;
const ENGINE_VERSIONS = { postgres: /^\d{2}\.\d{1,2}$/, mysql: /^8\.[04]\.\d{1,2}$/ } as const;
const ENGINE_VERSION_FIX = {
  postgres: 'use a full Postgres version such as "17.9"',
  mysql: 'use a full MySQL version such as "8.4.9"',
} as const;
const DEFAULT_ENGINE_VERSION = { postgres: '17.9', mysql: '8.4.9' } as const;

const engine = oneOf(['postgres', 'mysql']);

export function createdDatabase<M extends z.ZodType<'create', 'create' | undefined>>(mode: M) {
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
export function withDatabaseDefaults(v: CreatedDatabaseInput, defaultName: string) {
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

/** The keys only an imported database has: without `mode`, they say which one was meant. */
const IMPORT_ONLY_KEYS = ['endpoint', 'port', 'securityGroupId', 'secretArn'] as const;

export const legacyDatabase = z
  .preprocess(
    (v, ctx) => {
      // Without mode the database is created, and each key of an imported one would be "unknown": say
      // once what was meant instead.
      if (typeof v !== 'object' || v === null || Array.isArray(v) || 'mode' in v) return v;
      const named = IMPORT_ONLY_KEYS.filter((k) => k in v);
      if (named.length === 0) return v;
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `missing, and ${listAnd(named)} ${named.length === 1 ? 'is a key' : 'are keys'} of an existing database: set "mode": "import" (or remove ${named.length === 1 ? 'it' : 'them'} for a database the app creates, "mode": "create")`,
      });
      return { ...v, mode: 'import' };
    },
    union('mode', [
      createdDatabase(z.literal('create').default('create')).transform((v) => withDatabaseDefaults(v, 'app')),
      importedDatabase,
    ]),
  )
  .prefault({});

function listAnd(items: readonly string[]): string {
  return items.length <= 1
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
