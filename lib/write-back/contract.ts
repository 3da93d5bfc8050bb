/**
 * The data contract (version 1) between the product and an extracted service, as code: the tables the
 * service keeps in its own database (docs/data-contract.md gives them to service teams), what the
 * product's write-back function is told by the deploy, and what it is asked and answers. Shared by the
 * CDK app, the write-back function, the CLI and the hooks. Pure: no SDK, no database driver, no env.
 */
import type { RoutingDocument } from '../flags/documents';

export const DATA_CONTRACT_VERSION = 1;

/** The service's outbox: one row per changed legacy row, written in the transaction of the change. */
export const OUTBOX_TABLE = 'migration_outbox';
/** Where the service's verification command leaves its verdict for the cutover (one row per run). */
export const VERIFICATION_TABLE = 'migration_verification';

/**
 * The tables of the contract, in PostgreSQL. The service creates them (its own schema migrations); the
 * product's function reads them and writes only `applied_at`, `attempts`, `last_error` and
 * `loss_accepted_at` of the outbox.
 */
export const CONTRACT_DDL = `CREATE TABLE ${OUTBOX_TABLE} (
  seq              bigserial   PRIMARY KEY,
  user_id          text        NOT NULL,
  legacy_table     text        NOT NULL,
  legacy_key       jsonb       NOT NULL,
  operation        text        NOT NULL CHECK (operation IN ('upsert', 'delete')),
  legacy_row       jsonb       CHECK ((operation = 'upsert') = (legacy_row IS NOT NULL)),
  created_at       timestamptz NOT NULL DEFAULT now(),
  applied_at       timestamptz,
  attempts         integer     NOT NULL DEFAULT 0,
  last_error       text,
  loss_accepted_at timestamptz
);
CREATE INDEX ${OUTBOX_TABLE}_pending ON ${OUTBOX_TABLE} (user_id, seq) WHERE applied_at IS NULL;
CREATE TABLE ${VERIFICATION_TABLE} (
  run_id      text        PRIMARY KEY,
  passed      boolean     NOT NULL,
  message     text        NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now()
);`;

/** What a service may write back to one legacy table (services[].writeBack.tables in the config). */
export interface WriteBackTable {
  /** The columns of the primary key (or a unique key) that identify a row. */
  readonly key: readonly string[];
  /** The other columns the service may write. */
  readonly columns: readonly string[];
  /**
   * The column the monolith changes on every write of a row (e.g. `updated_at`): the service re-imports
   * a user's row when it is newer than what it imported (the reverse direction, docs/data-contract.md).
   */
  readonly versionColumn?: string;
}

export type WriteBackTables = Readonly<Record<string, WriteBackTable>>;

/** A JSON value of a legacy column, as the service writes it in the outbox. */
export type ColumnValue = string | number | boolean | null | ColumnValue[] | { [key: string]: ColumnValue };

/** One row of the outbox, as the function reads it. */
export interface OutboxRow {
  /** bigserial, carried as text so that no precision is lost. */
  readonly seq: string;
  readonly userId: string;
  readonly legacyTable: string;
  readonly legacyKey: Readonly<Record<string, ColumnValue>>;
  readonly operation: 'upsert' | 'delete';
  readonly legacyRow: Readonly<Record<string, ColumnValue>> | null;
  readonly createdAt: Date;
}

/** Where one database is, and the secret of the user the function signs in with. */
export interface DatabaseTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Secrets Manager secret with `username` and `password`. */
  readonly secretArn: string;
}

/** What the deploy tells the write-back function (environment variable WRITE_BACK_ENV_VARIABLE). */
export interface WriteBackEnvironment {
  readonly service: string;
  /** The service's cutover parameter: after a completed cutover the function applies nothing. */
  readonly cutoverParameter: string;
  /** The deploy-time marker of a completed cutover (services[].cutoverRecorded). */
  readonly cutoverRecorded: boolean;
  readonly legacy: DatabaseTarget;
  /** The service's database, where the outbox is. */
  readonly outbox: DatabaseTarget;
  readonly tables: WriteBackTables;
}

export const WRITE_BACK_ENV_VARIABLE = 'MIGRATION_WRITE_BACK_CONFIG';

