/**
 * The deploy's custom resource for one runtime-owned parameter (a flag or a live ALB value), pure: what
 * to do when CloudFormation creates, updates or deletes it. The value belongs to the running system:
 * the deploy writes it once, on create, and never again.
 */
import { flagRenameProblem } from '../../lib/flags/parameters';

/** What the template says about the parameter (the custom resource's properties). */
export interface ParameterProperties {
  readonly Name: string;
  /** The initial value, written only when the parameter is created. */
  readonly Value: string;
  readonly Tier: 'Standard' | 'Advanced';
  readonly Description: string;
  readonly Tags: readonly { readonly Key: string; readonly Value: string }[];
  /** `true` for a flag: label the version this deploy created `last-good` (readers read that label). */
  readonly Label: 'true' | 'false';
  /** The data stack's id: which build of the environment created the parameter. */
  readonly Identity: string;
  /** `true` to take over a parameter created by another environment or an earlier build (flags.adoptExisting). */
  readonly AdoptExisting: 'true' | 'false';
}

export const IDENTITY_TAG = 'migration:identity';

/** What SSM holds under the name, when a create finds it taken. */
export interface ExistingParameter {
  readonly versions: readonly { readonly value: string; readonly labels: readonly string[] }[];
  readonly tags: Readonly<Record<string, string>>;
}

export type CreateDecision =
  /** The parameter was taken over as it is (its value and labels stay). */
  | { readonly action: 'adopt'; readonly label: boolean; readonly retag: boolean; readonly why: string }
  | { readonly action: 'fail'; readonly reason: string };

/**
 * A create found the name taken. Adopt it only when that cannot smuggle in a live value from another
 * environment: it is this stack's own (a retried create), or it still holds only the initial value a
 * deploy wrote (an earlier, failed first create), or adoption is configured explicitly.
 */
export function onExisting(props: ParameterProperties, existing: ExistingParameter): CreateDecision {
  const owner = existing.tags[IDENTITY_TAG];
  if (owner === props.Identity)
    return {
      action: 'adopt',
      label: false,
      retag: false,
      why: 'created by this stack before (a retried create)',
    };
  const pristine =
    existing.versions.length === 1 &&
    existing.versions[0].value === props.Value &&
    existing.versions[0].labels.every((l) => l === 'last-good');
  if (pristine)
    return {
      action: 'adopt',
      label: props.Label === 'true',
      retag: true,
      why: 'it holds only the initial value a deploy wrote (an earlier create that rolled back)',
    };
  if (props.AdoptExisting === 'true')
    return { action: 'adopt', label: false, retag: true, why: 'flags.adoptExisting is true' };
  return {
    action: 'fail',
    reason:
      `${props.Name} already exists with ${existing.versions.length} version(s), created by ${owner ? `another build of this environment (${owner})` : 'something other than this app'}. ` +
      'It may hold a live value, such as a completed cutover, that would force every user onto an empty database. ' +
      `If that environment is gone, delete its parameters under ${props.Name.replace(/\/[^/]+(\/[^/]+)?$/, '/')} and deploy again; ` +
      'to take them over with their values on purpose, set flags.adoptExisting to true and deploy.',
  };
}

/**
 * An update that renames the parameter (flags.parameterPrefix, or a service renamed): refused, naming
 * the way out (lib/flags/parameters.ts). Checked before anything is read: the new name does not exist.
 * `physicalId` is the name the parameter was created under (the resource's physical id, which an update
 * never changes), so the rollback's update, back to that name, passes.
 */
export function onRename(physicalId: string | undefined, props: ParameterProperties): string | undefined {
  if (physicalId === undefined || physicalId === props.Name) return undefined;
  return flagRenameProblem(physicalId, props.Name);
}

/**
 * An update may change tags and description, never the value. Going from the advanced tier back to
 * standard is refused: SSM cannot downgrade a parameter. `currentTier` is the tier of the newest version.
 */
export function onUpdate(
  props: ParameterProperties,
  currentTier: string | undefined,
): { readonly fail?: string } {
  if (props.Tier === 'Standard' && currentTier === 'Advanced') {
    return {
      fail: `${props.Name} is in the advanced tier and SSM cannot move a parameter back to standard: set flags.tier back to "advanced" in the environment file and deploy again.`,
    };
  }
  return {};
}
