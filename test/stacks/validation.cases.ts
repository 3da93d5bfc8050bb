/**
 * CDK's built-in CloudFormation Validate (schema, linting, misconfigurations), with its findings as
 * errors (cdk.json: `@aws-cdk/core:validateAgainstDefaultRules`), and cdk-nag AwsSolutions as
 * bin/app.ts adds it, over the demo in every phase and routing mode: the apps the other cases build
 * for one property each skip both (test/helpers/test-app.ts).
 * `npm run synth` runs it over the demo as configured, and CI lints those templates with cfn-lint too.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import { addNagChecks } from '../../lib/app';
import { albMode, buildStacks, config, demoInput, testApp } from '../helpers/test-app';

type Input = ReturnType<typeof demoInput>;

// Phase 3 through KrakenD first: its templates hold every resource type of the others, and the
// validation engine (one per module registry) is built again whenever an app brings a type it lacks.
const variants: Record<string, (input: Input) => void> = {
  'phase 3, krakend': () => {},
  'phase 0': (i) => {
    for (const s of i.services) s.phase = 0;
  },
  'phase 1': (i) => (i.services[0].phase = 1),
  'phase 2': (i) => (i.services[0].phase = 2),
  'phase 3, alb': (i) => albMode(i.services[0]),
  'phase 1, in-app routing': (i) => {
    i.services[0].phase = 1;
    i.routing = { mode: 'in-app' };
  },
  'phase 1, a monolith that runs elsewhere, the company domain': (i) => {
    i.services[0].phase = 1;
    i.dns = {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'example.com',
      recordName: 'www.example.com',
      aliasName: 'app.example.com',
    };
    i.legacy = {
      mode: 'external',
      endpoint: { url: 'http://10.20.5.7:8080', securityGroupId: 'sg-0fedcba9876543210' },
      database: {
        mode: 'import',
        engine: 'postgres',
        endpoint: 'shop-legacy.abcdefghijkl.eu-west-1.rds.amazonaws.com',
        securityGroupId: 'sg-0123456789abcdef0',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/legacy-db-AbCdEf',
        databaseName: 'shop',
      },
    };
  },
};

describe('CloudFormation Validate', () => {
  // And cdk-nag (test/stacks/nag.cases.ts shows that a finding fails the synthesis).
  it.each(Object.keys(variants))('passes over every template of the demo at %s, with cdk-nag', (name) => {
    const input = demoInput();
    variants[name](input);
    const built = buildStacks(config(input), { validate: true });
    addNagChecks(built.app);
    expect(() => built.app.synth()).not.toThrow();
  });

  it('passes cdk-nag with every image in a private ECR repository, a service at every phase and mode', () => {
    // What most companies run: images in their own ECR. One app holds every phase (a service each), so
    // that every task definition pulling an image (web services, the bulk migration) is checked.
    const ecr = (repository: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${repository}:1.0.0`;
    const input = demoInput();
    input.legacy.image = ecr('monolith');
    const users = input.services[0];
    input.services = [
      ['users', 3, 'krakend'],
      ['orders', 3, 'alb'],
      ['billing', 2, 'krakend'],
      ['carts', 1, 'krakend'],
      ['reviews', 0, 'krakend'],
    ].map(([name, phase, gateway], i) => ({
      ...JSON.parse(JSON.stringify(users)),
      name,
      phase,
      gateway,
      image: ecr(`${name}-service`),
      routes: [{ path: `/api/${name}/{id}`, methods: ['GET'], servicePath: `/v1/${name}/{id}` }],
      // The demo's composite stays with users (a path belongs to one service; alb mode has none).
      composites: i === 0 ? users.composites : [],
      ...(i === 0 ? {} : { database: { ...users.database } }),
    }));
    const built = buildStacks(config(input));
    addNagChecks(built.app);
    expect(() => built.app.synth()).not.toThrow();
  });

  it('fails the synthesis on a finding (the check is on)', () => {
    // The apps above are test apps with `validate`, as this one: a single stack shows the check works.
    // A property the type does not have, on a type the apps above hold: the engine they built is reused
    // (a type it lacks, such as one CloudFormation does not have, would build it again: 0.28 s, not 0.01).
    const probe = (validate: boolean) => {
      const app = testApp({ validate });
      const stack = new Stack(app, 'Probe');
      new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { NoSuchProperty: 'big' } });
      return () => app.synth();
    };
    expect(probe(true)).toThrow(/NoSuchProperty: Additional properties are not allowed/);
    // The finding is the check's: the same app synthesizes without it.
    expect(probe(false)).not.toThrow();
  });
});
