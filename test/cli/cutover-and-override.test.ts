import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { RefusedError } from '../../lib/cli/errors';
import { describeFailure } from '../../lib/cli/failures';
import { parseArgs } from '../../lib/cli/parse-args';
import { runCommand } from '../../lib/cli/run';
import { albMode, config, demoInput } from '../helpers/test-app';

const ssmMock = mockClient(SSMClient);
const sfnMock = mockClient(SFNClient);
const NOW = new Date('2026-11-26T12:00:00Z');
const completed = '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"users-cutover-1"}';

function flags(routing: string, cutover: string, override?: string) {
  const docs: Record<string, string> = {
    '/demo/migration/users/routing': routing,
    '/demo/migration/users/cutover': cutover,
    '/demo/migration/users/gateway': '{"weight":0}',
    ...(override ? { '/demo/migration/users/override': override } : {}),
  };
  ssmMock.on(GetParameterHistoryCommand).callsFake(({ Name }) => ({
    Parameters: [{ Name, Version: 1, Value: docs[Name], Labels: ['last-good'] }],
  }));
  ssmMock.on(GetParameterCommand).callsFake(({ Name }) => {
    const name = Name.replace(/:last-good$/, '');
    if (docs[name] === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    return { Parameter: { Name: name, Version: 1, Value: docs[name] } };
  });
  // Readers read the checked version, `<name>:last-good`.
  ssmMock.on(GetParametersCommand).callsFake(({ Names }: { Names: string[] }) => {
    const names = Names.map((n) => n.replace(/:last-good$/, ''));
    return {
      Parameters: names
        .filter((n) => docs[n] !== undefined)
        .map((n) => ({ Name: n, Version: 1, Value: docs[n] })),
      InvalidParameters: Names.filter((_n, i) => docs[names[i]] === undefined),
    };
  });
  ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
}

async function run(
  argv: string[],
  phase = 2,
  gateway: 'krakend' | 'alb' = 'krakend',
  mutate: (input: ReturnType<typeof demoInput>) => void = () => {},
) {
  const input = demoInput();
  input.services[0].phase = phase;
  if (gateway === 'alb') albMode(input.services[0]);
  mutate(input);
  const lines: string[] = [];
  const { command, options } = parseArgs(argv);
  if (command.name === 'help') throw new Error('unexpected help');
  await runCommand(command, options, {
    config: config(input),
    ssm: new SSMClient({ region: 'eu-west-1' }),
    stepFunctions: async () => new SFNClient({ region: 'eu-west-1' }),
    // The flag guard accepts every write these tests make (its own rules are tested with it).
    checkNow: async () => ({ status: 'labelled', version: 2 }),
    out: (l) => lines.push(l),
    now: () => NOW,
    sleep: async () => {},
  });
  return lines;
}

beforeEach(() => {
  ssmMock.reset();
  sfnMock.reset();
  sfnMock.on(ListStateMachinesCommand).resolves({
    stateMachines: [
      {
        name: 'demo-users-cutover',
        stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:demo-users-cutover',
        type: 'STANDARD',
        creationDate: NOW,
      },
    ],
  });
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: NOW });
  sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
});

