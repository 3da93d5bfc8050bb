/**
 * The integ test cases, one function per `integ.*.ts` entry point: integ-runner runs the entry points
 * (with bundling, as `cdk synth` does); test/integ/snapshots.test.ts builds the same cases in jest and
 * compares them with the committed snapshots, offline.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import type { App } from 'aws-cdk-lib';
import { INITIAL_DOCUMENTS, serializeFlag } from '../../lib/flags/documents';
import { flagParameterNames } from '../../lib/flags/parameters';
import { planListenerRules } from '../../lib/gateway/alb-rules';
import { flagGuardFunctionName } from '../../lib/naming';
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
  integ.assertions
    .awsApiCall('ElasticLoadBalancingV2', 'describeListeners', {
      ListenerArns: [stacks.platform.loadBalancer.listener.listenerArn],
    })
    .expect(
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
 * rule and the service's rules at the priorities the plan gives them (lib/gateway/alb-rules.ts).
 */
export function phase3Alb(app: App): IntegTest {
  const config = demoAt(3, (input) => {
    for (const s of input.services) s.gateway = 'alb';
  });
  const stacks = buildSandboxApp(app, config);
  const plans = planListenerRules(
    config.services.filter((s) => s.phase >= 3),
    config.alb,
  );
  const priorities = plans
    .flatMap((p) => [
      ...(p.pinPriority === undefined ? [] : [p.pinPriority]),
      ...p.rules.map((r) => r.priority),
    ])
    .sort((a, b) => a - b);
  const integ = new IntegTest(app, 'Phase3Alb', {
    testCases: [...stacks.all],
    assertionStack: stacks.assertions,
    stackUpdateWorkflow: false,
  });

  // DescribeRules lists the rules by priority, the default rule last.
  integ.assertions
    .awsApiCall('ElasticLoadBalancingV2', 'describeRules', {
      ListenerArn: stacks.platform.loadBalancer.listener.listenerArn,
    })
    .expect(
      ExpectedResult.objectLike({
        Rules: Match.arrayWith(priorities.map((p) => Match.objectLike({ Priority: String(p) }))),
      }),
    );

  acknowledgeAssertionProvider(stacks.assertions);
  return integ;
}
