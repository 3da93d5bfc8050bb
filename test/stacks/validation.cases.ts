/**
 * CDK's built-in CloudFormation Validate (schema, linting, misconfigurations), with its findings as
 * errors (cdk.json: `@aws-cdk/core:validateAgainstDefaultRules`), and cdk-nag AwsSolutions as
 * bin/app.ts adds it, over the demo in every phase and routing mode: the apps the other cases build
 * for one property each skip both (test/helpers/test-app.ts).
 * `npm run synth` runs it over the demo as configured, and CI lints those templates with cfn-lint too.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import { addNagChecks } from '../../lib/app';
import { buildStacks, config, demoInput, testApp } from '../helpers/test-app';

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
  'phase 3, alb': (i) => (i.services[0].gateway = 'alb'),
  'phase 1, in-app routing': (i) => {
    i.services[0].phase = 1;
    i.routing = { mode: 'in-app' };
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

  it('fails the synthesis on a finding (the check is on)', () => {
    // The apps above are test apps with `validate`, as this one: a single stack shows the check works.
    const app = testApp({ validate: true });
    const stack = new Stack(app, 'Probe');
    // A resource type CloudFormation does not have.
    new CfnResource(stack, 'NoSuchThing', { type: 'AWS::NoSuch::Thing', properties: { Size: 'big' } });
    expect(() => app.synth()).toThrow(/NoSuch|validation/i);
  });
});
