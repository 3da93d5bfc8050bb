import { Aws, CustomResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FLAG_KINDS, INITIAL_DOCUMENTS, serializeFlag, type TIER_MAX_BYTES } from '../flags/documents';
import {
  type FlagParameterNames,
  flagParameterNames,
  livePinParameterName,
  liveWeightParameterNames,
} from '../flags/parameters';
import { PIN_PINNED } from '../gateway/alb-rules';
import { idOf } from '../naming';
import { HookFunction } from './hook-function';

export interface FlagParametersProps {
  /** Path prefix from the config, e.g. `/demo/migration`. */
  readonly parameterPrefix: string;
  readonly serviceName: string;
  /** SSM tier of the routing parameter (its allowlist can be long); the others are always standard. */
  readonly routingTier: keyof typeof TIER_MAX_BYTES;
  /** Tags for the parameters besides the service and flag kind. Changing them never touches a value. */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Take over parameters of the same names that another environment, or an earlier build of this one,
   * left behind, with their values (flags.adoptExisting).
   * @default false - such a deploy fails with a message naming the parameter
   */
  readonly adoptExisting?: boolean;
}

/**
 * The flag parameters of one extracted service (routing, cutover, gateway) and its live ALB values,
 * created with the safe initial documents of the flag contract.
 *
 * Not `AWS::SSM::Parameter`: CloudFormation would own the value and put it back whenever the resource is
 * updated (a tag or description change is enough: aws-cdk issues 25949 and 36649), undoing a flip made by
 * an operator or a hook. Instead a custom resource (lambda/flag-parameter) calls `PutParameter` with
 * `Overwrite: false` once, on create, tags the parameter with the stack's identity and labels the version
 * it created `last-good` (readers read that label); an update only re-applies tags; a delete leaves the
 * parameter in place. A name that is already taken is adopted only when that cannot bring in a live value
 * from another environment (see lambda/flag-parameter/decide.ts). See docs/decisions/0002.
 */
export class FlagParameters extends Construct {
  /** Parameter names: a contract shared with the hooks, the CLI and the services. */
  readonly names: FlagParameterNames;
  /** The live ALB weights, written by the traffic-switch hook and read by the listener rules at deploy. */
  readonly liveWeights: ReturnType<typeof liveWeightParameterNames>;
  private readonly provider: HookFunction;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: FlagParametersProps,
  ) {
    super(scope, id);
    this.names = flagParameterNames(props.parameterPrefix, props.serviceName);
    this.liveWeights = liveWeightParameterNames(props.parameterPrefix, props.serviceName);
    const livePin = livePinParameterName(props.parameterPrefix, props.serviceName);
    const all = [...Object.values(this.names), ...Object.values(this.liveWeights), livePin];

    this.provider = new HookFunction(this, 'Provider', {
      hook: 'flag-parameter',
      description: `${props.serviceName}: creates the migration flag parameters once, never resets them`,
      environment: {},
    });
    this.provider.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ssm:PutParameter',
          'ssm:LabelParameterVersion',
          'ssm:AddTagsToResource',
          'ssm:ListTagsForResource',
          'ssm:GetParameterHistory',
        ],
        resources: all.map((name) => parameterArn(this, name)),
      }),
    );

    for (const kind of FLAG_KINDS) {
      this.runtimeParameter(idOf(kind), this.names[kind], serializeFlag(kind, INITIAL_DOCUMENTS[kind]), {
        kind,
        label: true,
        tier: kind === 'routing' ? props.routingTier : 'standard',
        description: `${props.serviceName} migration flag: ${kind} (docs/flag-contract.md). Written by operators and hooks, never by deploys.`,
      });
    }
    this.runtimeParameter('LiveLegacyWeight', this.liveWeights.legacy, '100', {
      kind: 'live-legacy-weight',
      label: false,
      tier: 'standard',
      description: `${props.serviceName}: ALB weight of the monolith as applied by the traffic-switch hook. Read by deploys, written only by the hook.`,
    });
    this.runtimeParameter('LiveGatewayWeight', this.liveWeights.gateway, '0', {
      kind: 'live-gateway-weight',
      label: false,
      tier: 'standard',
      description: `${props.serviceName}: ALB weight of the gateway as applied by the traffic-switch hook. Read by deploys, written only by the hook.`,
    });
    this.runtimeParameter('LiveAlbPin', livePin, PIN_PINNED, {
      kind: 'live-alb-pin',
      label: false,
      tier: 'standard',
      description: `${props.serviceName}: pin of the native-rewrite routes (lib/gateway/alb-rules.ts) as applied by the traffic-switch hook.`,
    });
  }

  /**
   * A parameter whose value belongs to the running system: created once, then only re-tagged. The
   * construct path `<id>/Resource` keeps the logical ids of the earlier AwsCustomResource-based version.
   */
  private runtimeParameter(
    id: string,
    name: string,
    initialValue: string,
    options: { kind: string; label: boolean; tier: 'standard' | 'advanced'; description: string },
  ): void {
    const tags = [
      ...Object.entries(this.props.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      { Key: 'migration:service', Value: this.props.serviceName },
      { Key: 'migration:flag', Value: options.kind },
    ];
    new CustomResource(new Construct(this, id), 'Resource', {
      serviceToken: this.provider.function.functionArn,
      resourceType: 'Custom::MigrationFlagParameter',
      properties: {
        Name: name,
        Value: initialValue,
        Tier: options.tier === 'advanced' ? 'Advanced' : 'Standard',
        Description: options.description,
        Tags: tags,
        Label: String(options.label),
        // Which build of the environment created the parameter: a rebuilt one must not inherit its values.
        Identity: Aws.STACK_ID,
        AdoptExisting: String(this.props.adoptExisting ?? false),
      },
    });
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
