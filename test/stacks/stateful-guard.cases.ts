import { type Template as Cfn, formatChanges, statefulChanges } from '../../lib/safety/stateful-guard';
import { allAtPhase, type demoInput, once, ordersService, templatesOf } from '../helpers/test-app';

type Input = ReturnType<typeof demoInput>;

const synth = (mutate?: (input: Input) => void) => templatesOf(mutate) as Record<string, Cfn>;

describe('the stateful-change guard', () => {
  // Built when a test first needs them, so that a failing build fails only the tests that use it.
  const at = [0, 1, 2, 3].map((phase) => once(() => synth(allAtPhase(phase))));
  const phase2 = () => at[2]();

  it.each([
    ['phase 0 -> 1', 0, 1],
    ['phase 1 -> 2', 1, 2],
    ['phase 2 -> 3', 2, 3],
  ])('finds nothing stateful replaced or deleted in %s', (_name, before, after) => {
    expect(formatChanges(statefulChanges(at[before](), at[after]()))).toBe('');
  });

  it.each<[string, (input: Input) => void]>([
    ['a new image tag', (i) => (i.services[0].image = 'public.ecr.aws/nginx/nginx:1.28-alpine')],
    ['more cpu and memory', (i) => Object.assign(i.legacy, { cpu: 1024, memoryMiB: 2048 })],
    ['other scaling bounds', (i) => Object.assign(i.services[0], { minCount: 3, maxCount: 10 })],
    ['other alarm thresholds', (i) => (i.services[0].alarms = { errorRatePercent: 2, p99LatencyMs: 800 })],
    ['new tags', (i) => (i.tags = { team: 'identity' })],
    ['the advanced tier for routing', (i) => (i.flags = { tier: 'advanced' })],
    [
      'a larger database',
      (i) => Object.assign(i.services[0].database, { allocatedStorageGiB: 100, maxAllocatedStorageGiB: 500 }),
    ],
    [
      'a second service',
      (i) =>
        i.services.push({
          name: 'orders',
          phase: 1,
          image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
          routes: [{ path: '/api/orders/{id}', methods: ['GET'], servicePath: '/orders/{id}' }],
        }),
    ],
    // The deploy-proof matrix's shape of the same name: synthesized once for both.
    ['a second service at phase 3 in alb mode', (i) => i.services.push(ordersService('alb'))],
    // Issue 27's options, on an environment of today's shape.
    [
      "the load balancer's deletion protection off, and a WAF web ACL",
      (i) =>
        Object.assign(i.alb, {
          deletionProtection: false,
          webAclArn:
            'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shop-edge/0f4d3e2c-1b2a-4c5d-8e9f-0a1b2c3d4e5f',
        }),
    ],
    [
      'the company domain: an alias record and the DNS operator policy',
      (i) =>
        (i.dns = {
          hostedZoneId: 'Z0123456789ABCDEFGHIJ',
          zoneName: 'example.com',
          recordName: 'www.example.com',
          aliasName: 'app.example.com',
        }),
    ],
    [
      "the monolith's database variables renamed",
      (i) => (i.legacy.databaseVariables = { host: 'DATABASE_HOST', password: 'DATABASE_PASSWORD' }),
    ],
  ])('finds nothing stateful replaced or deleted with %s', (_name, mutate) => {
    expect(formatChanges(statefulChanges(phase2(), synth(mutate)))).toBe('');
  });

  it('catches a deliberate replacement of the users database and names the property', () => {
    const changes = statefulChanges(
      phase2(),
      synth((i) => (i.services[0].database.databaseName = 'accounts')),
    );
    expect(changes).toEqual([
      {
        stack: 'demo-20-users-data',
        logicalId: 'DatabaseF44359DD',
        type: 'AWS::RDS::DBInstance',
        change: 'replace',
        cause: 'changed DBName',
      },
    ]);
  });

  it('catches a renamed flag parameter (a new prefix leaves the live flags behind)', () => {
    const changes = statefulChanges(
      phase2(),
      synth((i) => (i.flags = { parameterPrefix: '/demo/flags' })),
    );
    // Each names the way out (issue 24, item 8): the prefix to set back.
    const renamed = (flag: string) =>
      `changed Name: /demo/migration/users/${flag} would move to /demo/flags/users/${flag}: a flag parameter cannot be renamed, and its value, history and last-good label belong to the running system. Set flags.parameterPrefix back to "/demo/migration" in the environment file (it is now "/demo/flags"; or the service was renamed: keep its name) and deploy again. A new prefix needs a new environment (new data stacks).`;
    expect(changes.map((c) => [c.logicalId, c.change, c.cause])).toEqual([
      ['FlagsRoutingABD38FBB', 'replace', renamed('routing')],
      ['FlagsCutover793392A4', 'replace', renamed('cutover')],
      ['FlagsGateway3D54E0E5', 'replace', renamed('gateway')],
      [expect.stringMatching(/^FlagsLiveLegacyWeight/), 'replace', renamed('live/legacy-weight')],
      [expect.stringMatching(/^FlagsLiveGatewayWeight/), 'replace', renamed('live/gateway-weight')],
      [expect.stringMatching(/^FlagsLiveAlbPin/), 'replace', renamed('live/alb-pin')],
    ]);
  });

  it('catches a stateful stack that disappears (a service moved back to phase 0)', () => {
    const changes = statefulChanges(phase2(), at[0]());
    expect(changes.map((c) => `${c.stack}/${c.type}`)).toEqual(
      expect.arrayContaining([
        'demo-20-users-data/AWS::RDS::DBInstance',
        'demo-20-users-data/Custom::MigrationFlagParameter',
      ]),
    );
    // The retained secret and log groups would be orphaned, not destroyed: not reported.
    expect(changes.map((c) => c.type)).not.toContain('AWS::SecretsManager::Secret');
  });
});
