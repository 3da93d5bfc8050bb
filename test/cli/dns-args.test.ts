import { UsageError } from '../../lib/cli/errors';
import { parseArgs, USAGE } from '../../lib/cli/parse-args';

describe('the dns command', () => {
  it.each([
    [['dns', 'status'], { name: 'dns', action: 'status' }],
    [['dns', 'weight', '0'], { name: 'dns', action: 'weight', percent: 0 }],
    [['dns', 'weight', '100', '--dry-run'], { name: 'dns', action: 'weight', percent: 100 }],
    [['dns', 'restore', '--reason', 'back'], { name: 'dns', action: 'restore' }],
    [['dns', 'finish'], { name: 'dns', action: 'finish' }],
  ])('parses %j', (argv, command) => {
    expect(parseArgs(argv).command).toEqual(command);
  });

  it.each([
    [['dns'], /dns needs an action: status, weight <0-100>, restore or finish/],
    [['dns', 'move'], /unknown dns action "move"; use status, weight, restore or finish/],
    [['dns', 'weight'], /dns weight needs the app's share as a whole number from 0 to 100$/],
    [['dns', 'weight', '101'], /dns weight needs the app's share as a whole number from 0 to 100, got "101"/],
    [['dns', 'weight', '10', '20'], /dns weight takes one number, got also "20"/],
    [['dns', 'status', 'now'], /dns status takes no further arguments, got "now"/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('is in the usage', () => {
    expect(USAGE).toContain('dns weight <0-100>');
  });
});
