import { decide, type GuardInput } from '../../lambda/flag-guard/decide';
import { INITIAL_DOCUMENTS } from '../../lib/flags/documents';
import type { FlagSet } from '../../lib/flags/invariants';

const completed = { completed: true, completedAt: '2026-11-26T10:00:00Z', runId: 'run-1' } as const;
const before: FlagSet = {
  routing: { mode: 'percent', users: [], percent: 10 },
  cutover: { completed: false },
  gateway: { weight: 0 },
};
const after: FlagSet = {
  routing: { mode: 'all', users: [], percent: 0 },
  cutover: completed,
  gateway: { weight: 0 },
};

function input(overrides: Partial<GuardInput> & Pick<GuardInput, 'kind'>): GuardInput {
  return {
    latest: { version: 3, value: '{"mode":"off"}', labels: [] },
    lastGood: { version: 2, value: '{"mode":"percent","percent":10}', labels: ['last-good'] },
    validated: before,
    maxBytes: 4096,
    ...overrides,
  };
}

describe('flag guard decisions', () => {
  it('labels a valid new version', () => {
    expect(decide(input({ kind: 'routing' }))).toEqual({ action: 'label', version: 3 });
  });

  it('does nothing for a version already labelled (repeated event, or its own restore checked before)', () => {
    expect(
      decide(input({ kind: 'routing', latest: { version: 3, value: 'garbage', labels: ['last-good'] } })),
    ).toEqual({
      action: 'none',
      reason: 'version 3 is already labelled last-good',
    });
  });

  it('restores the last good text when the new version does not parse', () => {
    const d = decide(
      input({ kind: 'routing', latest: { version: 3, value: '{"mode":"maybe"}', labels: [] } }),
    );
    expect(d).toEqual({
      action: 'restore',
      badVersion: 3,
      problems: ['routing.mode: "maybe" is not allowed; use "off", "users", "percent" or "all"'],
      restoreValue: '{"mode":"percent","percent":10}',
      restoreFrom: 2,
    });
  });

  it('restores after the point of no return when routing leaves "all"', () => {
    const d = decide(
      input({
        kind: 'routing',
        validated: after,
        latest: { version: 9, value: '{"mode":"off"}', labels: [] },
        lastGood: { version: 8, value: '{"mode":"all"}', labels: ['last-good'] },
      }),
    );
    expect(d).toMatchObject({ action: 'restore', restoreValue: '{"mode":"all"}', restoreFrom: 8 });
    expect(d.action === 'restore' && d.problems[0]).toMatch(
      /^the bulk migration completed at 2026-11-26T10:00:00Z \(run run-1\): routing must stay "all"/,
    );
  });

  it('refuses to undo a completed cutover', () => {
    const d = decide(
      input({
        kind: 'cutover',
        validated: after,
        latest: { version: 3, value: '{"completed":false}', labels: [] },
        lastGood: { version: 2, value: JSON.stringify(completed), labels: ['last-good'] },
      }),
    );
    expect(d).toMatchObject({
      action: 'restore',
      restoreFrom: 2,
      problems: [expect.stringMatching(/cannot be undone/)],
    });
  });

  it('refuses a cutover recorded while routing is not "all"', () => {
    const d = decide(
      input({
        kind: 'cutover',
        latest: { version: 2, value: JSON.stringify(completed), labels: [] },
        lastGood: undefined,
      }),
    );
    expect(d).toMatchObject({
      action: 'restore',
      restoreFrom: 'initial',
      restoreValue: '{"completed":false}',
      problems: ['the cutover can only be recorded while routing is "all" (it is "percent")'],
    });
  });

  it('accepts the cutover while routing is "all"', () => {
    const validated: FlagSet = { ...before, routing: { mode: 'all', users: [], percent: 0 } };
    expect(
      decide(
        input({
          kind: 'cutover',
          validated,
          latest: { version: 2, value: JSON.stringify(completed), labels: [] },
        }),
      ),
    ).toEqual({
      action: 'label',
      version: 2,
    });
  });

  it('restores the initial document when no version was ever validated', () => {
    const d = decide(
      input({
        kind: 'gateway',
        latest: { version: 1, value: '{"weight":500}', labels: [] },
        lastGood: undefined,
      }),
    );
    expect(d).toMatchObject({
      action: 'restore',
      restoreFrom: 'initial',
      restoreValue: JSON.stringify(INITIAL_DOCUMENTS.gateway),
    });
  });

  it('restores a document over its tier limit', () => {
    const users = Array.from({ length: 400 }, (_, i) => `user-${10000 + i}`);
    const d = decide(
      input({
        kind: 'routing',
        latest: { version: 3, value: JSON.stringify({ mode: 'users', users }), labels: [] },
        maxBytes: 4096,
      }),
    );
    expect(d).toMatchObject({
      action: 'restore',
      problems: [expect.stringMatching(/over the 4096-byte limit/)],
    });
  });

  it('refuses a partial gateway weight for a native-rewrite service, which switches all or nothing', () => {
    const d = decide(
      input({
        kind: 'gateway',
        gatewayMode: 'alb',
        latest: { version: 2, value: '{"weight":50}', labels: [] },
        lastGood: { version: 1, value: '{"weight":0}', labels: ['last-good'] },
      }),
    );
    expect(d).toMatchObject({
      action: 'restore',
      restoreValue: '{"weight":0}',
      problems: [
        'the service is routed by the native ALB rewrite, which switches all or nothing: use weight 0 or 100, not 50',
      ],
    });
    expect(
      decide(
        input({
          kind: 'gateway',
          gatewayMode: 'alb',
          latest: { version: 2, value: '{"weight":100}', labels: [] },
        }),
      ),
    ).toEqual({ action: 'label', version: 2 });
  });
});
