/**
 * The stateful-change guard: compares the templates of two syntheses and reports every stateful
 * resource that the second would replace or delete, naming the property that forces a replacement.
 * Built on @aws-cdk/cloudformation-diff, which knows which property changes replace a resource.
 */
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { flagRenameProblem } from '../flags/parameters';
import { CUTOVER_MARKER_METADATA } from '../naming';

/** Resource types that hold data, or the keys to it. */
export const STATEFUL_TYPES: readonly string[] = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::SecretsManager::Secret',
  'AWS::SSM::Parameter',
  'Custom::MigrationFlagParameter',
  'AWS::S3::Bucket',
  'AWS::Logs::LogGroup',
  'AWS::KMS::Key',
  'AWS::DynamoDB::Table',
  'AWS::EFS::FileSystem',
];

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
export type Template = { Resources?: Record<string, any>; Metadata?: Record<string, any> };

export interface StatefulChange {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly change: 'replace' | 'delete' | 'unmark';
  /** What forces it: the replacing properties, or why the resource disappears. */
  readonly cause: string;
}

/**
 * Every stateful resource of `before` that `after` would replace or delete. Stacks are matched by name.
 * `watched` are the resource types looked at (default: the stateful ones; a test may watch others that
 * must stay, such as a load balancer).
 */
export function statefulChanges(
  before: Record<string, Template>,
  after: Record<string, Template>,
  watched: readonly string[] = STATEFUL_TYPES,
): StatefulChange[] {
  const changes: StatefulChange[] = [];
  for (const [stack, old] of Object.entries(before)) {
    const next = after[stack];
    const marker = old.Metadata?.[CUTOVER_MARKER_METADATA];
    if (marker && JSON.stringify(next?.Metadata?.[CUTOVER_MARKER_METADATA]) !== JSON.stringify(marker)) {
      changes.push({
        stack,
        logicalId: CUTOVER_MARKER_METADATA,
        type: 'Metadata',
        change: 'unmark',
        cause: `the recorded cutover (${JSON.stringify(marker)}) is gone from the environment file: readers would stop routing to the new service before their first read of the flags; keep services[].cutoverRecorded`,
      });
    }
    for (const [logicalId, resource] of Object.entries(old.Resources ?? {})) {
      const type: string = resource.Type;
      if (!watched.includes(type)) continue;
      const retained =
        resource.DeletionPolicy === 'Retain' || resource.DeletionPolicy === 'RetainExceptOnCreate';
      if (!next) {
        if (!retained)
          changes.push({
            stack,
            logicalId,
            type,
            change: 'delete',
            cause: 'its stack is gone from the new synthesis',
          });
      }
    }
    if (!next) continue;
    const diff = fullDiff(old as never, next as never);
    diff.resources.forEachDifference((logicalId, change) => {
      const type = change.oldResourceType ?? change.resourceType;
      if (!type || !watched.includes(type) || change.isAddition) return;
      const oldResource = old.Resources?.[logicalId];
      if (change.isRemoval) {
        const policy = oldResource?.DeletionPolicy;
        if (policy === 'Retain' || policy === 'RetainExceptOnCreate') return;
        changes.push({
          stack,
          logicalId,
          type,
          change: 'delete',
          cause: 'the resource is removed from the template (logical ID renamed or construct deleted)',
        });
        return;
      }
      const replacing = Object.entries(change.propertyUpdates)
        .filter(
          ([, p]) =>
            p.changeImpact === ResourceImpact.WILL_REPLACE || p.changeImpact === ResourceImpact.MAY_REPLACE,
        )
        .map(([name]) => name);
      if (type === 'Custom::MigrationFlagParameter') {
        // A new parameter name is a new physical resource: the flag and its history would be left behind.
        const nameOf = (r: Template['Resources'] | undefined) => r?.Properties?.Name;
        const [from, to] = [nameOf(oldResource), nameOf(next.Resources?.[logicalId])];
        if (from !== to)
          replacing.push(
            typeof from === 'string' && typeof to === 'string'
              ? `Name: ${flagRenameProblem(from, to)}`
              : 'Name',
          );
      }
      if (
        change.changeImpact === ResourceImpact.WILL_REPLACE ||
        change.changeImpact === ResourceImpact.MAY_REPLACE ||
        replacing.length > 0
      ) {
        changes.push({
          stack,
          logicalId,
          type,
          change: 'replace',
          cause: `changed ${replacing.join(', ') || 'a property that forces replacement'}`,
        });
      }
    });
  }
  return changes;
}

export function formatChanges(changes: readonly StatefulChange[]): string {
  return changes
    .map(
      (c) =>
        `${c.stack}/${c.logicalId} (${c.type}) would be ${{ replace: 'REPLACED', delete: 'DELETED', unmark: 'REMOVED' }[c.change]}: ${c.cause}`,
    )
    .join('\n');
}
