/**
 * The PostgreSQL adapters of the write-back function, with an injected client (a `pg` Client, or any
 * object with its `query`): the outbox in the service's database, and the legacy database the rows are
 * applied to. Nothing here decides what may be applied (decide.ts does).
 */
import {
  type ColumnValue,
  OUTBOX_TABLE,
  type OutboxRow,
  type PendingReport,
  type PendingUser,
  VERIFICATION_TABLE,
} from '../../lib/write-back/contract';
import type { Statement } from './decide';

/** What the adapters use of a `pg` Client. */
export interface SqlClient {
  query(
    text: string,
    values?: readonly unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** A quoted identifier; `app.users` becomes `"app"."users"` (names are checked against TABLE_NAME first). */
export function quoted(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

/** A column value as a query parameter: objects and arrays as JSON text (json/jsonb columns). */
function parameter(value: ColumnValue): unknown {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
}

/**
 * The SQL of a statement, as the queries to run in order: a delete by the key; an upsert as an update of
 * the columns it carries (a row may carry only the columns that changed), and, when no row has that key,
 * an insert (which then needs every column the table requires; ON CONFLICT covers a row inserted
 * meanwhile). The second query runs only when the first changed no row.
 */
export function statementSql(statement: Statement): { text: string; values: unknown[] }[] {
  const keyColumns = Object.keys(statement.key);
  const keyValues = keyColumns.map((c) => parameter(statement.key[c]));
  const where = (offset: number) =>
    keyColumns.map((c, i) => `${quoted(c)} = $${offset + i + 1}`).join(' AND ');
  if (statement.kind === 'delete')
    return [{ text: `DELETE FROM ${quoted(statement.table)} WHERE ${where(0)}`, values: keyValues }];
  const valueColumns = Object.keys(statement.values);
  const values = valueColumns.map((c) => parameter(statement.values[c]));
  const columns = [...keyColumns, ...valueColumns];
  const conflict =
    valueColumns.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${valueColumns.map((c) => `${quoted(c)} = EXCLUDED.${quoted(c)}`).join(', ')}`;
  const insert = {
    text: `INSERT INTO ${quoted(statement.table)} (${columns.map(quoted).join(', ')}) VALUES (${columns.map((_c, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (${keyColumns.map(quoted).join(', ')}) ${conflict}`,
    values: [...keyValues, ...values],
  };
  if (valueColumns.length === 0) return [insert];
  return [
    {
      text: `UPDATE ${quoted(statement.table)} SET ${valueColumns.map((c, i) => `${quoted(c)} = $${i + 1}`).join(', ')} WHERE ${where(valueColumns.length)}`,
      values: [...values, ...keyValues],
    },
    insert,
  ];
}

/** The advisory lock key of a service's drains: one drain at a time keeps the rows in order. */
const DRAIN_LOCK = 'migration_outbox drain';

/** The outbox in the service's database. */
export class Outbox {
  constructor(private readonly db: SqlClient) {}

  /**
   * Takes the drain lock (a session advisory lock), waiting at most `waitMs`: two drains applying the
   * same rows at once could leave an older value last. False when another drain held it all that time.
   */
  async lock(waitMs: number): Promise<boolean> {
    await this.db.query(`SET lock_timeout = ${Math.max(1, Math.floor(waitMs))}`);
    try {
      await this.db.query('SELECT pg_advisory_lock(hashtext($1))', [DRAIN_LOCK]);
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === '55P03') return false;
      throw e;
    } finally {
      await this.db.query('SET lock_timeout = 0');
    }
  }

  async unlock(): Promise<void> {
    await this.db.query('SELECT pg_advisory_unlock(hashtext($1))', [DRAIN_LOCK]);
  }

  /** Pending rows in order, of the listed users (or all), without the users in `skip`. */
  async pendingRows(options: {
    users?: readonly string[];
    skip: readonly string[];
    limit: number;
  }): Promise<OutboxRow[]> {
    const { rows } = await this.db.query(
      `SELECT seq::text AS seq, user_id, legacy_table, legacy_key, operation, legacy_row, created_at
         FROM ${OUTBOX_TABLE}
        WHERE applied_at IS NULL
          AND ($1::text[] IS NULL OR user_id = ANY($1::text[]))
          AND NOT (user_id = ANY($2::text[]))
        ORDER BY seq
        LIMIT $3`,
      [options.users ?? null, options.skip, options.limit],
    );
    return rows.map((r) => ({
      seq: r.seq as string,
      userId: r.user_id as string,
      legacyTable: r.legacy_table as string,
      legacyKey: r.legacy_key as OutboxRow['legacyKey'],
      operation: r.operation as OutboxRow['operation'],
      legacyRow: (r.legacy_row ?? null) as OutboxRow['legacyRow'],
      createdAt: new Date(r.created_at as string),
    }));
  }

  async markApplied(seqs: readonly string[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.db.query(
      `UPDATE ${OUTBOX_TABLE} SET applied_at = now(), last_error = NULL WHERE seq = ANY($1::bigint[])`,
      [seqs],
    );
  }

  async markFailed(seq: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE ${OUTBOX_TABLE} SET attempts = attempts + 1, last_error = $2 WHERE seq = $1::bigint`,
      [seq, error.slice(0, 1000)],
    );
  }

  /** Every row up to the returned seq is applied: the one before the first pending row, else the last. */
  async appliedThrough(): Promise<string> {
    const { rows } = await this.db.query(
      `SELECT COALESCE((SELECT min(seq) - 1 FROM ${OUTBOX_TABLE} WHERE applied_at IS NULL),
                       (SELECT max(seq) FROM ${OUTBOX_TABLE}), 0)::text AS through`,
    );
    return rows[0].through as string;
  }

  /** Pending rows per user (users listed, or all), oldest first, at most `limit` users. */
  async pendingUsers(users: readonly string[] | undefined, limit: number): Promise<PendingUser[]> {
    const { rows } = await this.db.query(
      `SELECT user_id,
              count(*)::int AS rows,
              min(created_at) AS oldest_at,
              (array_agg(last_error ORDER BY seq))[1] AS error,
              bool_and(loss_accepted_at IS NOT NULL) AS loss_accepted
         FROM ${OUTBOX_TABLE}
        WHERE applied_at IS NULL
          AND ($1::text[] IS NULL OR user_id = ANY($1::text[]))
        GROUP BY user_id
        ORDER BY min(seq)
        LIMIT $2`,
      [users ?? null, limit],
    );
    return rows.map((r) => ({
      userId: r.user_id as string,
      rows: r.rows as number,
      oldestAt: new Date(r.oldest_at as string).toISOString(),
      ...(r.error ? { error: r.error as string } : {}),
      lossAccepted: r.loss_accepted === true,
    }));
  }

  /** Totals over every pending row, for the metrics. */
  async totals(now: Date): Promise<Omit<PendingReport, 'list' | 'truncated'> & { failedRows: number }> {
    const { rows } = await this.db.query(
      `SELECT count(*)::int AS rows,
              count(DISTINCT user_id)::int AS users,
              min(created_at) AS oldest_at,
              count(*) FILTER (WHERE last_error IS NOT NULL)::int AS failed_rows
         FROM ${OUTBOX_TABLE}
        WHERE applied_at IS NULL`,
    );
    const r = rows[0];
    const oldest = r.oldest_at ? new Date(r.oldest_at as string).getTime() : now.getTime();
    return {
      rows: r.rows as number,
      users: r.users as number,
      oldestAgeSeconds: Math.max(0, Math.floor((now.getTime() - oldest) / 1000)),
      failedRows: r.failed_rows as number,
    };
  }

  /** Records the acceptance on every pending row of these users; returns the rows it covered. */
  async accept(users: readonly string[]): Promise<number> {
    if (users.length === 0) return 0;
    const { rowCount } = await this.db.query(
      `UPDATE ${OUTBOX_TABLE} SET loss_accepted_at = now()
        WHERE applied_at IS NULL AND loss_accepted_at IS NULL AND user_id = ANY($1::text[])`,
      [users],
    );
    return rowCount ?? 0;
  }

  async verification(runId: string): Promise<{ passed: boolean; message: string } | undefined> {
    const { rows } = await this.db.query(
      `SELECT passed, message FROM ${VERIFICATION_TABLE} WHERE run_id = $1`,
      [runId],
    );
    return rows[0] ? { passed: rows[0].passed === true, message: String(rows[0].message) } : undefined;
  }
}

/** The outcome of one statement of a batch. */
export type Applied =
  | { readonly status: 'applied' }
  | { readonly status: 'failed'; readonly error: string }
  /** Not tried: an earlier statement of the same user failed in this batch. */
  | { readonly status: 'skipped' };

/** The legacy database: statements applied in one transaction, each behind a savepoint. */
export class LegacyDatabase {
  constructor(private readonly db: SqlClient) {}

  /**
   * Applies the statements in order in one transaction. A statement that fails is rolled back alone (its
   * savepoint) and reported, and its user's later statements are not tried (a user's rows apply in
   * order); the others still commit. Idempotent: an upsert sets the row to the same values again, a
   * delete of a deleted row deletes nothing.
   */
  async apply(
    items: readonly { readonly userId: string; readonly statement: Statement }[],
  ): Promise<Applied[]> {
    const results: Applied[] = [];
    const failedUsers = new Set<string>();
    await this.db.query('BEGIN');
    try {
      for (const { userId, statement } of items) {
        if (failedUsers.has(userId)) {
          results.push({ status: 'skipped' });
          continue;
        }
        await this.db.query('SAVEPOINT row');
        try {
          for (const { text, values } of statementSql(statement)) {
            const { rowCount } = await this.db.query(text, values);
            if (rowCount) break;
          }
          await this.db.query('RELEASE SAVEPOINT row');
          results.push({ status: 'applied' });
        } catch (e) {
          await this.db.query('ROLLBACK TO SAVEPOINT row');
          failedUsers.add(userId);
          const code = (e as { code?: string }).code;
          results.push({ status: 'failed', error: `${code ? `${code} ` : ''}${(e as Error).message}` });
        }
      }
      await this.db.query('COMMIT');
    } catch (e) {
      await this.db.query('ROLLBACK').catch(() => {});
      throw e;
    }
    return results;
  }
}
