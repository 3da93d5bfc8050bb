import { absentStackNotice, absentStacks, parseAbsentStackNotice } from '../../lib/stack-shape';
import { formatAbsent } from '../../scripts/synth-summary';
import { albMode, config, demoInput } from '../helpers/test-app';

const names = (mutate: (i: ReturnType<typeof demoInput>) => void) => {
  const input = demoInput();
  mutate(input);
  return absentStacks(config(input)).map((a) => [a.stackName, a.stateful]);
};

describe('stacks that leave the app', () => {
  it('are none for the demo (users at phase 3 through KrakenD)', () => {
    expect(names(() => {})).toEqual([]);
  });

  it('name the gateway when no service is in krakend mode any more (phase 3 -> 2, or krakend -> alb)', () => {
    expect(names((i) => (i.services[0].phase = 2))).toEqual([['demo-35-gateway', false]]);
    expect(names((i) => albMode(i.services[0]))).toEqual([['demo-35-gateway', false]]);
  });

  it('name a service back at phase 0: its service and operations stacks to delete, its data stack to keep', () => {
    expect(names((i) => (i.services[0].phase = 0))).toEqual([
      ['demo-35-gateway', false],
      ['demo-65-users-operations', false],
      ['demo-40-users-service', false],
      ['demo-20-users-data', true],
      ['demo-60-operations', false],
    ]);
  });

  it('print the exact commands, with the region of a concrete environment, and survive the annotation', () => {
    const input = demoInput();
    Object.assign(input, { account: '123456789012', region: 'eu-west-1' });
    input.services[0].phase = 2;
    const [gateway] = absentStacks(config(input));
    expect(parseAbsentStackNotice(absentStackNotice(gateway))).toEqual(gateway);
    expect(formatAbsent([gateway])).toEqual([
      'Stacks that leave the app (cdk deploy --all does not delete them; if one is deployed, after the deploy):',
      '  - demo-35-gateway: no service is at phase 3 in krakend mode; a deployed gateway stack routes nothing (its only rule never matches) but keeps its KrakenD tasks running',
      '      aws cloudformation delete-stack --stack-name demo-35-gateway --region eu-west-1',
      '      aws cloudformation wait stack-delete-complete --stack-name demo-35-gateway --region eu-west-1',
    ]);
  });
});
