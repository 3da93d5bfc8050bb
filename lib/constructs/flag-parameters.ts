import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  FLAG_KINDS,
  type FlagKind,
  INITIAL_DOCUMENTS,
  serializeFlag,
  type TIER_MAX_BYTES,
} from '../flags/documents';
import { type FlagParameterNames, flagParameterNames } from '../flags/parameters';

export interface FlagParametersProps {
  /** Path prefix from the config, e.g. `/demo/migration`. */
  readonly parameterPrefix: string;
  readonly serviceName: string;
  /** SSM tier of the routing parameter (its allowlist can be long); the others are always standard. */
  readonly routingTier: keyof typeof TIER_MAX_BYTES;
  /** Tags for the parameters besides the service and flag kind. Changing them never touches a value. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The flag parameters of one extracted service (routing, cutover, gateway), created with the safe
 * initial documents of the flag contract.
 *
 * Not `AWS::SSM::Parameter`: CloudFormation would own the value and put it back whenever the resource is
 * updated (a tag or description change is enough: aws-cdk issues 25949 and 36649), undoing a flip made by
 * an operator or a hook. Instead a custom resource calls `PutParameter` with `Overwrite: false` once, on
 * create; an update only re-applies tags; a delete leaves the parameter in place. An existing parameter
 * of the same name is adopted with its value. See docs/decisions/0002-runtime-owned-state.md.
 */
export class FlagParameters extends Construct {
  /** Parameter names: a contract shared with the hooks, the CLI and the services. */
  readonly names: FlagParameterNames;
  /** Parameter ARNs, for exact IAM grants. */
  readonly arns: { readonly [K in FlagKind]: string };

  constructor(scope: Construct, id: string, props: FlagParametersProps) {
    super(scope, id);
    this.names = flagParameterNames(props.parameterPrefix, props.serviceName);
    const stack = Stack.of(this);
    const arnOf = (name: string) => parameterArn(this, name);
    this.arns = Object.fromEntries(
      FLAG_KINDS.map((kind) => [kind, arnOf(this.names[kind])]),
    ) as FlagParameters['arns'];

    const logGroup = new logs.LogGroup(this, 'ProviderLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const kind of FLAG_KINDS) {
      const name = this.names[kind];
      const tags = [
        ...Object.entries(props.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
        { Key: 'migration:service', Value: props.serviceName },
        { Key: 'migration:flag', Value: kind },
      ];
      const parameter = new cr.AwsCustomResource(this, kind[0].toUpperCase() + kind.slice(1), {
        resourceType: 'Custom::MigrationFlagParameter',
        onCreate: {
          service: 'SSM',
          action: 'putParameter',
          parameters: {
            Name: name,
            Value: serializeFlag(kind, INITIAL_DOCUMENTS[kind]),
            Type: 'String',
            Tier: kind === 'routing' && props.routingTier === 'advanced' ? 'Advanced' : 'Standard',
            Description: `${props.serviceName} migration flag: ${kind} (docs/flag-contract.md). Written by operators and hooks, never by deploys.`,
            Overwrite: false,
            Tags: tags,
          },
          // A parameter that outlived an earlier stack keeps its live value.
          ignoreErrorCodesMatching: 'ParameterAlreadyExists',
          physicalResourceId: cr.PhysicalResourceId.of(name),
        },
        onUpdate: {
          service: 'SSM',
          action: 'addTagsToResource',
          parameters: { ResourceType: 'Parameter', ResourceId: name, Tags: tags },
          physicalResourceId: cr.PhysicalResourceId.of(name),
        },
        // No onDelete: removing the stack or the construct leaves the parameter and its history in place.
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({
            actions: ['ssm:PutParameter', 'ssm:AddTagsToResource'],
            resources: [arnOf(name)],
          }),
        ]),
        logGroup,
        installLatestAwsSdk: false,
      });
      parameter.node.addDependency(logGroup);
    }

    const provider = stack.node.tryFindChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The CDK-provided AwsCustomResource function only writes its own logs with the AWS basic execution policy.',
      });
    }
  }
}

/** The ARN of a parameter named by its full path, in the scope's account and region. */
export function parameterArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: name.replace(/^\//, ''),
  });
}
