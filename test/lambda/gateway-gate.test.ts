import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, GetParametersCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  type AlbRouting,
  type GateProperties,
  type GateReading,
  gateDecision,
  needsReading,
} from '../../lambda/gateway-gate/decide';
import { gate } from '../../lambda/gateway-gate/handler';
import { PIN_PINNED, PIN_RELEASED } from '../../lib/gateway/alb-rules';

const ssmMock = mockClient(SSMClient);
const cfnMock = mockClient(CloudFormationClient);

const props = (routing: AlbRouting): GateProperties => ({
  Service: 'users',
  Routing: routing,
  GatewayParameter: '/demo/migration/users/gateway',
  LiveGatewayWeightParameter: '/demo/migration/users/live/gateway-weight',
  LivePinParameter: '/demo/migration/users/live/alb-pin',
  ...(routing === 'alb' ? { PinRule: 'listener 1 (body) tg' } : {}),
});

/** What the switch leaves at weight w: the live values of the mode it applied it in. */
const applied = (w: number, mode: 'krakend' | 'alb'): GateReading => ({
  rollingBack: false,
  weight: w,
  liveGatewayWeight: mode === 'krakend' ? String(w) : '0',
  livePin: mode === 'alb' ? (w === 0 ? PIN_PINNED : PIN_RELEASED) : PIN_PINNED,
});

const update = (from: AlbRouting, to: AlbRouting, reading: GateReading) =>
  gateDecision('Update', props(to), props(from), reading);

describe('gateway gate: the transition matrix', () => {
  // Every change of how the ALB routes a service, at weight 0 and above, as the switch leaves it.
  const transitions: [AlbRouting, AlbRouting][] = [
    ['none', 'krakend'],
    ['none', 'alb'],
    ['krakend', 'none'],
    ['alb', 'none'],
    ['krakend', 'alb'],
    ['alb', 'krakend'],
    ['krakend', 'krakend'],
    ['alb', 'alb'],
    ['none', 'none'],
  ];
  const leaving = (from: AlbRouting, to: AlbRouting) => from !== 'none' && from !== to;

  it.each(transitions)('%s -> %s: allowed at weight 0 once applied', (from, to) => {
    const mode = from === 'alb' ? 'alb' : 'krakend';
    expect(update(from, to, applied(0, mode)).allow).toBe(true);
  });

  it.each(transitions)('%s -> %s: at weight 50, refused exactly when the routes leave a mode', (from, to) => {
    const mode = from === 'alb' ? 'alb' : 'krakend';
    const decision = update(from, to, applied(50, mode));
    expect(decision.allow).toBe(!leaving(from, to));
    if (!decision.allow) {
      expect(decision.reason).toContain('its gateway weight is 50');
      expect(decision.reason).toContain('npm run migrate -- gateway users 0');
    }
  });

  it('refuses a change out of a mode until the switch has applied weight 0 (the live values)', () => {
    const notYet = { rollingBack: false, weight: 0, liveGatewayWeight: '30', livePin: PIN_RELEASED };
    expect(update('krakend', 'none', notYet)).toMatchObject({
      allow: false,
      reason: expect.stringMatching(
        /phase 3 -> 2 \(out of krakend mode\) while the traffic switch has not applied weight 0 yet \(\/demo\/migration\/users\/live\/gateway-weight says 30\)/,
      ),
    });
    expect(update('alb', 'krakend', notYet)).toMatchObject({
      allow: false,
      reason: expect.stringMatching(
        /alb -> krakend mode while the traffic switch has not applied weight 0 yet \(.*alb-pin says #\)/,
      ),
    });
  });

  it('creates the alb pin rule pinned on entering alb mode, even when an old alb period left it released', () => {
    const stale = { rollingBack: false, weight: 0, liveGatewayWeight: '0', livePin: PIN_RELEASED };
    expect(update('krakend', 'alb', stale)).toMatchObject({ allow: true, pin: PIN_PINNED });
    expect(update('none', 'alb', stale)).toMatchObject({ allow: true, pin: PIN_PINNED });
  });

  it('keeps the pin the switch applied while the service stays in alb mode, and on a first create', () => {
    expect(update('alb', 'alb', applied(100, 'alb'))).toMatchObject({ allow: true, pin: PIN_RELEASED });
    expect(gateDecision('Create', props('alb'), undefined, applied(100, 'alb'))).toMatchObject({
      allow: true,
      pin: PIN_RELEASED,
    });
  });

  it('never refuses a rollback, and gives it the live pin back', () => {
    const rollback = { ...applied(100, 'alb'), rollingBack: true };
    // A refused alb -> krakend rolls back krakend -> alb: the pin rule was never changed, it stays released.
    expect(update('krakend', 'alb', rollback)).toMatchObject({ allow: true, pin: PIN_RELEASED });
    expect(update('alb', 'none', { ...applied(50, 'alb'), rollingBack: true }).allow).toBe(true);
  });

  it('reads only when the routes leave a mode or the alb pin rule needs its pin (nothing else can fail on a read)', () => {
    expect(needsReading('Delete', props('alb'))).toBe(false);
    expect(needsReading('Create', props('none'))).toBe(false);
    expect(needsReading('Create', props('krakend'))).toBe(false);
    expect(needsReading('Update', props('krakend'), props('none'))).toBe(false);
    expect(needsReading('Update', props('krakend'), props('krakend'))).toBe(false);
    expect(needsReading('Create', props('alb'))).toBe(true);
    expect(needsReading('Update', props('none'), props('krakend'))).toBe(true);
    expect(needsReading('Update', props('krakend'), props('alb'))).toBe(true);
    expect(gateDecision('Delete', props('alb'), undefined, undefined).allow).toBe(true);
  });
});

function event(
  requestType: 'Create' | 'Update',
  p: GateProperties,
  old?: GateProperties,
): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:gate',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/demo-40-users-service/x',
    RequestId: 'r1',
    LogicalResourceId: 'GatewayGate',
    ResourceType: 'Custom::MigrationGatewayGate',
    ResourceProperties: { ServiceToken: 'x', ...p },
    ...(requestType === 'Update'
      ? { PhysicalResourceId: 'p', OldResourceProperties: { ServiceToken: 'x', ...old } }
      : {}),
  } as CloudFormationCustomResourceEvent;
}

