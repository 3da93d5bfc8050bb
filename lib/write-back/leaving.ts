/**
 * Who a routing change sends back to the monolith, and which of them would leave writes behind: the one
 * rule the CLI, the flag guard and the automatic rollback share (the write-back function applies the
 * same per-user test, `selected` in lambda/write-back/decide.ts). Decided with the evaluator, the same
 * sticky hash every reader uses, never estimated. Pure.
 */
import type { RoutingDocument } from '../flags/documents';
import { routesToService } from '../flags/evaluate';
import type { PendingUser } from './contract';

/** The users a change sends back: some listed users, and the users whose bucket is in a range. */
export interface Leaving {
  /** Users listed in the old document who leave (the evaluator decided each). */
  readonly listed: readonly string[];
  /**
   * Every user whose sticky bucket is in [from, to) leaves, unless the new document lists them.
   * Absent: no user leaves by bucket.
   */
  readonly buckets?: { readonly from: number; readonly to: number };
  /** Users the new document lists (they stay, whatever their bucket). */
  readonly keptByList: number;
}

/** The share of buckets a document sends to the service whoever the user is: 0 to 100. */
function bucketShare(doc: RoutingDocument): number {
  switch (doc.mode) {
    case 'all':
      return 100;
    case 'percent':
      return doc.percent;
    case 'off':
    case 'users':
      return 0;
  }
}

/** Whether `userId` is routed to the service under `from` and to the monolith under `to`. */
export function leaves(service: string, from: RoutingDocument, to: RoutingDocument, userId: string): boolean {
  return routesToService(from, service, userId) && !routesToService(to, service, userId);
}

/** Who the change from `from` to `to` sends back to the monolith. */
export function whoLeaves(service: string, from: RoutingDocument, to: RoutingDocument): Leaving {
  const listedBefore = from.mode === 'users' || from.mode === 'percent' ? from.users : [];
  const listed = listedBefore.filter((u) => leaves(service, from, to, u));
  const [oldShare, newShare] = [bucketShare(from), bucketShare(to)];
  const keptByList = to.mode === 'users' || to.mode === 'percent' ? to.users.length : 0;
  return {
    listed,
    ...(oldShare > newShare ? { buckets: { from: newShare, to: oldShare } } : {}),
    keptByList,
  };
}

/** Whether anyone leaves. */
export function anyoneLeaves(leaving: Leaving): boolean {
  return leaving.listed.length > 0 || leaving.buckets !== undefined;
}

/** The users who leave, in words an operator can check against the flags. */
export function describeLeaving(leaving: Leaving): string {
  const parts: string[] = [];
  if (leaving.listed.length > 0) {
    const shown = leaving.listed.slice(0, 10).join(', ');
    parts.push(
      `${leaving.listed.length} listed user${leaving.listed.length === 1 ? '' : 's'} (${shown}${leaving.listed.length > 10 ? ', ...' : ''})`,
    );
  }
  if (leaving.buckets) {
    const { from, to } = leaving.buckets;
    const share =
      from === 0 && to === 100
        ? 'every user'
        : `every user in sticky buckets ${from}-${to - 1} (${to - from} % of users)`;
    parts.push(
      `${parts.length > 0 ? 'and ' : ''}${share}${leaving.keptByList > 0 ? ` but the ${leaving.keptByList} listed in the new document` : ''}`,
    );
  }
  return parts.length > 0 ? parts.join(' ') : 'nobody';
}

/**
 * The pending users the change would strand: they leave, and rows of theirs are not yet in the legacy
 * database, and no acceptance of the loss was recorded on them.
 */
export function strandedBy(
  service: string,
  from: RoutingDocument,
  to: RoutingDocument,
  pending: readonly PendingUser[],
): PendingUser[] {
  return pending.filter((u) => !u.lossAccepted && leaves(service, from, to, u.userId));
}

/** A list of users for an alert or a message: the first few, and how many more. */
export function nameUsers(users: readonly { readonly userId: string }[], max = 20): string {
  const shown = users.slice(0, max).map((u) => u.userId);
  return `${shown.join(', ')}${users.length > max ? ` and ${users.length - max} more` : ''}`;
}

/** The CLI command that makes the change to `to` safely (it writes the leaving users' writes back first). */
export function safeCommand(service: string, to: RoutingDocument): string {
  const base = `npm run migrate -- route ${service}`;
  switch (to.mode) {
    case 'off':
    case 'all':
      return `${base} ${to.mode}`;
    case 'percent':
      return `${base} percent ${to.percent}`;
    case 'users':
      return to.users.length <= 10
        ? `${base} users ${to.users.join(' ')}`
        : `${base} users <the ${to.users.length} users>`;
  }
}

/** The reason the automatic rollback writes: the guard leaves its writes to it (it names the stranded users itself). */
export const AUTO_ROLLBACK_REASON_PREFIX = 'auto-rollback: ';

/**
 * Whether a routing write is the automatic rollback's, which the guard leaves to it. The reason alone is
 * not proof (the CLI or a raw write may give any reason): when SSM recorded the writer as an ARN (AWS
 * always does: LastModifiedUser) and the auto-rollback's role is known, the writer must be a session of
 * that role (`arn:<partition>:sts::<account>:assumed-role/<role>/<session>`), which only Lambda can
 * assume. Without an ARN (an emulator) or a role name (a guard deployed before it had one), the reason
 * decides.
 */
export function isAutoRollbackWrite(
  reason: string | undefined,
  modifiedBy: string | undefined,
  autoRollbackRole: string | undefined,
): boolean {
  if (!reason?.startsWith(AUTO_ROLLBACK_REASON_PREFIX)) return false;
  if (autoRollbackRole === undefined || !modifiedBy?.startsWith('arn:')) return true;
  const session = /^arn:[\w-]+:sts::\d{12}:assumed-role\/([^/]+)\/[^/]+$/.exec(modifiedBy);
  return session?.[1] === autoRollbackRole;
}
