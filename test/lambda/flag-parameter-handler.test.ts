import { SSMClient } from '@aws-sdk/client-ssm';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/flag-parameter/handler';

const ssmMock = mockClient(SSMClient);

describe('flag-parameter handler: a new flags.parameterPrefix (issue 24, item 8)', () => {
  afterEach(() => jest.restoreAllMocks());

  it('answers FAILED with the way out, keeps the physical id, and calls no SSM API', async () => {
    const sent: Record<string, unknown>[] = [];
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (_url, init) => {
      sent.push(JSON.parse(String(init?.body)));
      return new Response(null, { status: 200 });
    });
    jest.spyOn(console, 'error').mockImplementation(() => {});
    const props = {
      Name: '/shop/flags/users/routing',
      Value: '{}',
      Tier: 'Standard',
      Description: 'd',
      Tags: [],
      Label: 'true',
      Identity: 'stack',
      AdoptExisting: 'false',
    };
    await handler({
      RequestType: 'Update',
      ServiceToken: 'arn:provider',
      ResponseURL: 'https://cloudformation-custom-resource-response.example/x',
      StackId: 'stack',
      RequestId: 'r1',
      LogicalResourceId: 'FlagsRouting',
      ResourceType: 'Custom::MigrationFlagParameter',
      PhysicalResourceId: '/shop/migration/users/routing',
      ResourceProperties: { ServiceToken: 'arn:provider', ...props },
      OldResourceProperties: { ...props, Name: '/shop/migration/users/routing' },
    } as unknown as CloudFormationCustomResourceEvent);
    expect(sent).toEqual([
      expect.objectContaining({
        Status: 'FAILED',
        PhysicalResourceId: '/shop/migration/users/routing',
        Reason: expect.stringContaining('Set flags.parameterPrefix back to "/shop/migration"'),
      }),
    ]);
    expect(ssmMock.calls()).toHaveLength(0);
  });
});
