/**
 * The write-back function's decisions, pure: what it was asked (an invocation or the schedule), whether
 * an outbox row may be applied to the legacy database and as what statement, and which users a request
 * is about. No SDK, no database driver, no env.
 */
import { parseFlag, USER_ID } from '../../lib/flags/documents';
import { routesToService } from '../../lib/flags/evaluate';
import {
  type ColumnValue,
  DEFAULT_DRAIN_MS,
  type OutboxRow,
  PENDING_LIST_LIMIT,
  type Selection,
  WRITE_BACK_TIMEOUT_SECONDS,
  type WriteBackRequest,
  type WriteBackTables,
} from '../../lib/write-back/contract';

/** What a row becomes in the legacy database. */
export type Statement =
  | {
      readonly kind: 'upsert';
      readonly table: string;
      readonly key: Readonly<Record<string, ColumnValue>>;
      /** The columns besides the key, with their values (may be empty: the row only has to exist). */
      readonly values: Readonly<Record<string, ColumnValue>>;
    }
  | { readonly kind: 'delete'; readonly table: string; readonly key: Readonly<Record<string, ColumnValue>> };

export type RowPlan =
  | { readonly ok: true; readonly statement: Statement }
  | { readonly ok: false; readonly error: string };

const isScalar = (v: ColumnValue | undefined): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * An outbox row as a statement on the legacy database, if the configuration allows it: its table is one
 * the service may write back, its key is exactly that table's key, and it writes no other column than
 * the table's `columns` (and the key). A row that breaks a rule is never applied: it stays pending, with
 * the error, and blocks that user's later rows.
 */
export function planRow(row: OutboxRow, tables: WriteBackTables): RowPlan {
  const table = Object.hasOwn(tables, row.legacyTable) ? tables[row.legacyTable] : undefined;
  if (!table)
    return {
      ok: false,
      error: `legacy table ${JSON.stringify(row.legacyTable)} is not one the service may write back (services[].writeBack.tables has ${Object.keys(tables).join(', ') || 'none'})`,
    };
  const keyNames = Object.keys(row.legacyKey ?? {});
  const missing = table.key.filter((k) => !keyNames.includes(k));
  const extra = keyNames.filter((k) => !table.key.includes(k));
  if (missing.length > 0 || extra.length > 0)
    return {
      ok: false,
      error: `legacy_key of ${row.legacyTable} must have exactly the key columns ${table.key.join(', ')} (missing: ${missing.join(', ') || 'none'}; not in the key: ${extra.join(', ') || 'none'})`,
    };
  const badKey = table.key.find((k) => !isScalar(row.legacyKey[k]));
  if (badKey !== undefined)
    return {
      ok: false,
      error: `legacy_key.${badKey} must be a string, number or boolean, got ${JSON.stringify(row.legacyKey[badKey])}`,
    };
  if (row.operation === 'delete')
    return { ok: true, statement: { kind: 'delete', table: row.legacyTable, key: row.legacyKey } };
  if (row.operation !== 'upsert')
    return {
      ok: false,
      error: `operation ${JSON.stringify(row.operation)} is neither "upsert" nor "delete"`,
    };
  if (row.legacyRow === null || typeof row.legacyRow !== 'object' || Array.isArray(row.legacyRow))
    return { ok: false, error: 'an upsert needs legacy_row, a JSON object of column values' };
  const values: Record<string, ColumnValue> = {};
  for (const [column, value] of Object.entries(row.legacyRow)) {
    if (table.key.includes(column)) {
      if (JSON.stringify(value) !== JSON.stringify(row.legacyKey[column]))
        return {
          ok: false,
          error: `legacy_row.${column} (${JSON.stringify(value)}) differs from legacy_key.${column} (${JSON.stringify(row.legacyKey[column])}): a key never changes; delete the row and upsert the new one`,
        };
      continue;
    }
    if (!table.columns.includes(column))
      return {
        ok: false,
        error: `column ${JSON.stringify(column)} of ${row.legacyTable} is not one the service may write (services[].writeBack.tables.${row.legacyTable}.columns: ${table.columns.join(', ')})`,
      };
    values[column] = value;
  }
  return { ok: true, statement: { kind: 'upsert', table: row.legacyTable, key: row.legacyKey, values } };
}

/** A request that cannot be served: its message says what was wrong. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

/** The request an event stands for: the schedule drains; an invocation says what it wants. */
export function requestOf(event: unknown): WriteBackRequest {
  const e = (event ?? {}) as Record<string, unknown>;
  if (e['detail-type'] === 'Scheduled Event') return { action: 'drain' };
  const selection = selectionOf(e);
  switch (e.action) {
    case 'drain': {
      const deadlineMs = optionalInteger(
        e.deadlineMs,
        'deadlineMs',
        1,
        (WRITE_BACK_TIMEOUT_SECONDS - 10) * 1000,
      );
      return { action: 'drain', ...selection, ...(deadlineMs === undefined ? {} : { deadlineMs }) };
    }
    case 'pending': {
      const limit = optionalInteger(e.limit, 'limit', 1, PENDING_LIST_LIMIT);
      return { action: 'pending', ...selection, ...(limit === undefined ? {} : { limit }) };
    }
    case 'accept': {
      if (typeof e.reason !== 'string' || e.reason.length === 0 || e.reason.length > 200)
        throw new BadRequestError('accept needs a reason of 1-200 characters');
      if (!selection.users && !selection.leaving)
        throw new BadRequestError(
          'accept needs users or leaving: it never accepts every pending row at once',
        );
      return { action: 'accept', reason: e.reason, ...selection };
    }
    case 'verification':
      if (typeof e.runId !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(e.runId))
        throw new BadRequestError('verification needs the runId of a cutover run');
      return { action: 'verification', runId: e.runId };
    default:
      throw new BadRequestError(
        `unknown action ${JSON.stringify(e.action)}; use drain, pending, accept or verification`,
      );
  }
}

function optionalInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new BadRequestError(`${name} must be a whole number from ${min} to ${max}`);
  return value;
}

function selectionOf(e: Record<string, unknown>): Selection {
  const out: { users?: string[]; leaving?: Selection['leaving'] } = {};
  if (e.users !== undefined) {
    if (!Array.isArray(e.users) || e.users.some((u) => typeof u !== 'string' || !USER_ID.test(u)))
      throw new BadRequestError('users must be an array of user ids');
    out.users = e.users as string[];
  }
  if (e.leaving !== undefined) {
    const l = e.leaving as Record<string, unknown>;
    const doc = (which: 'from' | 'to') => {
      const parsed = parseFlag('routing', JSON.stringify(l?.[which] ?? null));
      if (!parsed.ok) throw new BadRequestError(`leaving.${which}: ${parsed.errors.join('; ')}`);
      return parsed.value;
    };
    out.leaving = { from: doc('from'), to: doc('to') };
  }
  return out;
}

/** Whether a user is one the selection is about (the `users` part is applied by the query). */
export function selected(service: string, selection: Selection, userId: string): boolean {
  if (selection.users && !selection.users.includes(userId)) return false;
  const { leaving } = selection;
  return (
    !leaving ||
    (routesToService(leaving.from, service, userId) && !routesToService(leaving.to, service, userId))
  );
}

/** The drain's deadline: what was asked, else the default. */
export function drainDeadline(
  request: Extract<WriteBackRequest, { action: 'drain' }>,
  startedAt: number,
): number {
  return startedAt + (request.deadlineMs ?? DEFAULT_DRAIN_MS);
}
