import { Aws, CustomResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type AlbRouting, GATE_PIN_ATTRIBUTE, type GateProperties } from '../hooks/gate-contract';
import { parameterArn } from './flag-parameters';
import { HookFunction } from './hook-function';

export type { AlbRouting };

export interface GatewayGateProps {
  readonly serviceName: string;
  /** How this deploy routes the service's paths at the ALB: `none` before phase 3, else its mode. */
  readonly routing: AlbRouting;
  /** The service's gateway flag parameter (the checked version is read). */
  readonly gatewayParameter: string;
  /** The live values the traffic switch writes: the gateway's weight, the alb pin. */
  readonly liveGatewayWeightParameter: string;
  readonly livePinParameter: string;
  /**
   * In `alb` mode: everything the pin rule is made of but its pin (listener, priority, route regexes,
   * the monolith's target group), so that the gate answers the current pin whenever the rule changes.
   */
  readonly pinRuleInputs?: string;
}

/**
 * Stands before a service's ALB rules, target group and ECS service in its stack (make them depend on
 * `resource`): a deploy that takes the service's routes out of a mode (phase 3 -> 2, `alb` <-> `krakend`)
 * fails here, before anything changes, while the checked gateway weight is above 0 or the traffic switch
 * has not applied 0 yet; and `pin` is the pin the `alb`-mode pin rule is made with: pinned when the mode
 * is entered (its target group is new and empty), the live pin otherwise (lambda/gateway-gate). It only
 * reads. See docs/decisions/0018.
 */
export class GatewayGate extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: GatewayGateProps) {
    super(scope, id);
    const provider = new HookFunction(this, 'Provider', {
      hook: 'gateway-gate',
      description: `${props.serviceName}: refuses a mode or phase change out of phase 3 while traffic goes there`,
      environment: {},
    });
    provider.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter', 'ssm:GetParameters'],
        resources: [props.gatewayParameter, props.liveGatewayWeightParameter, props.livePinParameter].map(
          (name) => parameterArn(this, name),
        ),
      }),
    );
    // Whether its own stack is rolling back: a rollback is never refused.
    provider.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [Aws.STACK_ID] }),
    );
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.function.functionArn,
      resourceType: 'Custom::MigrationGatewayGate',
      properties: {
        Service: props.serviceName,
        Routing: props.routing,
        GatewayParameter: props.gatewayParameter,
        LiveGatewayWeightParameter: props.liveGatewayWeightParameter,
        LivePinParameter: props.livePinParameter,
        ...(props.pinRuleInputs !== undefined ? { PinRule: props.pinRuleInputs } : {}),
      } satisfies GateProperties,
    });
  }

  /** The pin of the `alb`-mode pin rule (`Fn::GetAtt`). */
  get pin(): string {
    return this.resource.getAttString(GATE_PIN_ATTRIBUTE);
  }
}
