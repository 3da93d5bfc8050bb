import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Phase } from '../../lib/config/types';
import type { CutoverDocument, OverrideDocument, RoutingDocument } from '../../lib/flags/documents';
import { destinationOf, type FlagState } from '../../lib/flags/evaluate';
import { destinationFor, destinationWithoutUser, serviceContext } from '../../lib/proxy/decide';

interface Decision {
  service: string;
  phase: Phase;
  cutoverRecorded: boolean;
  routing: RoutingDocument | null;
  cutover: CutoverDocument | null;
  override: OverrideDocument | null;
  now: string;
  userId: string | null;
  anonymous: 'legacy' | 'service';
  expected: string;
}

const decisions: Decision[] = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'lib', 'flags', 'vectors.json'), 'utf8'),
).decisions;

const stateOf = (d: Decision): FlagState => ({
  ...(d.routing ? { routing: d.routing } : {}),
  ...(d.cutover ? { cutover: d.cutover } : {}),
  ...(d.override ? { override: d.override } : {}),
});

describe('the proxy decision', () => {
  it('is the contract evaluator on every published decision vector', () => {
    const mismatches = decisions.filter((d) => {
      const context = { service: d.service, phase: d.phase, cutoverRecorded: d.cutoverRecorded };
      return (
        destinationFor(context, stateOf(d), d.userId ?? undefined, d.anonymous, new Date(d.now)) !==
        d.expected
      );
    });
    expect(mismatches).toEqual([]);
  });

  it('skips finding the user only when no user could change the decision', () => {
    const users = [
      undefined,
      '1',
      '42',
      '7',
      'alice',
      'bob',
      'u-99',
      ...Array.from({ length: 50 }, (_, i) => `p${i}`),
    ];
    let skipped = 0;
    let needed = 0;
    const mismatches: string[] = [];
    for (const d of decisions) {
      const context = { service: d.service, phase: d.phase, cutoverRecorded: d.cutoverRecorded };
      const now = new Date(d.now);
      const fixed = destinationWithoutUser(context, stateOf(d), now);
      if (fixed === undefined) {
        needed++;
        continue;
      }
      skipped++;
      // Compared without expect() per case (about 80 000 of them): the mismatches are listed at the end.
      for (const userId of users)
        for (const anonymous of ['legacy', 'service'] as const) {
          const got = destinationOf(context, stateOf(d), userId ? { userId, anonymous } : { anonymous }, now);
          if (got !== fixed)
            mismatches.push(`${JSON.stringify(d).slice(0, 120)} user ${userId}: ${got} != ${fixed}`);
        }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(skipped).toBeGreaterThan(0);
    expect(needed).toBeGreaterThan(0);
  });

  it('needs the user for a users or percent document before the cutover', () => {
    const context = serviceContext({
      name: 'users',
      phase: 1,
      cutoverRecorded: false,
      url: 'http://users:80',
      parameters: { routing: '/r', cutover: '/c', override: '/o' },
      routes: [],
    });
    const now = new Date();
    expect(
      destinationWithoutUser(context, { routing: { mode: 'users', users: ['42'], percent: 0 } }, now),
    ).toBeUndefined();
    expect(
      destinationWithoutUser(context, { routing: { mode: 'off', users: ['42'], percent: 0 } }, now),
    ).toBe('legacy');
    expect(destinationWithoutUser(context, {}, now)).toBe('legacy');
    expect(destinationWithoutUser({ ...context, phase: 2 }, {}, now)).toBe('unavailable');
    expect(destinationWithoutUser({ ...context, cutoverRecorded: true }, {}, now)).toBe('service');
  });
});
