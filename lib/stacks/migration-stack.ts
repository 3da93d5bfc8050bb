import { Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { MigrationConfig, Phase } from '../config/types';

/** What every stack of the app is told about itself. */
export interface MigrationStackProps extends StackProps {
  readonly config: MigrationConfig;
}

/** How the app describes a stack: shown in the synth summary and stored as stack tags. */
export interface StackRole {
  /** The phase that introduces the stack. */
  readonly phase: Phase;
  /** Stateful stacks hold data: termination protection, and their resources are retained or snapshotted. */
  readonly stateful: boolean;
  /** One line for the stack description. */
  readonly summary: string;
}

/**
 * CloudFormation accepts tags on these types, but cfn-lint's bundled schema does not know it yet (E3002);
 * they carry no cost or ownership information worth a lint exception.
 */
const UNTAGGED_TYPES = [
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::CloudWatch::Dashboard',
];

export const TAG_PHASE = 'migration:phase';
export const TAG_STATEFUL = 'migration:stateful';

/**
 * Base of every stack: environment from the config, termination protection for stateful stacks, and
 * tags that the synth summary and cost reports read.
 */
export abstract class MigrationStack extends Stack {
  readonly config: MigrationConfig;

  protected constructor(scope: Construct, id: string, props: MigrationStackProps, role: StackRole) {
    const { config } = props;
    super(scope, id, {
      ...props,
      stackName: id,
      env: config.account ? { account: config.account, region: config.region } : undefined,
      terminationProtection: role.stateful,
      description: `${config.name} strangler-fig migration, phase ${role.phase}${role.stateful ? ', stateful' : ''}: ${role.summary}`,
    });
    this.config = config;
    for (const [key, value] of [
      ...Object.entries(config.tags),
      ['migration:environment', config.name],
      [TAG_PHASE, String(role.phase)],
      [TAG_STATEFUL, String(role.stateful)],
    ]) {
      Tags.of(this).add(key, value, { excludeResourceTypes: UNTAGGED_TYPES });
    }
  }
}

/**
 * Stack names start with a number that shows the deploy order (10 network, 20 data, 30 platform, 35
 * gateway, 40 services, 60 operations, 65 a service's operations; the gateway deploys after the stacks of
 * the services it does not route, decision 0018). Names are a contract: renaming a stateful stack
 * recreates its data.
 */
export function stackId(config: MigrationConfig, order: number, part: string): string {
  return `${config.name}-${order}-${part}`;
}
