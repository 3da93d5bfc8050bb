import {
  decide,
  decideOverride,
  type GuardInput,
  needsLeavingCheck,
  needsRunCheck,
  runCheckOf,
} from '../../lambda/flag-guard/decide';
import type { FlagSet } from '../../lib/flags/invariants';

const completed = { completed: true, completedAt: '2026-11-26T10:00:00Z', runId: 'run-1' } as const;
const completedText = JSON.stringify(completed);
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
const now = new Date('2026-11-27T07:00:00Z');
const override = {
  acceptDataLoss: true,
  reason: 'users DB corrupted, INC-4711',
  expiresAt: '2026-11-27T08:00:00Z',
} as const;

const version = (v: number, value: string, labels: string[] = []) => ({ version: v, value, labels });

function input(overrides: Partial<GuardInput> & Pick<GuardInput, 'kind'>): GuardInput {
  return {
    parameter: { exists: true, latest: version(3, '{"mode":"off"}') },
    recordText: '{"mode":"percent","percent":10}',
    validated: before,
    now,
    maxBytes: 4096,
    ...overrides,
  };
}

describe('flag guard decisions', () => {
  it('accepts a valid new version: label it and record it', () => {
    expect(decide(input({ kind: 'routing' }))).toEqual({
      action: 'accept',
      version: 3,
      text: '{"mode":"off"}',
      label: true,
    });
  });

  it('does nothing for a labelled version that is also recorded (a repeated event, its own label event)', () => {
    const recorded = '{"mode":"off"}';
    expect(
      decide(
        input({
          kind: 'routing',
          recordText: recorded,
          parameter: { exists: true, latest: version(3, recorded, ['last-good']) },
        }),
      ),
    ).toEqual({ action: 'none', reason: 'version 3 is checked and recorded' });
  });

  it('checks a labelled version that is not recorded (a label it did not place) like any write', () => {
    const d = decide(
      input({
        kind: 'routing',
        validated: after,
        recordText: '{"mode":"all","users":[],"percent":0}',
        parameter: { exists: true, latest: version(7, '{"mode":"off"}', ['last-good']) },
      }),
    );
    expect(d).toMatchObject({
      action: 'restore',
      badVersion: 7,
      restoreValue: '{"mode":"all","users":[],"percent":0}',
    });
  });

  it('re-labels a valid version whose label was removed, without rewriting it', () => {
    const recorded = '{"mode":"off"}';
    expect(
      decide(
        input({
          kind: 'routing',
          recordText: recorded,
          parameter: { exists: true, latest: version(3, recorded) },
        }),
      ),
    ).toEqual({ action: 'accept', version: 3, text: recorded, label: true });
  });

  it('restores the recorded text when the new version does not parse', () => {
    expect(
      decide(input({ kind: 'routing', parameter: { exists: true, latest: version(3, '{"mode":"maybe"}') } })),
    ).toEqual({
      action: 'restore',
      badVersion: 3,
      problems: ['routing.mode: "maybe" is not allowed; use "off", "users", "percent" or "all"'],
      restoreValue: '{"mode":"percent","percent":10}',
    });
  });

  it.each([
    ['routing', '{"mode":"percent","percent":10.5}', 'routing.percent: 10.5 is a number with a fraction'],
    ['routing', '{"mode":"percent","percent":-1}', 'routing.percent: -1 is a number with a sign'],
    ['gateway', '{"weight":1e1}', 'gateway.weight: 1e1 is a number with a fraction or an exponent'],
    ['gateway', '{"weight":10.0}', 'gateway.weight: 10.0 is a number with a fraction or an exponent'],
  ] as const)('names the field of a number spelled wrongly (%s %s)', (kind, text, problem) => {
    const decision = decide(input({ kind, parameter: { exists: true, latest: version(3, text) } }));
    expect(decision).toMatchObject({ action: 'restore', problems: [expect.stringContaining(problem)] });
    expect(JSON.stringify(decision)).not.toMatch(/at character/);
  });

  it('restores a deleted parameter from its record', () => {
    expect(decide(input({ kind: 'routing', parameter: { exists: false } }))).toMatchObject({
      action: 'restore',
      restoreValue: '{"mode":"percent","percent":10}',
      problems: [expect.stringMatching(/deleted/)],
    });
  });

  it('after the cutover, restores routing to "all" even without a record, never to the initial "off"', () => {
    const d = decide(
      input({
        kind: 'routing',
        validated: after,
        recordText: undefined,
        parameter: { exists: true, latest: version(1, '{"mode":"off","users":[],"percent":0}') },
      }),
    );
    expect(d).toMatchObject({ action: 'restore', restoreValue: '{"mode":"all","users":[],"percent":0}' });
  });

  it('keeps a completed cutover completed: a re-created {"completed":false} is restored from the record', () => {
    const d = decide(
      input({
        kind: 'cutover',
        validated: after,
        recordText: completedText,
        parameter: { exists: true, latest: version(1, '{"completed":false}') },
      }),
    );
    expect(d).toMatchObject({ action: 'restore', restoreValue: completedText });
  });

  it('accepts a new cutover document only with a verified run', () => {
    const all = { ...before, routing: { mode: 'all' as const, users: [], percent: 0 } };
    const latest = version(2, completedText);
    const base = {
      kind: 'cutover' as const,
      validated: all,
      recordText: '{"completed":false}',
      parameter: { exists: true as const, latest },
    };
    expect(needsRunCheck('cutover', completedText, all)).toBe('run-1');
    expect(decide(input(base))).toMatchObject({ action: 'restore', problems: ['run run-1 was not checked'] });
    expect(decide(input({ ...base, runCheck: { ok: false, problem: 'not a run' } }))).toMatchObject({
      action: 'restore',
      problems: ['not a run'],
      restoreValue: '{"completed":false}',
    });
    expect(decide(input({ ...base, runCheck: { ok: true } }))).toMatchObject({
      action: 'accept',
      version: 2,
    });
  });

  it('needs no run check for the recorded cutover itself', () => {
    expect(needsRunCheck('cutover', completedText, after)).toBeUndefined();
    expect(needsRunCheck('routing', completedText, before)).toBeUndefined();
  });

  it('after the cutover, accepts routing away from "all" only with both keys in force', () => {
    const key2 = { expiresAt: override.expiresAt, acceptDataLoss: 'INC-4711, approved by the CTO' };
    const off = (doc: object) => ({ exists: true as const, latest: version(9, JSON.stringify(doc)) });
    const base = {
      kind: 'routing' as const,
      validated: after,
      recordText: '{"mode":"all","users":[],"percent":0}',
    };
    // key one alone (a valid override parameter, a raw write without the second key)
    expect(decide(input({ ...base, override, parameter: off({ mode: 'off' }) }))).toMatchObject({
      action: 'restore',
    });
    // key two alone
    expect(decide(input({ ...base, parameter: off({ mode: 'off', override: key2 }) }))).toMatchObject({
      action: 'restore',
    });
    // both, but the override has expired
    expect(
      decide(
        input({
          ...base,
          override,
          now: new Date(override.expiresAt),
          parameter: off({ mode: 'off', override: key2 }),
        }),
      ),
    ).toMatchObject({ action: 'restore' });
    // both keys, in force
    expect(
      decide(input({ ...base, override, parameter: off({ mode: 'off', override: key2 }) })),
    ).toMatchObject({
      action: 'accept',
    });
  });

  it('refuses an override block before the cutover', () => {
    const doc = {
      mode: 'off',
      override: { expiresAt: override.expiresAt, acceptDataLoss: 'INC-4711, approved' },
    };
    expect(
      decide(
        input({ kind: 'routing', parameter: { exists: true, latest: version(4, JSON.stringify(doc)) } }),
      ),
    ).toMatchObject({
      action: 'restore',
      problems: ['routing.override only applies after the point of no return; remove it'],
    });
  });

  it('checks a write against the tier of its parameter', () => {
    const big = JSON.stringify({ mode: 'users', users: Array.from({ length: 600 }, (_, i) => `user-${i}`) });
    expect(
      decide(input({ kind: 'routing', parameter: { exists: true, latest: version(5, big) } })),
    ).toMatchObject({
      action: 'restore',
      problems: [expect.stringMatching(/over the 4096-byte limit; .*flags\.tier/)],
    });
  });
});

