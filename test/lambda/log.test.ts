/**
 * Under Lambda's JSON log format the runtime wraps whatever goes through `console`: an EMF line must
 * bypass it, or CloudWatch extracts no metric and the hook alarms on those metrics never fire.
 */
import { jsonLogger } from '../../lambda/shared/log';

afterEach(() => jest.restoreAllMocks());

describe('the hooks logger', () => {
  it('writes EMF lines straight to stdout, whole, never through console', () => {
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const logs = (['log', 'info', 'debug', 'warn', 'error'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation(() => {}),
    );
    jsonLogger('flag-guard').metric('MalformedEvent', 1, { Hook: 'flag-guard' });
    for (const spy of logs) expect(spy).not.toHaveBeenCalled();
    expect(stdout).toHaveBeenCalledTimes(1);
    const line = String(stdout.mock.calls[0][0]);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          { Namespace: 'StranglerMigration', Dimensions: [['Hook']], Metrics: [{ Name: 'MalformedEvent' }] },
        ],
      },
      Hook: 'flag-guard',
      MalformedEvent: 1,
    });
  });

  it('writes log lines through console at their level (Lambda adds the request id and filters)', () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    const info = jest.spyOn(console, 'info').mockImplementation(() => {});
    const logger = jsonLogger('traffic-switch');
    logger.log('error', 'rule not found', { service: 'users' });
    logger.log('info', 'weights applied');
    expect(JSON.parse(String(error.mock.calls[0][0]))).toMatchObject({
      level: 'error',
      hook: 'traffic-switch',
      message: 'rule not found',
      service: 'users',
    });
    expect(JSON.parse(String(info.mock.calls[0][0]))).toMatchObject({ message: 'weights applied' });
  });
});
