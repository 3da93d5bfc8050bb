/**
 * The write rules the CLI and the flag guard share (lib/flags/invariants.ts): here the two that keep the
 * gateway weight and routing from splitting one user's writes between the two databases (issue 24).
 */
import type { RoutingDocument } from '../../lib/flags/documents';
import { type FlagSet, violations } from '../../lib/flags/invariants';

const now = new Date('2026-11-27T07:00:00Z');
const completed = { completed: true, completedAt: '2026-11-26T10:00:00Z', runId: 'run-1' } as const;
const flags = (routing: RoutingDocument['mode'], weight: number, cut = false): FlagSet => ({
  routing: { mode: routing, users: ['42'], percent: 10 },
  cutover: cut ? completed : { completed: false },
  gateway: { weight },
});
const routing = (mode: RoutingDocument['mode']): RoutingDocument => ({ mode, users: ['42'], percent: 10 });
const override = {
  acceptDataLoss: true,
  reason: 'users DB corrupted, INC-4711',
  expiresAt: '2026-11-27T08:00:00Z',
} as const;

describe('the gateway weight moves only once every user is on the service', () => {
  it.each(['off', 'users', 'percent'] as const)(
    'refuses a weight above 0 while routing is "%s" and no cutover is recorded, naming the state and the fix',
    (mode) => {
      expect(violations('gateway', { weight: 50 }, flags(mode, 0), { now, service: 'users' })).toEqual([
        `the gateway weight moves only once every user is on the service: routing is "${mode}" and no cutover is recorded, so the ALB would send 50 % of all users to the service while the proxy sends the rest to the monolith, splitting users' writes between the two databases. Route everyone first: npm run migrate -- route users all`,
      ]);
    },
  );

  it('refuses it after the cutover too, while the emergency override has routing away from "all"', () => {
    expect(violations('gateway', { weight: 50 }, flags('off', 0, true), { now, service: 'users' })).toEqual([
      expect.stringMatching(
        /routing is "off" and the emergency override has sent users back to the monolith, .* Route everyone first: npm run migrate -- route users all$/,
      ),
    ]);
  });

  it('names a placeholder when the service is not given', () => {
    expect(violations('gateway', { weight: 1 }, flags('off', 0), { now })).toEqual([
      expect.stringMatching(/npm run migrate -- route <service> all$/),
    ]);
  });

  it.each([
    ['routing "all"', flags('all', 0)],
    ['a completed cutover (routing stays "all")', flags('all', 0, true)],
  ])('allows any weight with %s', (_n, current) => {
    for (const weight of [1, 50, 100])
      expect(violations('gateway', { weight }, current, { now })).toEqual([]);
  });

  it('always allows the weight back to 0', () => {
    for (const mode of ['off', 'users', 'percent', 'all'] as const)
      expect(violations('gateway', { weight: 0 }, flags(mode, 40), { now })).toEqual([]);
  });

  it('keeps the all-or-nothing rule of alb mode, next to the new one', () => {
    expect(violations('gateway', { weight: 50 }, flags('off', 0), { now, gatewayMode: 'alb' })).toEqual([
      expect.stringMatching(/all or nothing: use weight 0 or 100, not 50/),
      expect.stringMatching(/the gateway weight moves only once every user is on the service/),
    ]);
    expect(violations('gateway', { weight: 100 }, flags('all', 0), { now, gatewayMode: 'alb' })).toEqual([]);
  });
});

describe('routing narrows only once the gateway weight is 0', () => {
  const message = (mode: string) =>
    `routing narrows only once the gateway weight is 0: the ALB sends 30 % of all users to the service whatever routing says, so routing "${mode}" would send the rest of those users to the monolith and split their writes between the two databases. Run npm run migrate -- gateway users 0 first`;

  it.each(['off', 'users', 'percent'] as const)(
    'refuses routing "%s" before the cutover while the weight is above 0',
    (mode) => {
      expect(violations('routing', routing(mode), flags('all', 30), { now, service: 'users' })).toEqual([
        message(mode),
      ]);
    },
  );

  it('allows routing "all" whatever the weight, and any routing once the weight is 0', () => {
    expect(violations('routing', routing('all'), flags('all', 30), { now })).toEqual([]);
    for (const mode of ['off', 'users', 'percent', 'all'] as const)
      expect(violations('routing', routing(mode), flags('all', 0), { now })).toEqual([]);
  });

  it('refuses it after the cutover too, next to the cutover rule', () => {
    expect(violations('routing', routing('off'), flags('all', 30, true), { now, service: 'users' })).toEqual([
      expect.stringMatching(/routing must stay "all"/),
      message('off'),
    ]);
  });

  it('refuses it even with both keys of the emergency override: the override needs the weight at 0 first', () => {
    const withKeyTwo: RoutingDocument = {
      ...routing('off'),
      override: { expiresAt: override.expiresAt, acceptDataLoss: 'INC-4711 approved by the CTO' },
    };
    const context = { now, override, service: 'users' };
    expect(violations('routing', withKeyTwo, flags('all', 30, true), context)).toEqual([message('off')]);
    expect(violations('routing', withKeyTwo, flags('all', 0, true), context)).toEqual([]);
  });
});
