/**
 * write-back: applies an extracted service's outbox (in its own database) to the legacy database, so
 * that a routing change back to the monolith loses nothing while a rollback is possible
 * (docs/data-contract.md). It runs in the VPC, with access to both databases, and works whether the
 * service runs or not. Asked by:
 * - its schedule, every minute from phase 1 until the cutover is recorded: `drain`;
 * - the CLI, the flag guard, the automatic rollback and the cutover state machine, which cannot reach
 *   the databases themselves: `drain`, `pending`, `accept`, `verification` (lib/write-back/contract.ts).
 * Every drain and pending report publishes what is not yet written back (embedded metric format), per
 * service. Thin: decisions in decide.ts, SQL in postgres.ts.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { parseFlag } from '../../lib/flags/documents';
import { readChecked } from '../../lib/flags/ssm-store';
import {
  type FailedRow,
  type OutboxRow,
  PENDING_LIST_LIMIT,
  type PendingReport,
  type ResponseOf,
  type Selection,
  WRITE_BACK_ENV_VARIABLE,
  type WriteBackEnvironment,
  type WriteBackRequest,
  type WriteBackResponse,
} from '../../lib/write-back/contract';
import { type Lazy, lazy } from '../shared/lazy';
import { jsonLogger, type Logger } from '../shared/log';
import { drainDeadline, planRow, requestOf, type Statement, selected } from './decide';
import { LegacyDatabase, Outbox, type SqlClient } from './postgres';

/** A database connection the handler closes when it is done. */
export type Connection = SqlClient & { end(): Promise<void> };

