import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { gatewayStackName, operatorPolicyNames, platformStackName, serviceStackName } from '../naming';
import {
  cutoverStateMachinePattern,
  flagPatterns,
  guardRecordPattern,
  livePattern,
  overridePattern,
  underPrefix as underPrefixPattern,
} from '../patterns';
import { parameterArn } from './flag-parameters';
import { wildcardResourceFinding } from './nag';

export interface OperatorPoliciesProps {
  readonly envName: string;
  readonly parameterPrefix: string;
  /**
   * From phase 2 of any service: cutover state machines exist. The policies name the services by patterns
   * (lib/patterns.ts), never one by one, so that their size does not depend on the number of services.
   */
  readonly cutover: boolean;
  /** The flag guard's ARN: operators invoke it to have a write checked at once. */
  readonly guardFunctionArn: string;
  /** The services' write-back functions: the CLI asks them what is pending and drains before users leave. */
  readonly writeBackFunctionArns: readonly string[];
}

/**
 * The IAM managed policies to attach to people's roles, instead of `ssm:PutParameter` on the prefix:
 * - **operator**: everything the CLI needs (reads of every parameter under the prefix and their history,
 *   writes of routing and gateway only, invoking the guard, starting and reading cutover runs), with
 *   explicit denies on writing the live ALB state, the guard's record and the override, and on deleting,
 *   labelling or unlabelling any parameter under the prefix;
 * - **break-glass**: writing (and deleting) the emergency override, key one of two.
 * The hooks' roles have their own, narrower grants.
 */
