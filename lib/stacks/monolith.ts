/**
 * What the legacy service of the platform stack runs, by `legacy.mode`:
 * - `hosted`: the monolith's container, told its database under the configured variable names, with the
 *   routing proxy in front of it in the same task (or alone, routing itself, in `in-app` mode);
 * - `external`: the routing proxy alone, in front of a monolith that already serves production elsewhere,
 *   forwarding to its address. The service keeps the legacy service's name, target group, security group,
 *   Service Connect client, scaling and logs, so that everything built on them (the services' ingress, the
 *   alarms, the traffic switch) is the same in both modes.
 * Wiring for the platform stack, in the stack's own scope (the construct ids are the stack's).
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { ContainerServiceConfig, LegacyConfig } from '../config/types';
import type { DatabaseEndpoint } from '../constructs/database';
import type { FrontProxyProps, WebServiceProps } from '../constructs/web-service';
import type { RoutingWiring } from '../proxy/wiring';

/** The legacy service's task: which containers, with what. */
export function monolithTask(
  scope: Construct,
  legacy: LegacyConfig,
  db: DatabaseEndpoint,
  migration: RoutingWiring,
  routingProxy: FrontProxyProps | undefined,
): Pick<WebServiceProps, 'config' | 'app' | 'extraEnvironment' | 'extraSecrets' | 'frontProxy'> {
  if (legacy.mode === 'external') {
    // The schema refuses in-app routing for an external monolith: the proxy is always there.
    const proxy = routingProxy as FrontProxyProps;
    const config: ContainerServiceConfig = {
      // Not read: the task runs no container of the monolith's (`app: 'elsewhere'`).
      image: '',
      environment: {},
      secrets: {},
      port: proxy.port,
      healthCheckPath: legacy.healthCheckPath,
      cpu: legacy.cpu,
      memoryMiB: legacy.memoryMiB,
      minCount: legacy.minCount,
      maxCount: legacy.maxCount,
      cpuTargetPercent: legacy.cpuTargetPercent,
      logRetentionDays: legacy.logRetentionDays,
    };
    return { config, app: 'elsewhere', frontProxy: proxy };
  }
  const dbSecret = secretsmanager.Secret.fromSecretCompleteArn(scope, 'LegacyDatabaseSecret', db.secretArn);
  const names = legacy.databaseVariables;
  return {
    config: legacy,
    extraEnvironment: {
      [names.host]: db.hostname,
      [names.port]: String(db.port),
      [names.name]: db.databaseName,
      ...(migration.mode === 'in-app' ? migration.inApp.environment : {}),
    },
    extraSecrets: {
      [names.username]: ecs.Secret.fromSecretsManager(dbSecret, 'username'),
      [names.password]: ecs.Secret.fromSecretsManager(dbSecret, 'password'),
    },
    ...(routingProxy ? { frontProxy: routingProxy } : {}),
  };
}

/**
 * What the legacy service's tasks may reach: a hosted monolith its database; the routing proxy of an
 * external one the monolith's address, when its security group is given (ingress on the address's port).
 */
export function admitLegacyService(
  scope: Construct,
  legacy: LegacyConfig,
  db: DatabaseEndpoint,
  tasks: ec2.ISecurityGroup,
): void {
  if (legacy.mode === 'external') {
    const { securityGroupId, url } = legacy.endpoint;
    if (securityGroupId === undefined) return;
    const parsed = new URL(url);
    const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
    ec2.SecurityGroup.fromSecurityGroupId(scope, 'MonolithSecurityGroup', securityGroupId).addIngressRule(
      tasks,
      ec2.Port.tcp(port),
      'routing proxy to the monolith',
    );
    return;
  }
  // Imported by id: the database's security group lives in a stateful stack (or outside the app).
  ec2.SecurityGroup.fromSecurityGroupId(
    scope,
    'LegacyDatabaseSecurityGroup',
    db.securityGroupId,
  ).addIngressRule(tasks, ec2.Port.tcp(db.port), 'legacy service to its database');
}
