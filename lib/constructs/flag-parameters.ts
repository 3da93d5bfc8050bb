import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { FLAG_KINDS, INITIAL_DOCUMENTS, serializeFlag, type TIER_MAX_BYTES } from '../flags/documents';
import {
  type FlagParameterNames,
  flagParameterNames,
  livePinParameterName,
  liveWeightParameterNames,
} from '../flags/parameters';
import { PIN_PINNED } from '../gateway/alb-rules';

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
  /** The live ALB weights, written by the traffic-switch hook and read by the listener rules at deploy. */
  readonly liveWeights: ReturnType<typeof liveWeightParameterNames>;
  private readonly logGroup: logs.LogGroup;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: FlagParametersProps,
  ) {
    super(scope, id);
    this.names = flagParameterNames(props.parameterPrefix, props.serviceName);
    this.liveWeights = liveWeightParameterNames(props.parameterPrefix, props.serviceName);
    this.logGroup = new logs.LogGroup(this, 'ProviderLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const kind of FLAG_KINDS) {
      this.runtimeParameter(
        kind[0].toUpperCase() + kind.slice(1),
        this.names[kind],
        serializeFlag(kind, INITIAL_DOCUMENTS[kind]),
        {
          kind,
          tier: kind === 'routing' ? props.routingTier : 'standard',
          description: `${props.serviceName} migration flag: ${kind} (docs/flag-contract.md). Written by operators and hooks, never by deploys.`,
        },
      );
    }
    this.runtimeParameter('LiveLegacyWeight', this.liveWeights.legacy, '100', {
      kind: 'live-legacy-weight',
      tier: 'standard',
      description: `${props.serviceName}: ALB weight of the monolith as applied by the traffic-switch hook. Read by deploys, written only by the hook.`,
    });
    this.runtimeParameter('LiveGatewayWeight', this.liveWeights.gateway, '0', {
      kind: 'live-gateway-weight',
      tier: 'standard',
      description: `${props.serviceName}: ALB weight of the gateway as applied by the traffic-switch hook. Read by deploys, written only by the hook.`,
    });

    this.runtimeParameter(
      'LiveAlbPin',
      livePinParameterName(props.parameterPrefix, props.serviceName),
      PIN_PINNED,
      {
        kind: 'live-alb-pin',
        tier: 'standard',
        description: `${props.serviceName}: pin of the native-rewrite routes (lib/gateway/alb-rules.ts) as applied by the traffic-switch hook.`,
      },
    );

    const provider = Stack.of(this).node.tryFindChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    const providerRole = provider?.node.tryFindChild('ServiceRole');
    if (providerRole) {
      Validations.of(providerRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The CDK-provided AwsCustomResource function only writes its own logs with the AWS basic execution policy.',
      });
    }
  }

  /** A parameter whose value belongs to the running system: created once, then only re-tagged. */
  private runtimeParameter(
    id: string,
    name: string,
    initialValue: string,
    options: { kind: string; tier: 'standard' | 'advanced'; description: string },
  ) {
    const tags = [
      ...Object.entries(this.props.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      { Key: 'migration:service', Value: this.props.serviceName },
      { Key: 'migration:flag', Value: options.kind },
    ];
    const parameter = new cr.AwsCustomResource(this, id, {
      resourceType: 'Custom::MigrationFlagParameter',
      onCreate: {
        service: 'SSM',
        action: 'putParameter',
        parameters: {
          Name: name,
          Value: initialValue,
          Type: 'String',
          Tier: options.tier === 'advanced' ? 'Advanced' : 'Standard',
          Description: options.description,
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
          resources: [parameterArn(this, name)],
        }),
      ]),
      logGroup: this.logGroup,
      installLatestAwsSdk: false,
    });
    parameter.node.addDependency(this.logGroup);
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
