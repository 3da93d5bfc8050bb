/**
 * The CLI's side of the data contract (docs/data-contract.md): before a routing change sends users back to
 * the monolith, it shows who leaves and how many of them have writes not yet in the legacy database (the
 * list in a file), writes those back (bounded), checks again, and goes ahead only when none is left, or
 * for exactly the users `--accept-loss <file>` lists. And `pending <service>`: what is not written back.
 * It reaches the databases only through the service's write-back function.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtractedServiceConfig, MigrationConfig } from '../config/types';
import type { RoutingDocument } from '../flags/documents';
import { writeBackFunctionName } from '../naming';
import type { PendingUser } from '../write-back/contract';
import { type WriteBackChannel, WriteBackUnavailableError } from '../write-back/invoke';
import { anyoneLeaves, describeLeaving, nameUsers, whoLeaves } from '../write-back/leaving';
import { RefusedError } from './errors';

export interface WriteBackDependencies {
  readonly config: MigrationConfig;
  /** The channel to the services' write-back functions (a Lambda invocation). */
  readonly writeBack?: WriteBackChannel;
  readonly out: (line: string) => void;
  readonly now?: () => Date;
  /** Most seconds spent writing the leaving users' rows back. @default 60 */
  readonly drainTimeoutSeconds?: number;
  /** Where the lists of users go. @default the system's temporary directory */
  readonly reportDir?: string;
}

/** How long one question (pending, accept) may take. */
const ASK_MS = 20_000;
/** One drain's deadline inside the function (its timeout is 60 s). */
const DRAIN_MS = 40_000;

function channelOf(deps: WriteBackDependencies): WriteBackChannel {
  return (
    deps.writeBack ??
    (async (fn) => {
      throw new WriteBackUnavailableError(`could not ask ${fn} (this CLI has no Lambda connection)`);
    })
  );
}

/** A list of users with what is pending, for a person and for --accept-loss (the first word of each line). */
function writeList(
  deps: WriteBackDependencies,
  service: string,
  users: readonly PendingUser[],
  heading: string,
): string {
  const stamp = (deps.now?.() ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const file = join(deps.reportDir ?? tmpdir(), `${deps.config.name}-${service}-pending-${stamp}.txt`);
  const lines = [
    `# ${heading}`,
    '# user id, rows not yet in the legacy database, oldest, last error (if applying them failed)',
    `# npm run migrate -- route ... --accept-loss ${file} goes ahead for exactly these users`,
    ...users.map((u) => [u.userId, String(u.rows), u.oldestAt, u.error ?? ''].join('\t').trimEnd()),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The user ids of an --accept-loss file: the first word of each line that is not a comment. */
export function readAcceptedUsers(file: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RefusedError(`--accept-loss ${file}: cannot read it (${(e as Error).message})`);
  }
  return new Set(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split(/\s+/)[0]),
  );
}

const age = (oldestAt: string, now: Date) => {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(oldestAt)) / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
};

/**
 * Before `from` is replaced by `to`: makes sure the users who leave the service have their writes in the
 * legacy database, or refuses (RefusedError), or goes ahead for exactly the accepted users.
 */