export class OperatorPolicies extends Construct {
  readonly operator: iam.ManagedPolicy;
  readonly breakGlass: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPoliciesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const names = operatorPolicyNames(props.envName);
    // Name patterns of the environment (lib/patterns.ts): the policies do not grow with services.
    const prefix = props.parameterPrefix;
    const underPrefix = parameterArn(this, underPrefixPattern(prefix));
    const states = (resource: string, name: string) =>
      stack.formatArn({
        service: 'states',
        resource,
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    // The stacks whose ECS services the CLI looks up before a first route change or a first gateway weight
    // above 0 (lib/cli/endpoint-check.ts): the callers' (legacy, gateway) and the services'.
    const stackArn = (name: string) =>
      stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${name}/*` });
    const ecsStacks = [
      platformStackName(props.envName),
      gatewayStackName(props.envName),
      serviceStackName(props.envName, '*'),
    ].map(stackArn);
    const machines = props.cutover ? [cutoverStateMachinePattern(props.envName)] : [];
    const flips = flagPatterns(prefix, ['routing', 'gateway']).map((n) => parameterArn(this, n));
    const overrides = parameterArn(this, overridePattern(prefix));
    const neverWritten = [
      parameterArn(this, livePattern(prefix)),
      parameterArn(this, guardRecordPattern(prefix)),
      overrides,
      ...flagPatterns(prefix, ['cutover']).map((n) => parameterArn(this, n)),
    ];

    this.operator = new iam.ManagedPolicy(this, 'Operator', {
      managedPolicyName: names.operator,
      description: `${props.envName} migration operators: the CLI's reads and flag flips; no deletes, labels or writes of live state`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadFlags',
          actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParameterHistory'],
          resources: [underPrefix],
        }),
        new iam.PolicyStatement({
          sid: 'FlipRoutingAndGateway',
          actions: ['ssm:PutParameter'],
          resources: flips,
        }),
        new iam.PolicyStatement({
          sid: 'CheckAWriteAtOnce',
          actions: ['lambda:InvokeFunction'],
          resources: [props.guardFunctionArn],
        }),
        ...(props.writeBackFunctionArns.length > 0
          ? [
              new iam.PolicyStatement({
                sid: 'WriteBackBeforeUsersLeave',
                actions: ['lambda:InvokeFunction'],
                resources: [...props.writeBackFunctionArns],
              }),
            ]
          : []),
        ...(machines.length > 0
          ? [
              new iam.PolicyStatement({
                sid: 'RunCutover',
                actions: ['states:StartExecution', 'states:ListExecutions'],
                resources: machines.map((m) => states('stateMachine', m)),
              }),
              new iam.PolicyStatement({
                sid: 'FollowCutover',
                actions: ['states:DescribeExecution'],
                resources: machines.map((m) => states('execution', `${m}:*`)),
              }),
            ]
          : []),
        new iam.PolicyStatement({
          sid: 'FindEcsServices',
          actions: ['cloudformation:ListStackResources'],
          resources: ecsStacks,
        }),
        new iam.PolicyStatement({
          sid: 'CheckCallerTasksResolveServices',
          actions: ['ecs:DescribeServices', 'ecs:ListTasks', 'ecs:DescribeTasks'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'FindStateMachines',
          actions: ['states:ListStateMachines'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'NeverDeleteOrLabel',
          effect: iam.Effect.DENY,
          actions: [
            'ssm:DeleteParameter',
            'ssm:DeleteParameters',
            'ssm:LabelParameterVersion',
            'ssm:UnlabelParameterVersion',
          ],
          resources: [underPrefix],
        }),
        new iam.PolicyStatement({
          sid: 'NeverWriteLiveStateRecordOrOverride',
          effect: iam.Effect.DENY,
          actions: ['ssm:PutParameter'],
          resources: neverWritten,
        }),
      ],
    });
    Validations.of(this.operator).acknowledge(
      {
        id: wildcardResourceFinding(this, underPrefix),
        reason:
          'The CLI reads every parameter under the migration prefix (flags, live ALB state, the guard record) for status and history; it writes none of them but routing and gateway.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'states:ListStateMachines has no resource-level permission (the CLI finds the cutover state machine by name); ecs:DescribeServices, ListTasks and DescribeTasks are reads of services and tasks whose cluster name CloudFormation generates (the CLI checks that every legacy task started after a service endpoint before its first route change, and every gateway task before its first gateway weight above 0).',
      },
      ...ecsStacks.map((arn) => ({
        id: wildcardResourceFinding(this, arn),
        reason:
          'The platform, gateway and service stacks of this environment, by name (any stack id): the CLI lists their resources to find the legacy, gateway and service ECS services.',
      })),
      ...machines.flatMap((m) => [
        {
          id: wildcardResourceFinding(this, states('execution', `${m}:*`)),
          reason:
            "Following a cutover run: executions of the cutover state machines of this environment's services, whose names are not known in advance (one statement for all services, lib/patterns.ts).",
        },
        {
          id: wildcardResourceFinding(this, states('stateMachine', m)),
          reason:
            "The cutover state machines of this environment's services, by their conventional name <name>-<service>-cutover: one statement for all of them keeps the policy's size independent of the number of services.",
        },
      ]),
      ...flips.map((arn) => ({
        id: wildcardResourceFinding(this, arn),
        reason:
          "The routing and gateway flags of every service of this environment (under its parameter prefix): the CLI's flips; one statement keeps the policy's size independent of the number of services.",
      })),
      ...props.writeBackFunctionArns.map((arn) => ({
        id: wildcardResourceFinding(this, arn),
        reason:
          "The write-back functions of this environment's services, by their conventional name <name>-<service>-write-back; one statement for all of them keeps the policy's size independent of the number of services.",
      })),
    );

    this.breakGlass = new iam.ManagedPolicy(this, 'BreakGlass', {
      managedPolicyName: names.breakGlass,
      description: `${props.envName} migration break-glass: write or delete the emergency override (key one of two)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'EmergencyOverride',
          actions: ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:GetParameter', 'ssm:GetParameterHistory'],
          resources: [overrides],
        }),
      ],
    });
    Validations.of(this.breakGlass).acknowledge({
      id: wildcardResourceFinding(this, overrides),
      reason:
        "The emergency override of every service of this environment (under its parameter prefix): one statement keeps the policy's size independent of the number of services.",
    });
  }
}
