/** The CLI's argument parsing (node:util parseArgs, one option set per command); pure, no AWS. */
import { UsageError } from '../../lib/cli/errors';
import { parseArgs, USAGE } from '../../lib/cli/parse-args';

const usageError = (argv: string[]) => {
  try {
    parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error(`parsed ${JSON.stringify(argv)} without error`);
};

describe('parseArgs', () => {
  it.each<[string[], object]>([
    [['status'], { name: 'status' }],
    [['status', 'users'], { name: 'status', service: 'users' }],
    [['history', 'users'], { name: 'history', service: 'users', flag: 'routing' }],
    [['history', 'users', '--flag', 'cutover'], { name: 'history', service: 'users', flag: 'cutover' }],
    [['route', 'users', 'off'], { name: 'route', service: 'users', mode: 'off' }],
    [
      ['route', 'users', 'users', 'a', 'b@x'],
      { name: 'route', service: 'users', mode: 'users', users: ['a', 'b@x'] },
    ],
    [['route', 'users', 'percent', '0'], { name: 'route', service: 'users', mode: 'percent', percent: 0 }],
    [['gateway', 'users', '100'], { name: 'gateway', service: 'users', weight: 100 }],
    [['rollback', 'users', '--flag=gateway'], { name: 'rollback', service: 'users', flag: 'gateway' }],
    [['cutover', 'users', '--confirm', 'users'], { name: 'cutover', service: 'users' }],
    // After --, everything is a word, even what looks like an option.
    [
      ['route', 'users', 'users', '--', '--x'],
      { name: 'route', service: 'users', mode: 'users', users: ['--x'] },
    ],
  ])('parses %j', (argv, command) => {
    expect(parseArgs(argv).command).toEqual(command);
  });

  it('reads the global options in both forms, before or after the command', () => {
    expect(
      parseArgs([
        '--config',
        'envs/prod.json',
        'route',
        'users',
        'off',
        '--region=eu-west-1',
        '--profile',
        'ops',
        '--reason=-1 for INC-7',
        '--dry-run',
      ]),
    ).toEqual({
      command: { name: 'route', service: 'users', mode: 'off' },
      options: {
        dryRun: true,
        config: 'envs/prod.json',
        region: 'eu-west-1',
        profile: 'ops',
        reason: '-1 for INC-7',
      },
    });
    expect(parseArgs(['status']).options).toEqual({ dryRun: false });
  });

  it('answers help for no command or --help anywhere', () => {
    expect(parseArgs([]).command).toEqual({ name: 'help' });
    expect(parseArgs(['route', 'users', '--help']).command).toEqual({ name: 'help' });
    expect(parseArgs(['--help', 'flip']).command).toEqual({ name: 'help' });
  });

  it.each([
    [
      ['route', 'users', 'off', '--dry-run=true'],
      '--dry-run is a switch and takes no value: write --dry-run alone (not --dry-run=true), or leave it out',
    ],
    [
      ['status', '--help=yes'],
      '--help is a switch and takes no value: write --help alone (not --help=yes), or leave it out',
    ],
    [
      ['route', 'users', 'off', '--reason'],
      '--reason needs a value (see --help); write --reason=<value> for one that starts with -',
    ],
    [
      ['route', 'users', 'off', '--reason', '--dry-run'],
      '--reason needs a value (see --help); write --reason=<value> for one that starts with -',
    ],
    [['--config'], '--config needs a value (see --help); write --config=<value> for one that starts with -'],
    [
      ['status', '--config='],
      '--config needs the path of an environment file, such as --config envs/prod.json; leave it out for $MIGRATE_CONFIG or the embedded demo',
    ],
    [['route', 'users', 'off', '--force'], 'unknown option --force; see --help'],
    [['status', '-h'], 'unknown option -h; see --help'],
    [['--force', 'status'], 'unknown option --force; see --help'],
    [
      ['route', 'users', 'off', '--flag', 'routing'],
      '--flag does not apply to route; only history and rollback take it',
    ],
    [
      ['route', 'users', 'off', '--confirm', 'users'],
      '--confirm does not apply to route; only cutover takes it',
    ],
    [
      ['status', '--accept-data-loss', 'INC-1 approved'],
      '--accept-data-loss does not apply to status; only route takes it',
    ],
    [
      ['route', 'users', 'percent', '-5'],
      '-5 is negative; percent and weight are whole numbers from 0 to 100',
    ],
    [['gateway', 'users', '-50'], '-50 is negative; percent and weight are whole numbers from 0 to 100'],
    [
      ['flip', 'users', '--flag', 'routing'],
      'unknown command "flip"; use status, history, route, gateway, rollback, cutover, pending or dns',
    ],
    [['status', 'users', 'extra'], 'unexpected argument "extra" for status'],
    [['history', 'users', '--flag', 'weights'], '--flag "weights" is not one of routing, cutover, gateway'],
    [['cutover', 'users'], 'cutover is the point of no return: repeat the service name with --confirm users'],
    [
      ['route', 'users', 'off', '--accept-data-loss', 'short'],
      '--accept-data-loss needs the reason for the emergency, 10-150 characters',
    ],
  ])('refuses %j: %s', (argv, message) => {
    expect(usageError(argv)).toBe(message);
  });

  it('documents the form of switches and values in the usage text', () => {
    expect(USAGE).toContain(
      '--dry-run and --help are switches: give them alone (--dry-run, not --dry-run=true)',
    );
    expect(USAGE).toContain('--config <path>');
  });
});
