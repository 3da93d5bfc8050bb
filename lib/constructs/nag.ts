import { type Acknowledgment, Validations } from 'aws-cdk-lib';
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
