import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { readChecked } from '../../lib/flags/ssm-store';

const ssmMock = mockClient(SSMClient);
beforeEach(() => ssmMock.reset());

describe('readChecked: how an answer of GetParameters is matched to the request', () => {
  it('asks for <name>:last-good and matches each answer by its Name; the rest is missing', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        // As SSM answers: the name without the selector, the label in Selector.
        { Name: '/p/users/routing', Selector: ':last-good', Value: '{"mode":"all"}', Version: 3 },
        // Defensive: a name that came back with its selector (a parameter name cannot contain ":").
        {
          Name: '/p/users/cutover:last-good',
          Selector: ':last-good',
          Value: '{"completed":false}',
          Version: 1,
        },
      ],
      InvalidParameters: ['/p/users/override:last-good'],
    });
    const out = await readChecked(new SSMClient({ region: 'eu-west-1' }), [
      '/p/users/routing',
      '/p/users/cutover',
      '/p/users/override',
      '/p/users/gateway',
    ]);
    expect(ssmMock.commandCalls(GetParametersCommand)[0].args[0].input.Names).toEqual([
      '/p/users/routing:last-good',
      '/p/users/cutover:last-good',
      '/p/users/override:last-good',
      '/p/users/gateway:last-good',
    ]);
    expect(Object.fromEntries(out)).toEqual({
      '/p/users/routing': { status: 'ok', text: '{"mode":"all"}' },
      '/p/users/cutover': { status: 'ok', text: '{"completed":false}' },
      '/p/users/override': { status: 'missing' },
      '/p/users/gateway': { status: 'missing' },
    });
  });
});