export interface WriteBackDependencies {
  readonly env: WriteBackEnvironment;
  /** Opens a connection to the legacy database or to the service's (the outbox). */
  readonly connect: (database: 'legacy' | 'outbox') => Promise<Connection>;
  /** Whether the service's cutover is completed (its checked document); undefined when it cannot be read. */
  readonly cutoverCompleted: () => Promise<boolean | undefined>;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** Rows read and applied per legacy transaction. */
const BATCH = 200;

export async function writeBack(event: unknown, deps: WriteBackDependencies): Promise<WriteBackResponse> {
  const request = requestOf(event);
  // The drain's deadline is wall-clock time, whatever clock the reports use.
  const startedAt = Date.now();
  const outbox = await deps.connect('outbox');
  try {
    switch (request.action) {
      case 'drain':
        return await drain(request, new Outbox(outbox), startedAt, deps);
      case 'pending': {
        const store = new Outbox(outbox);
        const pending = await report(store, request, request.limit ?? PENDING_LIST_LIMIT, deps);
        const completed = await stopped(deps);
        return { action: 'pending', pending, cutoverCompleted: completed !== undefined };
      }
      case 'accept':
        return await accept(request, new Outbox(outbox), deps);
      case 'verification': {
        const verdict = await new Outbox(outbox).verification(request.runId);
        return verdict
          ? { action: 'verification', found: true, ...verdict }
          : {
              action: 'verification',
              found: false,
              passed: false,
              message: `the verification of run ${request.runId} left no verdict in the service's database (table migration_verification): it failed before its end; read its log`,
            };
      }
    }
  } finally {
    await outbox.end().catch(() => {});
  }
}

/** Why nothing may be applied any more (the cutover is recorded), or undefined. */
async function stopped(deps: WriteBackDependencies): Promise<string | undefined> {
  if (deps.env.cutoverRecorded) return 'the cutover is recorded in the environment (cutoverRecorded)';
  const completed = await deps.cutoverCompleted();
  if (completed === undefined)
    deps.logger.log('warn', 'could not read the cutover document; applying (harmless after a cutover)', {
      service: deps.env.service,
    });
  return completed ? 'the cutover is completed: the service database is the only truth' : undefined;
}

async function drain(
  request: Extract<WriteBackRequest, { action: 'drain' }>,
  outbox: Outbox,
  startedAt: number,
  deps: WriteBackDependencies,
): Promise<ResponseOf<'drain'>> {
  const { env, logger } = deps;
  const deadline = drainDeadline(request, startedAt);
  const reason = await stopped(deps);
  if (reason !== undefined) {
    logger.log('info', 'write-back stopped', { service: env.service, reason });
    return {
      action: 'drain',
      status: 'stopped',
      applied: 0,
      failed: [],
      appliedThrough: await outbox.appliedThrough(),
      pending: await report(outbox, request, PENDING_LIST_LIMIT, deps, false),
      reason,
    };
  }
  const users = await usersOf(outbox, request, deps);
  if (!(await outbox.lock(Math.max(1, deadline - Date.now())))) {
    logger.log('warn', 'another drain held the lock until the deadline', { service: env.service });
    return {
      action: 'drain',
      status: 'deadline',
      applied: 0,
      failed: [],
      appliedThrough: await outbox.appliedThrough(),
      pending: await report(outbox, request, PENDING_LIST_LIMIT, deps),
    };
  }
  let applied = 0;
  const failed: FailedRow[] = [];
  const blocked = new Set<string>();
  let status: 'drained' | 'deadline' | 'blocked' = 'drained';
  const legacyConnection = users?.length === 0 ? undefined : await deps.connect('legacy');
  try {
    const legacy = legacyConnection && new LegacyDatabase(legacyConnection);
    while (legacy) {
      if (Date.now() >= deadline) {
        status = 'deadline';
        break;
      }
      // A user's rows apply in order: after one of them failed, the user's later rows wait.
      const rows = await outbox.pendingRows({ users, skip: [...blocked], limit: BATCH });
      if (rows.length === 0) break;
      const items: { row: OutboxRow; statement: Statement }[] = [];
      for (const row of rows) {
        if (blocked.has(row.userId)) continue;
        const plan = planRow(row, env.tables);
        if (plan.ok) {
          items.push({ row, statement: plan.statement });
          continue;
        }
        blocked.add(row.userId);
        failed.push({ seq: row.seq, userId: row.userId, error: plan.error });
        await outbox.markFailed(row.seq, plan.error);
      }
      const results = await legacy.apply(
        items.map((i) => ({ userId: i.row.userId, statement: i.statement })),
      );
      const done: string[] = [];
      for (const [i, result] of results.entries()) {
        const { row } = items[i];
        if (result.status === 'applied') done.push(row.seq);
        else blocked.add(row.userId);
        if (result.status === 'failed') {
          failed.push({ seq: row.seq, userId: row.userId, error: result.error });
          await outbox.markFailed(row.seq, result.error);
        }
      }
      await outbox.markApplied(done);
      applied += done.length;
    }
  } finally {
    await legacyConnection?.end().catch(() => {});
    await outbox.unlock().catch(() => {});
  }
  if (status === 'drained' && blocked.size > 0) status = 'blocked';
  const pending = await report(outbox, request, PENDING_LIST_LIMIT, deps);
  const appliedThrough = await outbox.appliedThrough();
  logger.log(failed.length > 0 ? 'warn' : 'info', 'drained', {
    service: env.service,
    status,
    applied,
    failed,
    appliedThrough,
    pendingRows: pending.rows,
  });
  return { action: 'drain', status, applied, failed, appliedThrough, pending };
}

/** The users a request is about: undefined for every user, else the list (empty: nobody). */
async function usersOf(
  outbox: Outbox,
  selection: Selection,
  deps: WriteBackDependencies,
): Promise<readonly string[] | undefined> {
  if (!selection.leaving) return selection.users;
  // Who leaves is decided per user by the evaluator: among the users with pending rows.
  const candidates = await outbox.pendingUsers(selection.users, PENDING_LIST_LIMIT);
  return candidates.map((u) => u.userId).filter((u) => selected(deps.env.service, selection, u));
}

/**
 * What is not yet written back, for the selected users; publishes the service's totals as metrics
 * (the alarm on the oldest pending row watches them) unless `publish` is false.
 */
async function report(
  outbox: Outbox,
  selection: Selection,
  limit: number,
  deps: WriteBackDependencies,
  publish = true,
): Promise<PendingReport> {
  const now = deps.now?.() ?? new Date();
  const totals = await outbox.totals(now);
  if (publish) {
    const dims = { Service: deps.env.service };
    deps.logger.metric('WriteBackPendingRows', totals.rows, dims);
    deps.logger.metric('WriteBackPendingUsers', totals.users, dims);
    deps.logger.metric('WriteBackOldestPendingSeconds', totals.oldestAgeSeconds, dims, 'Seconds');
    deps.logger.metric('WriteBackFailedRows', totals.failedRows, dims);
  }
  const everyone = !selection.users && !selection.leaving;
  // One more than asked: whether the list is complete.
  const found = await outbox.pendingUsers(selection.users, everyone ? limit + 1 : PENDING_LIST_LIMIT + 1);
  const matching = found.filter((u) => selected(deps.env.service, selection, u.userId));
  const list = matching.slice(0, limit);
  if (everyone) {
    const { failedRows: _f, ...rest } = totals;
    return { ...rest, list, truncated: matching.length > limit };
  }
  const rows = list.reduce((n, u) => n + u.rows, 0);
  const oldest = list.reduce((m, u) => Math.min(m, Date.parse(u.oldestAt)), now.getTime());
  return {
    rows,
    users: list.length,
    oldestAgeSeconds: Math.max(0, Math.floor((now.getTime() - oldest) / 1000)),
    list,
    truncated: matching.length > limit || found.length > PENDING_LIST_LIMIT,
  };
}

async function accept(
  request: Extract<WriteBackRequest, { action: 'accept' }>,
  outbox: Outbox,
  deps: WriteBackDependencies,
): Promise<ResponseOf<'accept'>> {
  const users = (await usersOf(outbox, request, deps)) ?? [];
  const rows = await outbox.accept(users);
  const accepted = (await outbox.pendingUsers(users, PENDING_LIST_LIMIT)).map((u) => u.userId);
  deps.logger.log('warn', 'loss accepted: these users leave with writes not yet written back', {
    service: deps.env.service,
    reason: request.reason,
    users: accepted,
    rows,
  });
  return { action: 'accept', accepted, rows };
}

/** The deployed function's dependencies: TLS to both databases, credentials from Secrets Manager. */
function defaultDependencies(): WriteBackDependencies {
  const raw = process.env[WRITE_BACK_ENV_VARIABLE];
  if (!raw)
    throw new Error(
      `${WRITE_BACK_ENV_VARIABLE} is not set: the function was deployed without its configuration`,
    );
  const env = JSON.parse(raw) as WriteBackEnvironment;
  const ssm = new SSMClient({});
  const secrets: Lazy<import('@aws-sdk/client-secrets-manager').SecretsManagerClient> = lazy(
    async () => new (await import('./aws-secrets')).SecretsManagerClient({}),
  );
  const credentials = new Map<string, Promise<{ username: string; password: string }>>();
  const secretOf = (arn: string) => {
    let found = credentials.get(arn);
    if (!found) {
      found = (async () => {
        const [{ GetSecretValueCommand }, client] = await Promise.all([import('./aws-secrets'), secrets()]);
        const out = await client.send(new GetSecretValueCommand({ SecretId: arn }), {
          abortSignal: AbortSignal.timeout(5000),
        });
        const parsed = JSON.parse(out.SecretString ?? '{}') as { username?: string; password?: string };
        if (!parsed.username || !parsed.password)
          throw new Error(`secret ${arn} has no username and password`);
        return { username: parsed.username, password: parsed.password };
      })();
      found.catch(() => credentials.delete(arn));
      credentials.set(arn, found);
    }
    return found;
  };
  return {
    env,
    logger: jsonLogger('write-back'),
    connect: async (which) => {
      const target = which === 'legacy' ? env.legacy : env.outbox;
      const { username, password } = await secretOf(target.secretArn);
      const { Client } = (await import('pg')).default;
      const client = new Client({
        host: target.host,
        port: target.port,
        database: target.database,
        user: username,
        password,
        // RDS certificates: the runtime's bundle (NODE_EXTRA_CA_CERTS, set by the construct).
        ssl: { rejectUnauthorized: true },
        connectionTimeoutMillis: 5000,
        // Every statement has its own deadline; a drain stops starting batches at its own.
        statement_timeout: 10_000,
        query_timeout: 12_000,
      });
      await client.connect();
      return client as unknown as Connection;
    },
    cutoverCompleted: async () => {
      const read = (await readChecked(ssm, [env.cutoverParameter])).get(env.cutoverParameter);
      if (read?.status !== 'ok') return read?.status === 'missing' ? false : undefined;
      const parsed = parseFlag('cutover', read.text);
      return parsed.ok ? parsed.value.completed : undefined;
    },
  };
}

let dependencies: WriteBackDependencies | undefined;

export async function handler(event: unknown): Promise<WriteBackResponse> {
  dependencies ??= defaultDependencies();
  return writeBack(event, dependencies);
}
