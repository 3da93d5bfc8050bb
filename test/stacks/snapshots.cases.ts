import { Template } from 'aws-cdk-lib/assertions';
import { demoStacks } from '../helpers/test-app';

/**
 * One snapshot per stack of the default config. Asset hashes are masked by the serializer in
 * test/helpers. A changed snapshot is a changed deploy: read its diff before running `jest -u`.
 */
const stacks = demoStacks();

describe.each(stacks.all.map((s) => [s.stackName, s] as const))('%s', (_name, stack) => {
  it('matches the snapshot', () => {
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });
});
