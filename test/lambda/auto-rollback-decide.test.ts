import { planRollback } from '../../lambda/auto-rollback/decide';
import type { FlagSet } from '../../lib/flags/invariants';

const completed = { completed: true, completedAt: '2026-11-26T10:00:00Z', runId: 'run-1' } as const;
const flags = (over: Partial<FlagSet>): FlagSet => ({
  routing: { mode: 'percent', users: ['7'], percent: 20 },
  cutover: { completed: false },
  gateway: { weight: 0 },
  ...over,
});

describe('auto-rollback plans', () => {
  it('switches routing off before the point of no return, keeping the allowlist and percentage', () => {
    expect(
      planRollback({ service: 'users', phase: 1, alarmName: 'demo-users-5xx-rate', flags: flags({}) }),
    ).toEqual({
      routing: { mode: 'off', users: ['7'], percent: 20, reason: 'auto-rollback: demo-users-5xx-rate' },
      gateway: undefined,
      summary: 'users: routing percent -> off',
    });
  });

  it('does nothing when routing is already off', () => {
    const plan = planRollback({
      service: 'users',
      phase: 1,
      alarmName: 'a',
      flags: flags({ routing: { mode: 'off', users: [], percent: 0 } }),
    });
    expect(plan).toEqual({ summary: 'users: routing is already off; nothing to switch' });
  });

  it('only alerts after the point of no return below phase 3', () => {
    const plan = planRollback({
      service: 'users',
      phase: 2,
      alarmName: 'a',
      flags: flags({ routing: { mode: 'all', users: [], percent: 0 }, cutover: completed }),
    });
    expect(plan.routing).toBeUndefined();
    expect(plan.gateway).toBeUndefined();
    expect(plan.summary).toBe(
      'users: past the point of no return (run run-1); routing stays "all". Alert only: fix forward.',
    );
  });

  it('shifts the gateway weight to 0 at phase 3 after the point of no return, leaving routing alone', () => {
    const plan = planRollback({
      service: 'users',
      phase: 3,
      alarmName: 'demo-users-p99-latency',
      flags: flags({
        routing: { mode: 'all', users: [], percent: 0 },
        cutover: completed,
        gateway: { weight: 60 },
      }),
    });
    expect(plan).toEqual({
      routing: undefined,
      gateway: { weight: 0, reason: 'auto-rollback: demo-users-p99-latency' },
      summary: 'users: gateway weight 60 -> 0',
    });
  });
});

describe('an alarm of the gateway itself', () => {
  it('moves only the gateway weight: the service behind it is fine', () => {
    const plan = planRollback({
      service: 'users',
      phase: 3,
      alarmName: 'demo-gateway-5xx-rate',
      gatewayOnly: true,
      flags: {
        routing: { mode: 'all', users: [], percent: 0 },
        cutover: { completed: false },
        gateway: { weight: 60 },
      },
    });
    expect(plan.routing).toBeUndefined();
    expect(plan.gateway).toEqual({ weight: 0, reason: 'auto-rollback: demo-gateway-5xx-rate' });
  });
});
