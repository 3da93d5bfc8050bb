import {
  type AppTarget,
  describeState,
  FinishRefused,
  planFinish,
  planRestore,
  planWeight,
  type RecordSet,
  readState,
} from '../../lib/dns/weighted-records';

const NAME = 'www.example.com';
const APP: AppTarget = { dnsName: 'app-alb-1.eu-west-1.elb.amazonaws.com', hostedZoneId: 'Z32O12XQLNTSW2' };
const OLD = {
  HostedZoneId: 'Z32O12XQLNTSW2',
  DNSName: 'old-alb-1.eu-west-1.elb.amazonaws.com.',
  EvaluateTargetHealth: false,
};
/** As Route 53 lists them (trailing dot; the emulator adds a TTL of 0 to an alias). */
const simple: RecordSet = { Name: `${NAME}.`, Type: 'A', TTL: 0, AliasTarget: OLD };

function state(records: RecordSet[]) {
  const r = readState(NAME, records);
  if (!r.ok) throw new Error(r.problem);
  return r.state;
}

describe('readState', () => {
  it.each<[string, RecordSet[], RegExp]>([
    [
      'no record',
      [],
      /has no A or CNAME record in the hosted zone; dns.recordName must be the name clients call today/,
    ],
    [
      'an AAAA record',
      [simple, { ...simple, Type: 'AAAA' }],
      /has AAAA records: IPv6 clients would keep reaching/,
    ],
    [
      'a latency record',
      [{ ...simple, SetIdentifier: 'eu', Region: 'eu-west-1' }],
      /uses a routing policy other than simple or weighted \(Region\); move it by hand/,
    ],
    [
      'weighted records of someone else',
      [
        { ...simple, SetIdentifier: 'blue', Weight: 1 },
        { ...simple, SetIdentifier: 'green', Weight: 1 },
      ],
      /has A records this tool did not make \(set identifiers: blue, green\)/,
    ],
  ])('refuses %s, saying what to do', (_name, records, problem) => {
    const r = readState(NAME, records);
    expect(r).toEqual({ ok: false, problem: expect.stringMatching(problem) });
  });

  it('reads other names of the listing as none of its business', () => {
    expect(
      state([{ ...simple, Name: 'api.example.com.' }, simple, { ...simple, Name: 'x.example.com.' }]),
    ).toEqual({
      kind: 'simple',
      type: 'A',
      record: simple,
    });
  });
});

describe('planWeight', () => {
  it("turns the simple record into the pair in one batch: delete, the company's record weighted, the app's alias", () => {
    const plan = planWeight(state([simple]), APP, 10);
    expect(plan.changes).toEqual([
      { Action: 'DELETE', ResourceRecordSet: { Name: `${NAME}.`, Type: 'A', AliasTarget: OLD } },
      {
        Action: 'CREATE',
        ResourceRecordSet: {
          Name: `${NAME}.`,
          Type: 'A',
          AliasTarget: OLD,
          SetIdentifier: 'legacy',
          Weight: 90,
        },
      },
      {
        Action: 'CREATE',
        ResourceRecordSet: {
          Name: `${NAME}.`,
          Type: 'A',
          SetIdentifier: 'app',
          Weight: 10,
          AliasTarget: { HostedZoneId: APP.hostedZoneId, DNSName: APP.dnsName, EvaluateTargetHealth: true },
        },
      },
    ]);
    expect(plan.summary).toBe(
      'www.example.com: the simple record becomes the weighted pair, legacy 90 / app 10 (10 % of answers to the app)',
    );
  });

  it('steps the pair with two upserts, and does nothing when it is there already', () => {
    const pair = state(
      planWeight(state([simple]), APP, 10)
        .changes.slice(1)
        .map((c) => c.ResourceRecordSet),
    );
    const plan = planWeight(pair, APP, 50);
    expect(
      plan.changes.map((c) => [c.Action, c.ResourceRecordSet.SetIdentifier, c.ResourceRecordSet.Weight]),
    ).toEqual([
      ['UPSERT', 'legacy', 50],
      ['UPSERT', 'app', 50],
    ]);
    expect(planWeight(pair, APP, 10).changes).toEqual([]);
    // A replaced load balancer of the app: the app's record follows it.
    const moved = planWeight(pair, { ...APP, dnsName: 'app-alb-2.eu-west-1.elb.amazonaws.com' }, 10);
    expect(moved.changes[1].ResourceRecordSet.AliasTarget?.DNSName).toBe(
      'app-alb-2.eu-west-1.elb.amazonaws.com',
    );
    expect(moved.summary).toMatch(/now names its current load balancer/);
  });

  it('keeps a CNAME a CNAME, with its TTL', () => {
    const cname: RecordSet = {
      Name: `${NAME}.`,
      Type: 'CNAME',
      TTL: 300,
      ResourceRecords: [{ Value: 'old.example.net' }],
    };
    const plan = planWeight(state([cname]), APP, 5);
    expect(plan.changes[2].ResourceRecordSet).toEqual({
      Name: `${NAME}.`,
      Type: 'CNAME',
      SetIdentifier: 'app',
      Weight: 5,
      TTL: 300,
      ResourceRecords: [{ Value: APP.dnsName }],
    });
  });

  it("leaves a name that points at the app's load balancer alone", () => {
    const done: RecordSet = { ...simple, AliasTarget: { ...OLD, DNSName: `dualstack.${APP.dnsName}.` } };
    expect(planWeight(state([done]), APP, 100).changes).toEqual([]);
  });
});

