/**
 * The write-back function (lambda/write-back/handler.ts) run in process against the test cluster's
 * databases, as the deployed function runs against RDS: the same handler, with connections to the
 * local databases instead of TLS to RDS with Secrets Manager credentials. And the channel the CLI and
 * the hooks use to reach it (lib/write-back/invoke.ts) bound to it.
 */
import pg from 'pg';
import { jsonLogger } from '../../lambda/shared/log';
import type { Connection, WriteBackDependencies } from '../../lambda/write-back/handler';
import { writeBack } from '../../lambda/write-back/handler';
import type { WriteBackTables } from '../../lib/write-back/contract';
import type { DatabasePair } from './postgres';

export interface LocalWriteBack {
  readonly deps: WriteBackDependencies;
  /** Every line the function logged (JSON), metrics included. */
  readonly lines: string[];
  /** The EMF metric values it published, by name (in order). */
  metrics(name: string): number[];
}

export function localWriteBack(
  databases: Pick<DatabasePair, 'legacy' | 'service'>,
  options: {
    readonly service?: string;
    readonly tables: WriteBackTables;
    /** The legacy database role it signs in as (default: the cluster's superuser). */
    readonly legacyUser?: string;
    readonly cutoverCompleted?: () => Promise<boolean | undefined>;
    readonly cutoverRecorded?: boolean;
  },
): LocalWriteBack {
  const lines: string[] = [];
  const target = { host: '127.0.0.1', port: 5432, database: 'local', secretArn: 'arn:local' };
  const deps: WriteBackDependencies = {
    env: {
      service: options.service ?? 'users',
      cutoverParameter: '/local/users/cutover',
      cutoverRecorded: options.cutoverRecorded ?? false,
      legacy: target,
      outbox: target,
      tables: options.tables,
    },
    connect: async (which) => {
      const client = new pg.Client({
        connectionString: which === 'legacy' ? databases.legacy : databases.service,
        ...(which === 'legacy' && options.legacyUser ? { user: options.legacyUser } : {}),
      });
      await client.connect();
      return client as unknown as Connection;
    },
    cutoverCompleted: options.cutoverCompleted ?? (async () => false),
    logger: jsonLogger('write-back', (line) => lines.push(line)),
  };
  return {
    deps,
    lines,
    metrics: (name) =>
      lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .flatMap((l) => (name in l && l._aws ? [l[name] as number] : [])),
  };
}

/** Invokes the handler as Lambda would, with the request as its event. */
export function invokeLocal(local: LocalWriteBack) {
  return (event: unknown) => writeBack(event, local.deps);
}