describe('from phase 2, when the guard cannot know whether the cutover happened', () => {
  const unknown = { cutoverUnknown: 'no record, no marker', recordText: undefined, validated: before };
  const latest = (v: number, value: string, labels: string[] = []) => ({
    exists: true as const,
    latest: version(v, value, labels),
  });

  it('holds (writes and labels nothing) instead of re-creating a deleted flag with its initial document', () => {
    for (const kind of ['routing', 'cutover'] as const)
      expect(decide(input({ ...unknown, kind, parameter: { exists: false } }))).toEqual({
        action: 'hold',
        problems: [
          `the ${kind} parameter was deleted; it is not re-created with its initial document`,
          'no record, no marker',
        ],
      });
  });

  it('holds a routing document that could send users to the monolith, labelled or not, valid or not', () => {
    for (const parameter of [
      latest(4, '{"mode":"off","users":[],"percent":0}'),
      latest(4, '{"mode":"off","users":[],"percent":0}', ['last-good']),
      latest(4, '{"mode":"users","users":["42"],"percent":0}'),
      latest(4, '{"mode":"nonsense"}'),
    ])
      expect(decide(input({ ...unknown, kind: 'routing', parameter }))).toMatchObject({
        action: 'hold',
        version: 4,
      });
  });

  it('holds a completed cutover whose run does not check out, and a {"completed":false}, rather than restore', () => {
    const forged = latest(2, completedText);
    expect(
      decide(
        input({
          ...unknown,
          kind: 'cutover',
          parameter: forged,
          runCheck: { ok: false, problem: 'not a run' },
        }),
      ),
    ).toMatchObject({
      action: 'hold',
      problems: [expect.stringMatching(/not a run/), 'no record, no marker'],
    });
    expect(
      decide(input({ ...unknown, kind: 'cutover', parameter: latest(3, '{"completed":false}') })),
    ).toMatchObject({
      action: 'hold',
    });
  });

  it('takes what cannot send anyone to the monolith: routing all, a verified completed cutover', () => {
    expect(
      decide(
        input({ ...unknown, kind: 'routing', parameter: latest(5, '{"mode":"all","users":[],"percent":0}') }),
      ),
    ).toMatchObject({ action: 'accept', version: 5 });
    expect(
      decide(
        input({
          ...unknown,
          validated: { ...before, routing: after.routing },
          kind: 'cutover',
          parameter: latest(2, completedText),
          runCheck: { ok: true },
        }),
      ),
    ).toMatchObject({ action: 'accept', version: 2 });
  });

  it('decides the gateway weight as usual (it sends nobody to the monolith: the legacy proxy routes)', () => {
    expect(
      decide(input({ ...unknown, kind: 'gateway', parameter: { exists: false }, validated: after })),
    ).toMatchObject({ action: 'restore', restoreValue: '{"weight":0}' });
  });
});

