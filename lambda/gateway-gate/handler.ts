/**
 * gateway-gate: the custom resource provider that stands before a service's ALB rules, target group and
 * ECS service in its stack (they depend on it). It refuses a deploy that takes the service's routes out
 * of a mode while traffic still goes there, and answers the pin the `alb`-mode pin rule is made with
 * (decide.ts). It only reads: the checked gateway document and the live values of the traffic switch.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { parseFlag } from '../../lib/flags/documents';
import { isNotFound, readChecked } from '../../lib/flags/ssm-store';
import { GATE_PIN_ATTRIBUTE } from '../../lib/hooks/gate-contract';
import { type ProviderResult, propertiesOf, serveProvider } from '../shared/custom-resource';
import { jsonLogger, type Logger } from '../shared/log';
import { type GateProperties, type GateReading, gateDecision, needsReading } from './decide';

export interface GateDependencies {
  readonly ssm: SSMClient;
  readonly cloudFormation: CloudFormationClient;
  readonly logger: Logger;
}

export async function gate(
  event: CloudFormationCustomResourceEvent,
  deps: GateDependencies,
): Promise<ProviderResult> {
  const { props, old } = propertiesOf<GateProperties>(event);
  const reading = needsReading(event.RequestType, props, old)
    ? await read(deps, props, event.StackId)
    : undefined;
  const decision = gateDecision(event.RequestType, props, old, reading);
  if (!decision.allow) return { status: 'FAILED', reason: decision.reason };
  return { status: 'SUCCESS', reason: decision.why, data: { [GATE_PIN_ATTRIBUTE]: decision.pin } };
}

async function read(deps: GateDependencies, props: GateProperties, stackId: string): Promise<GateReading> {
  const { ssm } = deps;
  const [stack] =
    (await deps.cloudFormation.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks ?? [];
  const rollingBack = /ROLLBACK_IN_PROGRESS$/.test(stack?.StackStatus ?? '');
  const name = props.GatewayParameter;
  const checked = (await readChecked(ssm, [name])).get(name);
  if (checked?.status !== 'ok')
    throw new Error(
      `${name}:last-good could not be read (${checked?.status}${checked?.status === 'error' ? `: ${String(checked.error)}` : ''}); the gate cannot tell where the service's traffic goes`,
    );
  const parsed = parseFlag('gateway', checked.text);
  if (!parsed.ok) throw new Error(`${name}:last-good does not parse: ${parsed.errors.join('; ')}`);
  const [liveGatewayWeight, livePin] = await Promise.all([
    plain(ssm, props.LiveGatewayWeightParameter),
    plain(ssm, props.LivePinParameter),
  ]);
  return {
    rollingBack,
    weight: parsed.value.weight,
    ...(liveGatewayWeight !== undefined ? { liveGatewayWeight } : {}),
    ...(livePin !== undefined ? { livePin } : {}),
  };
}

async function plain(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

let dependencies: GateDependencies | undefined;

export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  dependencies ??= {
    ssm: new SSMClient({}),
    cloudFormation: new CloudFormationClient({}),
    logger: jsonLogger('gateway-gate'),
  };
  const deps = dependencies;
  const props = event.ResourceProperties as unknown as GateProperties;
  await serveProvider(event, deps.logger, () => gate(event, deps), `${props.Service}-gateway-gate`);
}