describe('gateway gate provider', () => {
  const deps = () => ({
    ssm: new SSMClient({ region: 'eu-west-1', maxAttempts: 1 }),
    cloudFormation: new CloudFormationClient({ region: 'eu-west-1', maxAttempts: 1 }),
    logger: { log: () => undefined, metric: () => undefined },
  });
  function live(weight: string, values: Record<string, string>, status = 'UPDATE_IN_PROGRESS') {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [{ Name: '/demo/migration/users/gateway', Value: `{"weight":${weight}}`, Version: 3 }],
    });
    ssmMock.on(GetParameterCommand).callsFake(({ Name }) => {
      if (values[Name] === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      return { Parameter: { Name, Value: values[Name] } };
    });
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: 'demo-40-users-service', StackStatus: status, CreationTime: new Date() } as never,
      ],
    });
  }
  beforeEach(() => {
    ssmMock.reset();
    cfnMock.reset();
  });

  it('fails the update out of krakend mode while the checked weight is above 0, reading the checked version', async () => {
    live('40', { '/demo/migration/users/live/gateway-weight': '40' });
    const result = await gate(event('Update', props('none'), props('krakend')), deps());
    expect(result).toEqual({ status: 'FAILED', reason: expect.stringContaining('its gateway weight is 40') });
    expect(ssmMock).toHaveReceivedCommandWith(GetParametersCommand, {
      Names: ['/demo/migration/users/gateway:last-good'],
    });
  });

  it('answers the pin for the alb pin rule: pinned on entering, live while staying', async () => {
    live('0', {
      '/demo/migration/users/live/alb-pin': PIN_RELEASED,
      '/demo/migration/users/live/gateway-weight': '0',
    });
    expect(await gate(event('Update', props('alb'), props('krakend')), deps())).toMatchObject({
      status: 'SUCCESS',
      data: { Pin: PIN_PINNED },
    });
    expect(await gate(event('Update', props('alb'), props('alb')), deps())).toMatchObject({
      status: 'SUCCESS',
      data: { Pin: PIN_RELEASED },
    });
  });

  it('lets the rollback of a refused change through (its stack status says so), keeping the live pin', async () => {
    // A refused alb -> krakend (weight 100, released) rolls back as krakend -> alb.
    live('100', { '/demo/migration/users/live/alb-pin': PIN_RELEASED }, 'UPDATE_ROLLBACK_IN_PROGRESS');
    const result = await gate(event('Update', props('alb'), props('krakend')), deps());
    expect(result).toMatchObject({ status: 'SUCCESS', data: { Pin: PIN_RELEASED } });
    expect(cfnMock).toHaveReceivedCommandWith(DescribeStacksCommand, {
      StackName: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/demo-40-users-service/x',
    });
  });

  it('fails when the checked document cannot be read: it cannot tell where the traffic goes', async () => {
    live('0', {});
    ssmMock
      .on(GetParametersCommand)
      .resolves({ Parameters: [], InvalidParameters: ['/demo/migration/users/gateway:last-good'] });
    await expect(gate(event('Update', props('none'), props('alb')), deps())).rejects.toThrow(
      /gateway:last-good could not be read \(missing\)/,
    );
  });
});
