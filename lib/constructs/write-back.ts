import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import { writeBackFunctionName } from '../naming';
import { capabilitiesOf } from '../phases';
import {
  WRITE_BACK_ENV_VARIABLE,
  WRITE_BACK_TIMEOUT_SECONDS,
  type WriteBackEnvironment,
  type WriteBackTables,
} from '../write-back/contract';
import type { DatabaseEndpoint } from './database';
import { parameterArn } from './flag-parameters';
import { HookFunction } from './hook-function';

export interface WriteBackProps {
  readonly envName: string;
  /** The service, with its write-back configured. */
  readonly service: ExtractedServiceConfig & {
    readonly writeBack: NonNullable<ExtractedServiceConfig['writeBack']>;
  };
  readonly vpc: ec2.IVpc;
  /** The legacy database: the rows are applied to it. */
  readonly legacy: DatabaseEndpoint;
  /**
   * The legacy database clients group (decision 0017): the function carries it besides its own group,
   * and the legacy database admits it, not the function's own group.
   */
  readonly legacyClientsSecurityGroupId: string;
  /** The service's database: the outbox is in it. */
  readonly outbox: DatabaseEndpoint;
  /** A legacy user limited to the configured tables and columns (default: the master, with a warning). */
  readonly legacySecretArn: string;
  /** A user of the service's database for the contract's tables (default: the database's own). */
  readonly outboxSecretArn: string;
  /** The service's cutover parameter: the function applies nothing after a completed cutover. */
  readonly cutoverParameter: string;
}

/**
 * A service's write-back (docs/data-contract.md): the function that applies the service's outbox to the
 * legacy database, in the VPC with access to both databases and their secrets (so it works whether the
 * service runs or not), invoked by name (`<name>-<service>-write-back`) by the CLI, the hooks and the
 * cutover, and every minute by a schedule while a rollback is possible (from phase 1 until the cutover
 * is recorded). Its metrics and alarms: lambda/write-back/handler.ts and WriteBackAlarms.
 */
export class WriteBack extends Construct {
  readonly function: HookFunction;
  readonly securityGroup: ec2.SecurityGroup;
  /** Absent once the cutover is recorded. */
  readonly schedule?: events.Rule;

  constructor(scope: Construct, id: string, props: WriteBackProps) {
    super(scope, id);
    const { service, legacy, outbox } = props;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${service.name} write-back: the two databases, and AWS APIs over HTTPS`,
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'Secrets Manager, SSM and CloudWatch (through the NAT gateway)',
    );
    for (const [name, db] of [
      ['Legacy', legacy],
      ['Outbox', outbox],
    ] as const) {
      const dbGroup = ec2.SecurityGroup.fromSecurityGroupId(
        this,
        `${name}DatabaseSecurityGroup`,
        db.securityGroupId,
      );
      // The function's own group keeps its narrow egress to both databases.
      this.securityGroup.addEgressRule(
        dbGroup,
        ec2.Port.tcp(db.port),
        `to the ${name.toLowerCase()} database`,
      );
      if (name === 'Outbox')
        dbGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(db.port), `${service.name} write-back`);
    }
    // Not mutable here: only the platform stack adds rules to it (its one rule into the legacy database).
    const legacyClients = ec2.SecurityGroup.fromSecurityGroupId(
      this,
      'LegacyDatabaseClients',
      props.legacyClientsSecurityGroupId,
      { mutable: false, allowAllOutbound: false },
    );

    const target = (db: DatabaseEndpoint, secretArn: string) => ({
      host: db.hostname,
      port: db.port,
      database: db.databaseName,
      secretArn,
    });
    const environment: WriteBackEnvironment = {
      service: service.name,
      cutoverParameter: props.cutoverParameter,
      cutoverRecorded: service.cutoverRecorded !== undefined,
      legacy: target(legacy, props.legacySecretArn),
      outbox: target(outbox, props.outboxSecretArn),
      tables: service.writeBack.tables as WriteBackTables,
    };
    this.function = new HookFunction(this, 'Function', {
      hook: 'write-back',
      functionName: writeBackFunctionName(props.envName, service.name),
      description: `Applies the ${service.name} service's outbox to the legacy database while a rollback is possible`,
      timeout: Duration.seconds(WRITE_BACK_TIMEOUT_SECONDS),
      environment: {
        // Tokens (the databases' endpoints from other stacks) resolve inside the JSON.
        [WRITE_BACK_ENV_VARIABLE]: Stack.of(this).toJsonString(environment),
        // The runtime's CA bundle holds the RDS certificates; pg verifies the server with it.
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      },
      vpc: {
        vpc: props.vpc,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [this.securityGroup, legacyClients],
      },
    });
    const { role } = this.function;
    for (const [name, arn] of [
      ['LegacySecret', props.legacySecretArn],
      ['OutboxSecret', props.outboxSecretArn],
    ] as const)
      secretsmanager.Secret.fromSecretCompleteArn(this, name, arn).grantRead(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameters'],
        resources: [parameterArn(this, props.cutoverParameter)],
      }),
    );

    if (capabilitiesOf(service).reversible) {
      // The next minute is the retry: a failed run is not retried, and its error alarms (WriteBackAlarms).
      this.function.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
      this.schedule = new events.Rule(this, 'Schedule', {
        description: `Writes the ${service.name} service's outbox back to the legacy database, until the cutover is recorded`,
        schedule: events.Schedule.rate(Duration.minutes(1)),
        targets: [
          new targets.LambdaFunction(this.function.function, {
            retryAttempts: 0,
            maxEventAge: Duration.minutes(1),
          }),
        ],
      });
    }
  }
}