/** What the service is told about the contract (environment variable SERVICE_CONTRACT_VARIABLE). */
export interface ServiceContractEnvironment {
  readonly version: typeof DATA_CONTRACT_VERSION;
  readonly outboxTable: typeof OUTBOX_TABLE;
  readonly verificationTable: typeof VERIFICATION_TABLE;
  readonly tables: WriteBackTables;
}

export const SERVICE_CONTRACT_VARIABLE = 'MIGRATION_DATA_CONTRACT';

/** The users a request is about: listed ones, those a routing change sends back, or (neither) everyone. */
export interface Selection {
  readonly users?: readonly string[];
  /** The users routed to the service under `from` and to the monolith under `to` (the evaluator decides). */
  readonly leaving?: { readonly from: RoutingDocument; readonly to: RoutingDocument };
}

export type WriteBackRequest =
  /** Apply pending rows in order until none is left or the deadline passes. */
  | ({ readonly action: 'drain'; readonly deadlineMs?: number } & Selection)
  /** The pending rows, per user (at most `limit` users, oldest first). */
  | ({ readonly action: 'pending'; readonly limit?: number } & Selection)
  /** Records that the operator goes ahead without these users' pending rows (they stay pending). */
  | ({ readonly action: 'accept'; readonly reason: string } & Selection)
  /** The verdict the verification command of a cutover run left in the service's database. */
  | { readonly action: 'verification'; readonly runId: string };

export type WriteBackAction = WriteBackRequest['action'];

/** The pending rows of one user. */
export interface PendingUser {
  readonly userId: string;
  readonly rows: number;
  /** When the oldest pending row was written (ISO 8601). */
  readonly oldestAt: string;
  /** The last error of the user's first pending row, when applying it failed. */
  readonly error?: string;
  /** Every pending row of the user is covered by a recorded acceptance (see `accept`). */
  readonly lossAccepted: boolean;
}

export interface PendingReport {
  readonly rows: number;
  readonly users: number;
  readonly oldestAgeSeconds: number;
  /** Per user, oldest first; at most the limit asked for. */
  readonly list: readonly PendingUser[];
  /** More users than the limit have pending rows. */
  readonly truncated: boolean;
}

export interface FailedRow {
  readonly seq: string;
  readonly userId: string;
  readonly error: string;
}

export type WriteBackResponse =
  | {
      readonly action: 'drain';
      /** `stopped`: the cutover is recorded, nothing was applied. */
      readonly status: 'drained' | 'deadline' | 'blocked' | 'stopped';
      readonly applied: number;
      readonly failed: readonly FailedRow[];
      /** Every row with a seq up to this one is applied ("0": none yet). */
      readonly appliedThrough: string;
      readonly pending: PendingReport;
      readonly reason?: string;
    }
  | { readonly action: 'pending'; readonly pending: PendingReport; readonly cutoverCompleted: boolean }
  | { readonly action: 'accept'; readonly accepted: readonly string[]; readonly rows: number }
  | {
      readonly action: 'verification';
      readonly found: boolean;
      readonly passed: boolean;
      readonly message: string;
    };

export type ResponseOf<A extends WriteBackAction> = Extract<WriteBackResponse, { action: A }>;

/** How long a drain runs by default (the scheduled one every minute): well inside the function timeout. */
export const DEFAULT_DRAIN_MS = 40_000;
/** The function's timeout: a drain's deadline plus the time to report. */
export const WRITE_BACK_TIMEOUT_SECONDS = 60;
/** Most users a pending report lists. */
export const PENDING_LIST_LIMIT = 10_000;

/**
 * The privileges of the legacy database user the write-back signs in with (PostgreSQL): exactly the
 * configured tables and columns. docs/data-contract.md shows them for the DBA; the tests apply them.
 */
export function legacyGrants(role: string, tables: WriteBackTables): string[] {
  const list = (columns: readonly string[]) => columns.map((c) => `"${c}"`).join(', ');
  const name = (table: string) =>
    table
      .split('.')
      .map((p) => `"${p}"`)
      .join('.');
  return Object.entries(tables).flatMap(([table, t]) => [
    `GRANT SELECT (${list(t.key)}), INSERT (${list([...t.key, ...t.columns])}), UPDATE (${list(t.columns)}), DELETE ON ${name(table)} TO "${role}"`,
  ]);
}