describe('the override parameter', () => {
  const write = (doc: object, at = now) => ({ ...version(2, JSON.stringify(doc)), modifiedAt: at });

  it('labels a valid override that expires within 24 hours of its write', () => {
    expect(decideOverride(write(override), now)).toMatchObject({ action: 'accept', version: 2, label: true });
  });

  it('rejects (alerts only: it never writes the override) one that expires later than 24 hours after its write', () => {
    const far = { ...override, expiresAt: '2026-11-28T08:00:00Z' };
    expect(decideOverride(write(far), now)).toMatchObject({
      action: 'reject',
      problems: [expect.stringMatching(/more than 24 hours after the write/)],
    });
    expect(decideOverride(write({ ...override, acceptDataLoss: false }), now)).toMatchObject({
      action: 'reject',
    });
  });
});

describe('the run a cutover document names', () => {
  const exit = (output: object) => ({
    type: 'TaskStateExited',
    stateExitedEventDetails: { name: 'RunBulkMigration', output: JSON.stringify(output) },
  });
  const arn = 'arn:aws:states:eu-west-1:123456789012:execution:demo-users-cutover:run-1';

  it('must exist, be running, and have its bulk migration and its verification exit 0', () => {
    expect(runCheckOf('run-1', arn, undefined, [])).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not an execution/),
    });
    expect(runCheckOf('run-1', arn, 'SUCCEEDED', [exit({ task: { exitCode: 0 } })])).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/SUCCEEDED, not running/),
    });
    expect(runCheckOf('run-1', arn, 'RUNNING', [])).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not finished/),
    });
    expect(runCheckOf('run-1', arn, 'RUNNING', [exit({ task: { exitCode: 3 } })])).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/exited with 3/),
    });
    expect(runCheckOf('run-1', arn, 'RUNNING', [exit({ task: { exitCode: 0 } })])).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/has not finished its verification yet/),
    });
    const verified = (exitCode: number) => ({
      type: 'TaskStateExited',
      stateExitedEventDetails: {
        name: 'RunVerification',
        output: JSON.stringify({ task: { exitCode: 0 }, verification: { task: { exitCode } } }),
      },
    });
    expect(runCheckOf('run-1', arn, 'RUNNING', [exit({ task: { exitCode: 0 } }), verified(1)])).toMatchObject(
      {
        ok: false,
        problem: expect.stringMatching(/the verification exited with 1, not 0/),
      },
    );
    expect(
      runCheckOf('run-1', arn, 'RUNNING', [
        { type: 'TaskStateEntered' },
        exit({ task: { exitCode: 0 } }),
        verified(0),
      ]),
    ).toEqual({
      ok: true,
    });
  });
});