describe('cutover', () => {
  it('needs the service name twice', () => {
    expect(() => parseArgs(['cutover', 'users'])).toThrow(
      'cutover is the point of no return: repeat the service name with --confirm users',
    );
    expect(() => parseArgs(['cutover', 'users', '--confirm', 'user'])).toThrow(
      '--confirm "user" does not match the service "users"',
    );
  });

  it('starts the state machine, follows it to success and says what to add to the environment file', async () => {
    flags('{"mode":"all"}', '{"completed":false}');
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .callsFake(() => {
        flags('{"mode":"all"}', completed);
        return { status: 'SUCCEEDED' };
      });
    const out = await run(['cutover', 'users', '--confirm', 'users']);
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:demo-users-cutover',
      name: 'users-cutover-20261126T120000',
      input: JSON.stringify({ confirm: 'users', requestedBy: 'migrate cli' }),
    });
    expect(out.slice(-3)).toEqual([
      "users-cutover-20261126T120000 SUCCEEDED: the cutover is recorded; users's database is now the only truth.",
      expect.stringMatching(
        /^Now record it in the environment file \(lib\/config\/demo.ts\), in the entry of users under "services", and deploy/,
      ),
      '  "cutoverRecorded": {"runId":"users-cutover-1","completedAt":"2026-11-26T10:00:00Z"}',
    ]);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('reports a failed run and says no flag changed', async () => {
    flags('{"mode":"all"}', '{"completed":false}');
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ status: 'FAILED', error: 'MigrationFailed', cause: 'exit 1' } as never);
    await expect(run(['cutover', 'users', '--confirm', 'users'])).rejects.toThrow(
      'users-cutover-20261126T120000 FAILED: MigrationFailed: exit 1. See "When a cutover run fails" in docs/runbook.md.',
    );
  });

  it('reports a run stopped by hand in one line, as the runbook shows it', async () => {
    flags('{"mode":"all"}', '{"completed":false}');
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' } as never);
    const failure = await run(['cutover', 'users', '--confirm', 'users']).catch((e: unknown) => e);
    expect(describeFailure(failure)).toEqual({
      code: 1,
      message:
        'failed: users-cutover-20261126T120000 ABORTED: it was stopped before it finished. See "When a cutover run fails" in docs/runbook.md.',
    });
  });

  it('refuses a second run while one is running', async () => {
    flags('{"mode":"all"}', '{"completed":false}');
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [
        {
          name: 'users-cutover-20261126T110000',
          executionArn: 'arn:exec:1',
          stateMachineArn: 'arn:sm',
          status: 'RUNNING',
          startDate: NOW,
        },
      ],
    });
    await expect(run(['cutover', 'users', '--confirm', 'users'])).rejects.toThrow(
      /a cutover of users is already running \(users-cutover-20261126T110000/,
    );
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it.each([
    [
      'routing is not all',
      '{"mode":"percent","percent":50}',
      '{"completed":false}',
      2,
      /routing of users is "percent"; the cutover needs "all"/,
    ],
    [
      'it is already recorded',
      '{"mode":"all"}',
      completed,
      2,
      /the cutover of users is already recorded \(run users-cutover-1/,
    ],
    [
      'the service is at phase 1',
      '{"mode":"all"}',
      '{"completed":false}',
      1,
      /users is at phase 1: the cutover exists from phase 2/,
    ],
  ])('refuses when %s, starting nothing', async (_name, routing, cutover, phase, message) => {
    flags(routing, cutover);
    await expect(run(['cutover', 'users', '--confirm', 'users'], phase)).rejects.toThrow(message);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('says when the state machine is not deployed', async () => {
    flags('{"mode":"all"}', '{"completed":false}');
    sfnMock.on(ListStateMachinesCommand).resolves({ stateMachines: [] });
    await expect(run(['cutover', 'users', '--confirm', 'users'])).rejects.toThrow(
      /state machine demo-users-cutover not found: deploy the phase-2 stacks/,
    );
  });

  it('starts nothing on --dry-run', async () => {
    flags('{"mode":"all"}', '{"completed":false}');
    expect(await run(['cutover', 'users', '--confirm', 'users', '--dry-run'])).toEqual([
      'dry run: would start demo-users-cutover as users-cutover-20261126T120000',
    ]);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('the gateway weight of a native-rewrite service', () => {
  it('is all or nothing', async () => {
    flags('{"mode":"all"}', completed);
    await expect(run(['gateway', 'users', '50'], 3, 'alb')).rejects.toThrow(
      'refused: the service is routed by the native ALB rewrite, which switches all or nothing: use weight 0 or 100, not 50',
    );
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
    await run(['gateway', 'users', '100'], 3, 'alb');
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/demo/migration/users/gateway',
      Value: '{"weight":100}',
    });
  });
});

describe('status at phase 3', () => {
  it('shows the ALB state the traffic-switch hook applied', async () => {
    flags('{"mode":"all"}', completed);
    ssmMock
      .on(GetParameterCommand, { Name: '/demo/migration/users/live/legacy-weight' })
      .resolves({ Parameter: { Value: '40' } });
    ssmMock
      .on(GetParameterCommand, { Name: '/demo/migration/users/live/gateway-weight' })
      .resolves({ Parameter: { Value: '60' } });
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    expect((await run(['status'], 3))[1]).toBe(
      'users at the ALB: legacy 40 / gateway 60 (as applied by the traffic-switch hook)',
    );
  });

  it('shows the pin of a native-rewrite service', async () => {
    flags('{"mode":"all"}', completed);
    ssmMock
      .on(GetParameterCommand, { Name: '/demo/migration/users/live/alb-pin' })
      .resolves({ Parameter: { Value: '#' } });
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    expect((await run(['status'], 3, 'alb'))[1]).toBe(
      'users at the ALB (native rewrite): released to the service',
    );
  });
});

describe('status of a cutover', () => {
  it('shows the last run of the cutover state machine', async () => {
    flags('{"mode":"all"}', completed);
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [
        {
          name: 'users-cutover-1',
          status: 'SUCCEEDED',
          executionArn: 'arn:exec',
          stateMachineArn: 'arn:sm',
          startDate: new Date('2026-11-26T09:00:00Z'),
          stopDate: new Date('2026-11-26T10:00:00Z'),
        },
      ],
    });
    const out = (await run(['status'])).filter((l) => !l.startsWith('!!!'));
    expect(out[0]).toMatch(/users\s+2\s+all\s+0\s+0\s+completed 2026-11-26T10:00:00Z \(users-cutover-1\)/);
    expect(out[1]).toBe(
      'users cutover: last run users-cutover-1 SUCCEEDED (started 2026-11-26T09:00:00.000Z, ended 2026-11-26T10:00:00.000Z)',
    );
  });

  it('says when the state machine is not deployed yet', async () => {
    flags('{"mode":"all"}', '{"completed":false}');
    sfnMock.on(ListStateMachinesCommand).resolves({ stateMachines: [] });
    expect((await run(['status', 'users']))[1]).toBe('users cutover: state machine not deployed');
  });
});

describe('a completed cutover the environment file does not record', () => {
  const loud = (out: string[]) => out.filter((l) => l.startsWith('!!!'));
  const snippet = '"cutoverRecorded": {"runId":"users-cutover-1","completedAt":"2026-11-26T10:00:00Z"}';

  it('is said loudly by status, with the exact line to add and the deploy', async () => {
    flags('{"mode":"all"}', completed);
    const out = await run(['status', '--config', 'envs/prod.json']);
    expect(loud(out)).toEqual([
      '!!! users: the cutover is completed (run users-cutover-1 at 2026-11-26T10:00:00Z), but the environment file does not record it.',
      "!!! Until it does, a routing proxy that starts while SSM is unreachable holds users's routes (503), and if the flags are deleted the flag guard cannot know the cutover happened.",
      '!!! Add to the entry of "users" under "services" in envs/prod.json:',
      `!!!   ${snippet}`,
      '!!! and deploy: npx cdk deploy --all -c config=envs/prod.json',
    ]);
    // Last, after the table and the cutover's last run: what an operator reads last.
    expect(out[out.length - 1]).toBe('!!! and deploy: npx cdk deploy --all -c config=envs/prod.json');
  });

  it.each([
    ['history', ['history', 'users']],
    ['route', ['route', 'users', 'all']],
  ])('is said first by every command on the service: %s', async (_name, argv) => {
    flags('{"mode":"all"}', completed);
    const out = await run(argv);
    expect(out.slice(0, 5).every((l) => l.startsWith('!!!'))).toBe(true);
    expect(out[3]).toBe(`!!!   ${snippet}`);
    expect(out[4]).toBe('!!! and deploy: npx cdk deploy --all');
  });

  it('is not said once the marker is in the environment file, nor before the cutover', async () => {
    flags('{"mode":"all"}', completed);
    const marked = await run(['status'], 2, 'krakend', (i) => {
      i.services[0].cutoverRecorded = { runId: 'users-cutover-1', completedAt: '2026-11-26T10:00:00Z' };
    });
    expect(loud(marked)).toEqual([]);
    flags('{"mode":"all"}', '{"completed":false}');
    expect(loud(await run(['status']))).toEqual([]);
    expect(loud(await run(['history', 'users']))).toEqual([]);
  });
});

describe('the point of no return in the CLI', () => {
  it.each([
    ['off', ['route', 'users', 'off']],
    ['users', ['route', 'users', 'users', '42']],
    ['percent', ['route', 'users', 'percent', '50']],
  ])('refuses routing %s after the cutover', async (_mode, argv) => {
    flags('{"mode":"all"}', completed);
    await expect(run(argv)).rejects.toThrow(RefusedError);
    await expect(run(argv)).rejects.toThrow(/routing must stay "all"/);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('refuses to roll routing back to a pre-cutover version', async () => {
    flags('{"mode":"all"}', completed);
    ssmMock.on(GetParameterHistoryCommand).callsFake(({ Name }) => ({
      Parameters: Name.endsWith('routing')
        ? [
            { Name, Version: 1, Value: '{"mode":"percent","percent":50}', Labels: [] },
            { Name, Version: 2, Value: '{"mode":"all"}', Labels: ['last-good'] },
          ]
        : [
            {
              Name,
              Version: 1,
              Value: Name.endsWith('cutover') ? completed : '{"weight":0}',
              Labels: ['last-good'],
            },
          ],
    }));
    await expect(run(['rollback', 'users'])).rejects.toThrow(
      /routing stays "all", and a rollback of routing is refused like every other route change/,
    );
  });
});

describe('the emergency override (two keys)', () => {
  const valid = JSON.stringify({
    acceptDataLoss: true,
    reason: 'users DB corrupted, INC-4711',
    expiresAt: '2026-11-26T18:00:00Z',
  });

  it('refuses --accept-data-loss without the override parameter, naming it', async () => {
    flags('{"mode":"all"}', completed);
    await expect(
      run(['route', 'users', 'off', '--accept-data-loss', 'INC-4711 approved by CTO']),
    ).rejects.toThrow(
      'refused: --accept-data-loss is key two of the emergency override; key one, a checked, unexpired /demo/migration/users/override, is missing.',
    );
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('refuses the override parameter without --accept-data-loss', async () => {
    flags('{"mode":"all"}', completed, valid);
    await expect(run(['route', 'users', 'off'])).rejects.toThrow(/routing must stay "all"/);
  });

  it.each([
    [
      'expired',
      JSON.stringify({
        acceptDataLoss: true,
        reason: 'users DB corrupted, INC-4711',
        expiresAt: '2026-11-26T11:00:00Z',
      }),
      /key one, a checked, unexpired .*override, is expired \(2026-11-26T11:00:00Z\)/,
    ],
    [
      'without acceptDataLoss (no valid document is no override)',
      JSON.stringify({ reason: 'users DB corrupted, INC-4711', expiresAt: '2026-11-26T18:00:00Z' }),
      /key one, a checked, unexpired .*override, is missing/,
    ],
  ])('refuses an override that is %s', async (_name, override, message) => {
    flags('{"mode":"all"}', completed, override);
    await expect(
      run(['route', 'users', 'off', '--accept-data-loss', 'INC-4711 approved by CTO']),
    ).rejects.toThrow(message);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('routes back to legacy with both keys, saying so loudly', async () => {
    flags('{"mode":"all"}', completed, valid);
    const out = await run([
      'route',
      'users',
      'off',
      '--accept-data-loss',
      'INC-4711 approved by CTO',
      '--reason',
      'INC-4711',
    ]);
    // After the loud lines about the missing deploy-time marker (this config has none).
    expect(out.filter((l) => !l.startsWith('!!!'))[0]).toBe(
      'EMERGENCY OVERRIDE (users DB corrupted, INC-4711, until 2026-11-26T18:00:00Z): INC-4711 approved by CTO',
    );
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/demo/migration/users/routing',
      Value:
        '{"mode":"off","users":[],"percent":0,"reason":"INC-4711","override":{"expiresAt":"2026-11-26T18:00:00Z","acceptDataLoss":"INC-4711 approved by CTO"}}',
    });
  });
});
