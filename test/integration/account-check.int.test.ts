/**
 * The account check against the emulator, as an operator runs the CLI (the bundled CLI as a process,
 * credentials from the environment): moto's STS answers account 123456789012, so a file for another
 * account is refused before anything is written, and the file for 123456789012 writes.
 */
import { deployFlags, isolatedConfig, motoClients, runCli, versionsOf } from '../helpers/moto';

const { ssm, sns, sfn } = motoClients();
afterAll(() => {
  ssm.destroy();
  sns.destroy();
  sfn.destroy();
});

/** The demo with users at phase 1, for an account in eu-west-1, its flags deployed. */
async function deployedFor(account: string) {
  const env = isolatedConfig((input) => {
    Object.assign(input, { account, region: 'eu-west-1' });
    input.services[0].phase = 1;
  });
  const names = await deployFlags(ssm, env.config);
  return { ...env, names };
}

describe('the CLI writes only into the account of its environment file', () => {
  it('refuses a file for account 111122223333 with the emulator account 123456789012, writing nothing', async () => {
    const { path, names } = await deployedFor('111122223333');
    const before = await versionsOf(ssm, names.routing);
    const result = runCli(['route', 'users', 'users', '42', '--config', path]);
    expect(result).toMatchObject({ code: 3, stdout: '' });
    expect(result.stderr).toMatch(
      /^refused: the credentials are for account 123456789012 \(arn:aws:[^)]+\), but .* is for account 111122223333; use a profile of account 111122223333/,
    );
    expect(await versionsOf(ssm, names.routing)).toEqual(before);
  });

  it('writes with a file for the emulator account', async () => {
    const { path, names } = await deployedFor('123456789012');
    const result = runCli(['route', 'users', 'users', '42', '--config', path], {
      MIGRATE_CONFIRM_TIMEOUT_SECONDS: '0',
    });
    // Written (the emulator runs no flag guard, so the CLI then waits for one, 0 s here).
    expect(result.stdout).toContain(`wrote ${names.routing} version 2`);
    expect(await versionsOf(ssm, names.routing)).toHaveLength(2);
  });
});
