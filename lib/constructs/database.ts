import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct, type IConstruct } from 'constructs';
import type { CreatedDatabaseConfig, DatabaseEngine } from '../config/types';
import { idOf } from '../naming';

/**
 * How a consumer reaches a database. Plain values (tokens when the database is created by another
 * stack of this app): consumers import the security group and the secret by id in their own scope, so
 * no construct object crosses a stack boundary (that creates dependency cycles).
 */
export interface DatabaseEndpoint {
  readonly engine: DatabaseEngine;
  readonly hostname: string;
  readonly port: number;
  readonly databaseName: string;
  /** Security group attached to the database; consumers add ingress rules to it. */
  readonly securityGroupId: string;
  /** Secret with `username` and `password` (and `host`, `port`, `dbname` when created here). */
  readonly secretArn: string;
}

export const DEFAULT_PORT: Record<DatabaseEngine, number> = { postgres: 5432, mysql: 3306 };

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  /**
   * The subnets of the instance, and of its rotation function (which calls Secrets Manager).
   * @default - isolated subnets, and private ones with egress for the rotation
   */
  readonly subnets?: { readonly databases: ec2.SubnetSelection; readonly tasks: ec2.SubnetSelection };
  readonly config: CreatedDatabaseConfig;
  /**
   * Physical instance identifier. A contract: it names the log groups and changing it replaces the database.
   */
  readonly instanceIdentifier: string;
}

/**
 * An encrypted RDS instance in isolated subnets with generated master credentials in Secrets Manager,
 * deletion protection, a final snapshot on removal, TLS enforced, logs exported with retention,
 * and a security group with no rules: consumers add their own ingress.
 *
 * A failed first create must roll back cleanly, or the stack ends in ROLLBACK_FAILED and the retry fails
 * on leftovers (docs/decisions/0008): the log groups (fixed names) and the secret are retained on update
 * and delete but removed when the stack's creation rolls back (RETAIN_ON_UPDATE_OR_DELETE), and the
 * instance, whose deletion protection no rollback can pass, is created after everything else of its
 * stack (`createAfter`), so that only a failure after it needs the documented recovery.
 *
 * Construct IDs below are pinned by tests: renaming one replaces the database.
 */
export class Database extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly securityGroup: ec2.SecurityGroup;
  readonly endpoint: DatabaseEndpoint;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { config } = props;
    const port = DEFAULT_PORT[config.engine];
    const engine = engineOf(config);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.instanceIdentifier} database: ingress only from the services that use it`,
      allowAllOutbound: false,
    });

    // Created before the instance so that retention and removal are ours, not RDS's (which never expires logs).
    const logTypes = config.engine === 'postgres' ? ['postgresql', 'upgrade'] : ['error', 'slowquery'];
    const logGroups = logTypes.map(
      (type) =>
        new logs.LogGroup(this, `Logs${idOf(type)}`, {
          logGroupName: `/aws/rds/instance/${props.instanceIdentifier}/${type}`,
          retention: logs.RetentionDays.THREE_MONTHS,
          removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        }),
    );

    // Created here rather than by the instance so that its removal policy is ours to set: the secret
    // outlives the stack like the data it opens (a snapshot without its credentials is of little use).
    const secret = new rds.DatabaseSecret(this, 'Secret', { username: 'dbadmin' });
    secret.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);

    this.instance = new rds.DatabaseInstance(this, 'Resource', {
      engine,
      instanceIdentifier: props.instanceIdentifier,
      instanceType: new ec2.InstanceType(config.instanceClass),
      vpc: props.vpc,
      vpcSubnets: props.subnets?.databases ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.securityGroup],
      port,
      databaseName: config.databaseName,
      credentials: rds.Credentials.fromSecret(secret),
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: config.allocatedStorageGiB,
      maxAllocatedStorage: config.maxAllocatedStorageGiB,
      multiAz: config.multiAz,
      backupRetention: Duration.days(config.backupRetentionDays),
      copyTagsToSnapshot: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      iamAuthentication: true,
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: logTypes,
      parameterGroup: new rds.ParameterGroup(this, 'Parameters', {
        engine,
        description: `${props.instanceIdentifier}: TLS required`,
        parameters:
          config.engine === 'postgres' ? { 'rds.force_ssl': '1' } : { require_secure_transport: 'ON' },
      }),
    });
    for (const group of logGroups) this.instance.node.addDependency(group);

    if (config.secretRotationDays !== undefined) {
      this.instance.addRotationSingleUser({
        automaticallyAfter: Duration.days(config.secretRotationDays),
        // The rotation function calls the Secrets Manager API, which isolated subnets cannot reach.
        vpcSubnets: props.subnets?.tasks ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      });
    } else {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotation is off by configuration (secretRotationDays unset): the services read the credentials at task start, ' +
          'so a rotation would break their new connections until the next deploy.',
      });
    }
    Validations.of(this.instance).acknowledge(
      {
        id: 'AwsSolutions-RDS11',
        reason:
          "The engine default port is kept; access is limited by a security group that only admits the app's services.",
      },
      ...(config.multiAz
        ? []
        : [
            {
              id: 'AwsSolutions-RDS3',
              reason: 'multiAz is false by configuration for this non-production environment.',
            },
          ]),
    );

    this.endpoint = {
      engine: config.engine,
      hostname: this.instance.dbInstanceEndpointAddress,
      port,
      databaseName: config.databaseName,
      securityGroupId: this.securityGroup.securityGroupId,
      secretArn: secret.secretArn,
    };
  }

  /**
   * Creates the instance after these constructs of its stack (every resource of theirs): a failure of
   * any of them during the stack's first create then rolls back before a protected instance exists.
   * Inside this construct the instance already comes after its log groups, secret, security group,
   * subnet and parameter groups; only the secret attachment (and the rotation) come after it.
   */
  createAfter(...constructs: IConstruct[]): void {
    for (const c of constructs) this.instance.node.addDependency(c);
  }
}

function engineOf(config: CreatedDatabaseConfig): rds.IInstanceEngine {
  const [major, minor] = config.engineVersion.split('.');
  if (config.engine === 'postgres') {
    return rds.DatabaseInstanceEngine.postgres({
      version: rds.PostgresEngineVersion.of(config.engineVersion, major),
    });
  }
  return rds.DatabaseInstanceEngine.mysql({
    version: rds.MysqlEngineVersion.of(config.engineVersion, `${major}.${minor}`),
  });
}
