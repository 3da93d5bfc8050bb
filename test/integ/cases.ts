/**
 * The integ test cases, one function per `integ.*.ts` entry point: integ-runner runs the entry points
 * (with bundling, as `cdk synth` does); test/integ/snapshots.test.ts builds the same cases in jest and
 * compares them with the committed snapshots, offline.
 */
import { ExpectedResult, type IApiCall, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import type { App } from 'aws-cdk-lib';
import { INITIAL_DOCUMENTS, serializeFlag } from '../../lib/flags/documents';
import { flagParameterNames } from '../../lib/flags/parameters';
import { planListenerRules } from '../../lib/gateway/alb-rules';
import { flagGuardFunctionName } from '../../lib/naming';
import { albMode } from '../helpers/config-input';
import { acknowledgeAssertionProvider, buildSandboxApp, demoAt } from './integ-app';

/**
 * The demo with `users` at phase 1, deployed once: the routing flag exists with its safe initial
 * document under the `last-good` label every reader reads, the flag guard exists, and the ALB still
 * sends everything to the monolith.
 */
export function phase1(app: App): IntegTest {
  const config = demoAt(1);
  const stacks = buildSandboxApp(app, config);
  const names = flagParameterNames(config.flags.parameterPrefix, 'users');
  const integ = new IntegTest(app, 'Phase1', {
    testCases: [...stacks.all],
    assertionStack: stacks.assertions,
    // The update workflow would first deploy the committed snapshot, which holds no Lambda code.
    stackUpdateWorkflow: false,
  });

  integ.assertions.awsApiCall('SSM', 'getParameter', { Name: `${names.routing}:last-good` }).expect(
    ExpectedResult.objectLike({
      Parameter: {
        Name: names.routing,
        Selector: ':last-good',
        Value: serializeFlag('routing', INITIAL_DOCUMENTS.routing),
      },
    }),
  );

  const guard = flagGuardFunctionName(config.name);
  integ.assertions
    .awsApiCall('Lambda', 'getFunctionConfiguration', { FunctionName: guard })
    .expect(ExpectedResult.objectLike({ FunctionName: guard, State: 'Active' }));

  // Phase 1 adds no listener rule: the listener's default action forwards to the monolith.
  elbCall(integ, 'describeListeners', {
    ListenerArns: [stacks.platform.loadBalancer.listener.listenerArn],
  }).expect(
    ExpectedResult.objectLike({
      Listeners: [
        {
          DefaultActions: Match.arrayWith([
            Match.objectLike({
              Type: 'forward',
              TargetGroupArn: stacks.platform.legacy.targetGroup.targetGroupArn,
            }),
          ]),
        },
      ],
    }),
  );

  acknowledgeAssertionProvider(stacks.assertions);
  return integ;
}

/**
 * The demo with `users` at phase 3 in `alb` mode (native rewrite, no gateway): the listener has the pin
 * rule and the service's rules at the priorities the plan gives them (lib/gateway/alb-rules.ts), each
 * forwarding where it should.
 */
export function phase3Alb(app: App): IntegTest {
  const config = demoAt(3, (input) => {
    for (const s of input.services) albMode(s);
  });
  const stacks = buildSandboxApp(app, config);
  const plans = planListenerRules(
    config.services.filter((s) => s.phase >= 3),
    config.alb,
  );
  // Where each planned rule forwards: a pin to the monolith (a first deploy pins the routes there, see
  // lib/gateway/alb-rules.ts), the service's rules to its own target group.
  const legacy = stacks.platform.legacy.targetGroup.targetGroupArn;
  const targets = new Map<number, string>();
  for (const plan of plans) {
    const service = stacks.services.find((s) => s.config.name === plan.service)?.service;
    if (!service) throw new Error(`no service stack for ${plan.service}`);
    if (plan.pinPriority !== undefined) targets.set(plan.pinPriority, legacy);
    for (const rule of plan.rules) targets.set(rule.priority, service.web.targetGroup.targetGroupArn);
  }
  const integ = new IntegTest(app, 'Phase3Alb', {
    testCases: [...stacks.all],
    assertionStack: stacks.assertions,
    stackUpdateWorkflow: false,
  });

  // One call per priority: arrayWith matches in order, and DescribeRules does not document its order.
  const listenerArn = stacks.platform.loadBalancer.listener.listenerArn;
  for (const [priority, targetGroupArn] of targets) {
    elbCall(integ, 'describeRules', { ListenerArn: listenerArn }).expect(
      ExpectedResult.objectLike({
        Rules: Match.arrayWith([
          Match.objectLike({
            Priority: String(priority),
            Actions: [Match.objectLike({ Type: 'forward', TargetGroupArn: targetGroupArn })],
          }),
        ]),
      }),
    );
  }

  acknowledgeAssertionProvider(stacks.assertions);
  return integ;
}

/**
 * An Elastic Load Balancing v2 read. integ-tests derives the IAM action from the SDK service name
 * (`elasticloadbalancingv2:...`, which does not exist): grant the real one (`elasticloadbalancing:...`).
 */
function elbCall(integ: IntegTest, api: string, parameters: Record<string, unknown>): IApiCall {
  const call = integ.assertions.awsApiCall('ElasticLoadBalancingV2', api, parameters);
  // The provider's role is shared by the test's calls: one statement per action is enough.
  const granted = grantedElbActions.get(integ) ?? new Set<string>();
  grantedElbActions.set(integ, granted);
  if (!granted.has(api)) {
    granted.add(api);
    call.provider.addToRolePolicy({
      Effect: 'Allow',
      Action: [`elasticloadbalancing:${api[0].toUpperCase()}${api.slice(1)}`],
      Resource: ['*'],
    });
  }
  return call;
}

const grantedElbActions = new WeakMap<IntegTest, Set<string>>();
