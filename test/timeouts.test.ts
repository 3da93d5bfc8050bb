import {
  ALB_IDLE_TIMEOUT_SECONDS,
  DEREGISTRATION_MARGIN_SECONDS,
  deregistrationDelay,
  MAX_DEREGISTRATION_DELAY_SECONDS,
} from '../lib/timeouts';

describe('the deregistration delay outlasts every request timeout (issue 24, item 8)', () => {
  it("is the ALB's idle timeout plus the margin when nothing behind the target waits longer", () => {
    expect(deregistrationDelay([{ name: 'gateway.timeoutMs', seconds: 3 }])).toEqual({
      seconds: ALB_IDLE_TIMEOUT_SECONDS + DEREGISTRATION_MARGIN_SECONDS,
      problems: [],
    });
    expect(ALB_IDLE_TIMEOUT_SECONDS + DEREGISTRATION_MARGIN_SECONDS).toBeGreaterThan(60);
  });

  it('follows a longer timeout behind the target', () => {
    expect(deregistrationDelay([{ name: 'routing.proxy.headersTimeoutMs', seconds: 120.5 }]).seconds).toBe(
      121 + DEREGISTRATION_MARGIN_SECONDS,
    );
  });

  it('names a timeout it cannot outlast (the delay has a maximum) and the fix', () => {
    const { seconds, problems } = deregistrationDelay([
      { name: 'routing.proxy.headersTimeoutMs', seconds: MAX_DEREGISTRATION_DELAY_SECONDS },
    ]);
    expect(seconds).toBe(MAX_DEREGISTRATION_DELAY_SECONDS);
    expect(problems).toEqual([
      expect.stringMatching(
        /^routing\.proxy\.headersTimeoutMs \(3600 s\) is not shorter than the target group's deregistration delay \(3600 s.*use at most 3590000 ms/,
      ),
    ]);
  });
});