describe('a routing write that sends users back while a rollback is possible', () => {
  const stranded = [{ userId: '42', rows: 2, oldestAt: '2026-11-27T06:59:00.000Z', lossAccepted: false }];

  it('is checked only when someone leaves, before the cutover, and not when the automatic rollback wrote it', () => {
    const off = { value: '{"mode":"off","users":[],"percent":10}' };
    expect(needsLeavingCheck('users', 'routing', off, before)).toEqual({
      from: before.routing,
      to: { mode: 'off', users: [], percent: 10 },
    });
    expect(
      needsLeavingCheck('users', 'routing', { value: '{"mode":"percent","users":[],"percent":20}' }, before),
    ).toBeUndefined();
    expect(needsLeavingCheck('users', 'routing', rollbackWrite, before)).toBeUndefined();
    expect(needsLeavingCheck('users', 'routing', off, after)).toBeUndefined();
    expect(needsLeavingCheck('users', 'gateway', { value: '{"weight":0}' }, before)).toBeUndefined();
  });

  const rollbackWrite = {
    value: '{"mode":"off","users":[],"percent":10,"reason":"auto-rollback: demo-users-5xx-rate"}',
  };
  const role = 'demo-60-operations-AutoRollbackRole1A2B3C-XYZ';

  it("takes the rollback's reason as its write only from a session of the rollback's role", () => {
    const by = (modifiedBy: string) => ({ ...rollbackWrite, modifiedBy });
    const rollbackSession = `arn:aws:sts::123456789012:assumed-role/${role}/demo-auto-rollback`;
    expect(needsLeavingCheck('users', 'routing', by(rollbackSession), before, role)).toBeUndefined();
    // The CLI (an operator's role) or a raw write giving the same reason is checked like any write.
    for (const writer of [
      'arn:aws:sts::123456789012:assumed-role/demo-migration-operator/alice',
      `arn:aws:sts::123456789012:assumed-role/${role}-copy/demo-auto-rollback`,
      `arn:aws:iam::123456789012:user/${role}`,
    ])
      expect(needsLeavingCheck('users', 'routing', by(writer), before, role)).toMatchObject({
        to: { mode: 'off' },
      });
    // No ARN recorded (an emulator) or no role known (a guard deployed before it had one): the reason decides.
    expect(needsLeavingCheck('users', 'routing', by('N/A'), before, role)).toBeUndefined();
    expect(needsLeavingCheck('users', 'routing', by('arn:aws:iam::1:user/x'), before)).toBeUndefined();
  });

  it('is restored while leaving users have writes pending, naming them and the safe command', () => {
    const decision = decide(
      input({ kind: 'routing', service: 'users', leavingCheck: { ok: true, stranded } }),
    );
    expect(decision).toMatchObject({
      action: 'restore',
      problems: [expect.stringMatching(/sends 1 user back .* \(42\)\.*.*npm run migrate -- route users off/)],
    });
  });

  it('is accepted when nobody leaving has writes pending', () => {
    expect(decide(input({ kind: 'routing', leavingCheck: { ok: true, stranded: [] } }))).toMatchObject({
      action: 'accept',
    });
  });

  it('is accepted, saying so, when the write-back function cannot be asked: a rollback is never blocked by the check', () => {
    expect(
      decide(
        input({
          kind: 'routing',
          leavingCheck: { ok: false, problem: 'could not ask demo-users-write-back (no answer within 10 s)' },
        }),
      ),
    ).toMatchObject({
      action: 'accept',
      unchecked: 'could not ask demo-users-write-back (no answer within 10 s)',
    });
  });
});

describe('the gateway weight and routing agree (issue 24): the guard restores what would split a user', () => {
  it('restores a weight above 0 written while routing is not "all" and no cutover is recorded', () => {
    expect(
      decide(
        input({
          kind: 'gateway',
          service: 'users',
          parameter: { exists: true, latest: version(4, '{"weight":50}') },
          recordText: '{"weight":0}',
        }),
      ),
    ).toEqual({
      action: 'restore',
      badVersion: 4,
      problems: [
        expect.stringMatching(
          /routing is "percent" and no cutover is recorded.*Route everyone first: npm run migrate -- route users all$/,
        ),
      ],
      restoreValue: '{"weight":0}',
    });
  });

  it('restores routing narrowed while the validated weight is above 0, naming gateway 0 first', () => {
    const weighted: FlagSet = {
      ...before,
      routing: { mode: 'all', users: [], percent: 0 },
      gateway: { weight: 30 },
    };
    expect(
      decide(
        input({
          kind: 'routing',
          service: 'users',
          validated: weighted,
          recordText: '{"mode":"all","users":[],"percent":0}',
        }),
      ),
    ).toMatchObject({
      action: 'restore',
      problems: [expect.stringMatching(/Run npm run migrate -- gateway users 0 first$/)],
      restoreValue: '{"mode":"all","users":[],"percent":0}',
    });
  });
});