describe('planRestore', () => {
  it("deletes the pair and puts the company's record back as it was, in one batch", () => {
    const pair = state(
      planWeight(state([simple]), APP, 30)
        .changes.slice(1)
        .map((c) => c.ResourceRecordSet),
    );
    expect(planRestore(pair).changes).toEqual([
      { Action: 'DELETE', ResourceRecordSet: expect.objectContaining({ SetIdentifier: 'app' }) },
      { Action: 'DELETE', ResourceRecordSet: expect.objectContaining({ SetIdentifier: 'legacy' }) },
      { Action: 'UPSERT', ResourceRecordSet: { Name: `${NAME}.`, Type: 'A', AliasTarget: OLD } },
    ]);
    expect(planRestore(state([simple])).changes).toEqual([]);
  });
});

describe('planFinish', () => {
  it("refuses before the app has every answer, then leaves the app's load balancer alone as a simple record", () => {
    const at = (percent: number) =>
      state(
        planWeight(state([simple]), APP, percent)
          .changes.slice(1)
          .map((c) => c.ResourceRecordSet),
      );
    expect(() => planFinish(at(90), APP)).toThrow(FinishRefused);
    expect(() => planFinish(at(90), APP)).toThrow(/is at legacy 10 \/ app 90 .*: step it to 100 first/);
    expect(() => planFinish(state([simple]), APP)).toThrow(/step it first/);
    expect(planFinish(at(100), APP).changes).toEqual([
      { Action: 'DELETE', ResourceRecordSet: expect.objectContaining({ SetIdentifier: 'app' }) },
      { Action: 'DELETE', ResourceRecordSet: expect.objectContaining({ SetIdentifier: 'legacy' }) },
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: `${NAME}.`,
          Type: 'A',
          AliasTarget: { HostedZoneId: APP.hostedZoneId, DNSName: APP.dnsName, EvaluateTargetHealth: false },
        },
      },
    ]);
  });
});

describe('describeState', () => {
  it('names the records, the weights and the share of the app', () => {
    const pair = state(
      planWeight(state([simple]), APP, 25)
        .changes.slice(1)
        .map((c) => c.ResourceRecordSet),
    );
    expect(describeState(pair, APP)).toEqual([
      'www.example.com A: weighted, legacy 75 / app 25 (25 % of answers to the app)',
      '  legacy: alias old-alb-1.eu-west-1.elb.amazonaws.com',
      `  app: alias ${APP.dnsName}`,
      `the app's load balancer: ${APP.dnsName}`,
    ]);
  });
});
