import { type Acknowledgment, Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** Publishing to the alert topic, which is encrypted with its own key, needs that key's data-key actions. */
export const ENCRYPTED_TOPIC_PUBLISH: Acknowledgment = {
  id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
  reason:
    'Publishing to an SNS topic under a customer key needs the GenerateDataKey family on that one key (the resource is the key ARN).',
};

/**
 * Acknowledges cdk-nag findings on the default policy of a role (where CDK's grants land), the narrowest
 * construct that carries them. Call it after the grants: the policy exists only once something is granted.
 */
export function acknowledgeOnDefaultPolicy(
  role: IConstruct | undefined,
  ...acknowledgments: Acknowledgment[]
): void {
  const policy = role?.node.tryFindChild('DefaultPolicy');
  if (policy) Validations.of(policy).acknowledge(...acknowledgments);
}

/**
 * The id of cdk-nag's wildcard finding (AwsSolutions-IAM5) for one resource string of a policy, spelled
 * the way cdk-nag spells it (tokens flattened, e.g. `<AWS::Region>`), so that an acknowledgement names
 * exactly that resource and nothing else.
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`;
}
