/**
 * The gateway gate against the emulator: the calls it makes to decide (the checked gateway document by
 * its label, the traffic switch's live values, its own stack's status) answer as the decision needs.
 */
import { randomBytes } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { LabelParameterVersionCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { gate } from '../../lambda/gateway-gate/handler';
import { livePinParameterName, liveWeightParameterNames } from '../../lib/flags/parameters';
import { PIN_PINNED, PIN_RELEASED } from '../../lib/gateway/alb-rules';
import type { AlbRouting, GateProperties } from '../../lib/hooks/gate-contract';
import { deployFlags, isolatedConfig, motoClientConfig, motoClients } from '../helpers/moto';

const { ssm } = motoClients();
const cloudFormation = new CloudFormationClient(motoClientConfig());
afterAll(() => {
  ssm.destroy();
  cloudFormation.destroy();
});
const deps = { ssm, cloudFormation, logger: { log: () => undefined, metric: () => undefined } };

async function put(name: string, value: string, label = false) {
  const out = await ssm.send(
    new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
  );
  if (label)
    await ssm.send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: out.Version, Labels: ['last-good'] }),
    );
}

/** A service's flags and live values as its data stack and the traffic switch leave them, and its stack. */
async function deployed() {
  const { config } = isolatedConfig();
  const prefix = config.flags.parameterPrefix;
  const names = await deployFlags(ssm, config);
  const live = {
    weight: liveWeightParameterNames(prefix, 'users').gateway,
    pin: livePinParameterName(prefix, 'users'),
  };
  await put(live.weight, '0');
  await put(live.pin, PIN_PINNED);
  const stackId = (
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: `users-service-${randomBytes(3).toString('hex')}`,
        TemplateBody: JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } }),
      }),
    )
  ).StackId as string;
  const props = (routing: AlbRouting): GateProperties => ({
    Service: 'users',
    Routing: routing,
    GatewayParameter: names.gateway,
    LiveGatewayWeightParameter: live.weight,
    LivePinParameter: live.pin,
  });
  const update = (to: AlbRouting, from: AlbRouting) =>
    gate(
      {
        RequestType: 'Update',
        ServiceToken: 'x',
        ResponseURL: 'https://example.invalid/response',
        StackId: stackId,
        RequestId: 'r',
        LogicalResourceId: 'GatewayGate',
        PhysicalResourceId: 'users-gateway-gate',
        ResourceType: 'Custom::MigrationGatewayGate',
        ResourceProperties: { ServiceToken: 'x', ...props(to) },
        OldResourceProperties: { ServiceToken: 'x', ...props(from) },
      } as CloudFormationCustomResourceEvent,
      deps,
    );
  return { names, live, update };
}

describe('the gateway gate against the emulator', () => {
  it('refuses leaving krakend mode while the checked weight is above 0, whatever an unchecked write says', async () => {
    const { names, live, update } = await deployed();
    await put(names.gateway, '{"weight":50}', true);
    await put(live.weight, '50');
    // An unchecked write of 0 (not labelled yet) changes nothing: readers and the gate read last-good.
    await put(names.gateway, '{"weight":0}');
    expect(await update('none', 'krakend')).toEqual({
      status: 'FAILED',
      reason: expect.stringContaining('its gateway weight is 50'),
    });
    await put(names.gateway, '{"weight":0}', true);
    await put(live.weight, '0');
    expect(await update('none', 'krakend')).toMatchObject({ status: 'SUCCESS' });
  });

  it('starts the alb pin rule pinned on entering alb mode, and keeps the live pin while it stays', async () => {
    const { live, update } = await deployed();
    await put(live.pin, PIN_RELEASED);
    expect(await update('alb', 'krakend')).toMatchObject({ status: 'SUCCESS', data: { Pin: PIN_PINNED } });
    expect(await update('alb', 'alb')).toMatchObject({ status: 'SUCCESS', data: { Pin: PIN_RELEASED } });
  });
});