export async function beforeUsersLeave(
  service: ExtractedServiceConfig,
  from: RoutingDocument,
  to: RoutingDocument,
  options: { readonly acceptLoss?: string; readonly dryRun: boolean },
  deps: WriteBackDependencies,
): Promise<void> {
  const leaving = whoLeaves(service.name, from, to);
  if (!anyoneLeaves(leaving)) return;
  deps.out(`leaving ${service.name} for the monolith: ${describeLeaving(leaving)}`);
  if (!service.writeBack) {
    deps.out(
      `WARNING: ${service.name} has no write-back (services[].writeBack): what these users wrote on the service is only in its database, and the product cannot list it; the monolith will not see it (docs/data-contract.md)`,
    );
    return;
  }
  const channel = channelOf(deps);
  const fn = writeBackFunctionName(deps.config.name, service.name);
  const now = () => deps.now?.() ?? new Date();
  const ask = async <T>(what: () => Promise<T>): Promise<T> => {
    try {
      return await what();
    } catch (e) {
      if (!(e instanceof WriteBackUnavailableError)) throw e;
      throw new RefusedError(
        `refused: ${e.message}, so whether the leaving users have writes not yet in the legacy database is unknown. The operator policy may invoke ${fn} (see "When something goes wrong" in docs/runbook.md).`,
      );
    }
  };
  const leavingSelection = { leaving: { from, to } };
  const first = await ask(() => channel(fn, { action: 'pending', ...leavingSelection }, ASK_MS));
  const pending = first.pending.list.filter((u) => !u.lossAccepted);
  if (first.pending.truncated)
    throw new RefusedError(
      `refused: more leaving users have writes not yet written back than one list holds; wait for the write-back (every minute) and run again (npm run migrate -- pending ${service.name})`,
    );
  if (pending.length === 0) {
    deps.out('none of them has writes waiting to be written back to the legacy database');
    return;
  }
  const rows = pending.reduce((n, u) => n + u.rows, 0);
  const oldest = [...pending.map((u) => u.oldestAt)].sort()[0];
  const listed = writeList(
    deps,
    service.name,
    pending,
    `${service.name}: leaving users with writes not yet in the legacy database`,
  );
  deps.out(
    `${pending.length} of them ${pending.length === 1 ? 'has' : 'have'} writes not yet in the legacy database (${rows} row${rows === 1 ? '' : 's'}, oldest ${age(oldest, now())} old): ${listed}`,
  );
  if (options.dryRun) {
    deps.out(`dry run: would write them back first (at most ${deps.drainTimeoutSeconds ?? 60} s)`);
    return;
  }

  const users = pending.map((u) => u.userId);
  const deadline = Date.now() + (deps.drainTimeoutSeconds ?? 60) * 1000;
  deps.out(`writing them back (at most ${deps.drainTimeoutSeconds ?? 60} s)...`);
  let left: readonly PendingUser[] = pending;
  for (;;) {
    const budget = Math.min(DRAIN_MS, deadline - Date.now());
    if (budget <= 0) break;
    const drained = await ask(() =>
      channel(fn, { action: 'drain', users, deadlineMs: Math.max(1, budget) }, budget + ASK_MS),
    );
    left = drained.pending.list.filter((u) => !u.lossAccepted);
    if (left.length === 0 || drained.status === 'blocked' || drained.status === 'stopped') break;
  }
  if (left.length === 0) {
    deps.out(`written back: every leaving user's writes are in the legacy database; going ahead`);
    return;
  }
  const errors = left.filter((u) => u.error).slice(0, 3);
  const remaining = writeList(
    deps,
    service.name,
    left,
    `${service.name}: leaving users whose writes could not be written back`,
  );
  const accepted = options.acceptLoss ? readAcceptedUsers(options.acceptLoss) : undefined;
  const notAccepted = accepted ? left.filter((u) => !accepted.has(u.userId)) : left;
  if (notAccepted.length > 0) {
    throw new RefusedError(
      `refused: ${notAccepted.length} leaving user${notAccepted.length === 1 ? '' : 's'} still ${notAccepted.length === 1 ? 'has' : 'have'} writes not in the legacy database (${nameUsers(notAccepted)})` +
        (errors.length > 0 ? `; ${errors.map((u) => `${u.userId}: ${u.error}`).join('; ')}` : '') +
        `. The list is in ${remaining}. Fix what stops them (the errors are in the list), or wait for the write-back (every minute: npm run migrate -- pending ${service.name}) and run again; or go ahead for exactly these users with --accept-loss ${remaining}` +
        (accepted ? ` (${options.acceptLoss} does not list them)` : ''),
    );
  }
  const done = await ask(() =>
    channel(
      fn,
      {
        action: 'accept',
        users: left.map((u) => u.userId),
        reason: `migrate cli --accept-loss ${options.acceptLoss}`,
      },
      ASK_MS,
    ),
  );
  deps.out(
    `ACCEPTED LOSS (--accept-loss ${options.acceptLoss}): ${done.accepted.length} user${done.accepted.length === 1 ? '' : 's'} leave with writes not yet in the legacy database (${nameUsers(left)}); their rows stay pending and are written back when they can be`,
  );
}

/** `pending <service> [--drain]`: what is not yet written back, per user (after a drain, if asked). */
export async function pendingCommand(
  service: ExtractedServiceConfig,
  drain: boolean,
  deps: WriteBackDependencies,
): Promise<void> {
  if (!service.writeBack)
    throw new RefusedError(
      `${service.name} has no write-back (services[].writeBack): nothing is written back to the legacy database (docs/data-contract.md)`,
    );
  const channel = channelOf(deps);
  const fn = writeBackFunctionName(deps.config.name, service.name);
  const timeout = (deps.drainTimeoutSeconds ?? 60) * 1000;
  try {
    if (drain) {
      const out = await channel(
        fn,
        { action: 'drain', deadlineMs: Math.min(DRAIN_MS, timeout) },
        timeout + ASK_MS,
      );
      deps.out(`drain: ${out.status}, ${out.applied} rows applied${out.reason ? ` (${out.reason})` : ''}`);
    }
    const { pending, cutoverCompleted } = await channel(fn, { action: 'pending' }, ASK_MS);
    if (cutoverCompleted)
      deps.out(`the cutover of ${service.name} is completed: nothing is written back any more`);
    if (pending.rows === 0) {
      deps.out(`${service.name}: every write is in the legacy database`);
      return;
    }
    const file = writeList(
      deps,
      service.name,
      pending.list,
      `${service.name}: users with writes not yet in the legacy database`,
    );
    deps.out(
      `${service.name}: ${pending.rows} rows of ${pending.users} users not yet in the legacy database, the oldest ${pending.oldestAgeSeconds} s old${pending.truncated ? ` (the list has the first ${pending.list.length})` : ''}: ${file}`,
    );
    for (const u of pending.list.slice(0, 20))
      deps.out(
        `  ${u.userId}\t${u.rows} rows since ${u.oldestAt}${u.lossAccepted ? '\tloss accepted' : ''}${u.error ? `\t${u.error}` : ''}`,
      );
  } catch (e) {
    if (e instanceof WriteBackUnavailableError) throw new RefusedError(`${e.message}`);
    throw e;
  }
}
