/**
 * CDK splits a role's default policy that outgrows IAM's inline limit into `OverflowPolicy<n>` managed
 * policies, at synth, in an aspect. The statements move, the cdk-nag acknowledgements on the default
 * policy do not: at about 20 services the synth failed on a wildcard finding that was acknowledged, just
 * on the other half of the same policy. This aspect gives each overflow policy the acknowledgements of
 * the default policy it was split from: the same statements, the same reasons, nothing wider.
 */
import { AspectPriority, Aspects, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** The acknowledgements recorded on a construct (Validations.acknowledge stores them as metadata). */
export function acknowledgementsOf(construct: IConstruct): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of construct.node.metadata) {
    if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) Object.assign(out, entry.data);
  }
  return out;
}

export function acknowledgeOverflowPolicies(scope: IConstruct): void {
  Aspects.of(scope).add(
    {
      visit(node: IConstruct) {
        if (!(node instanceof iam.Role)) return;
        const defaultPolicy = node.node.tryFindChild('DefaultPolicy');
        if (!defaultPolicy) return;
        const acknowledged = acknowledgementsOf(defaultPolicy);
        if (Object.keys(acknowledged).length === 0) return;
        for (const child of node.node.children) {
          if (!(child instanceof iam.ManagedPolicy) || !child.node.id.startsWith('OverflowPolicy')) continue;
          const already = acknowledgementsOf(child);
          for (const [id, reason] of Object.entries(acknowledged)) {
            if (!(id in already))
              child.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [id]: reason });
          }
        }
      },
    },
    // After the roles' own (mutating) aspect has split their policies.
    { priority: AspectPriority.READONLY },
  );
}
