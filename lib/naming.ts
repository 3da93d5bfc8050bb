/**
 * Physical names that are contracts between the CDK app and the tools that find resources by name
 * (the CLI, the hooks, the rules). Pure: imported by CDK code and by the CLI alike.
 */

/** A service's name (2-16 lowercase letters or digits): config, CLI and names use this one pattern. */
export const SERVICE_NAME = /^[a-z][a-z0-9]{1,15}$/;

/**
 * The port every extracted service is published on through Service Connect (its client alias), whatever
 * port its containers listen on: the routing proxy, the monolith and the gateway call
 * `http://<service>:80`, so a new `services[].port` is a rolling deployment of the service alone, never a
 * new URL its callers must be redeployed for (decision 0019).
 */
export const SERVICE_CONNECT_PORT = 80;

/** The URL the service's callers (the routing proxy, the monolith, the gateway) reach it at. */
export function serviceUrl(service: string): string {
  return `http://${service}:${SERVICE_CONNECT_PORT}`;
}

/** A construct id from a lowercase name (`users` -> `Users`). */
export function idOf(name: string): string {
  return name[0].toUpperCase() + name.slice(1);
}

/** The alarms that trigger a service's automatic rollback. */
export function serviceAlarmNames(envName: string, service: string) {
  return {
    errorRate: `${envName}-${service}-5xx-rate`,
    latency: `${envName}-${service}-p99-latency`,
    unhealthy: `${envName}-${service}-unhealthy-tasks`,
    /** At phase 3 in `alb` mode: the service's own target group. */
    albErrorRate: `${envName}-${service}-alb-5xx-rate`,
    albLatency: `${envName}-${service}-alb-p99-latency`,
    albUnhealthy: `${envName}-${service}-alb-unhealthy-hosts`,
  } as const;
}

/**
 * The alarm on the age of the routing proxy's flags for a service (not a rollback trigger: a rollback
 * is a flag write that stale readers would not see either; a person must look).
 */
export function proxyFlagAgeAlarmName(envName: string, service: string): string {
  return `${envName}-${service}-proxy-flag-age`;
}

/** The platform stack (ECS cluster, load balancer, legacy service); the CLI reads its outputs by this name. */
export function platformStackName(envName: string): string {
  return `${envName}-30-platform`;
}

/**
 * The KrakenD gateway's stack (order 35, GATEWAY_STACK_ORDER in lib/stack-shape.ts); the CLI finds the
 * gateway's ECS service in it.
 */
export function gatewayStackName(envName: string): string {
  return `${envName}-35-gateway`;
}

/** A service's stack (its Fargate service, from phase 1); the CLI finds the service's ECS service in it. */
export function serviceStackName(envName: string, service: string): string {
  return `${envName}-40-${service}-service`;
}

/** The IAM managed policy that lets a person step the clients' DNS name (`npx migrate dns`). */
export function dnsOperatorPolicyName(envName: string): string {
  return `${envName}-migration-dns-operator`;
}

/** The cutover state machine of a service; the CLI finds it by this name. */
export function cutoverStateMachineName(envName: string, service: string): string {
  return `${envName}-${service}-cutover`;
}

/** The flag guard function: the CLI and the cutover state machine invoke it to check a write at once. */
export function flagGuardFunctionName(envName: string): string {
  return `${envName}-flag-guard`;
}

/**
 * The cutover-steps hook (lock and checks of the cutover runs): the services' cutover state machines, in
 * their own stacks, invoke it by this name.
 */
export function cutoverStepsFunctionName(envName: string): string {
  return `${envName}-cutover-steps`;
}

/**
 * A service's write-back function (docs/data-contract.md): the CLI, the flag guard, the automatic
 * rollback and the cutover state machine invoke it by this name, so none of them needs a reference to
 * the service's stack.
 */
export function writeBackFunctionName(envName: string, service: string): string {
  return `${envName}-${service}-write-back`;
}

/** The alarms on a service's write-back: rows waiting too long, and the function failing. */
export function writeBackAlarmNames(envName: string, service: string) {
  return {
    lag: `${envName}-${service}-write-back-lag`,
    errors: `${envName}-${service}-write-back-errors`,
  } as const;
}

/** The IAM managed policies to attach to people's roles (docs/runbook.md, "Who may write what"). */
export function operatorPolicyNames(envName: string) {
  return {
    operator: `${envName}-migration-operator`,
    breakGlass: `${envName}-migration-break-glass`,
  } as const;
}

/**
 * Template metadata of a service data stack that records a completed cutover (services[].cutoverRecorded):
 * readers route the service to the new service on it alone, so the stateful guard reports its removal.
 */
export const CUTOVER_MARKER_METADATA = 'MigrationCutoverRecorded';

/** The KrakenD gateway's alarms; every `krakend`-mode service's automatic rollback reacts to them. */
export function gatewayAlarmNames(envName: string) {
  return {
    errorRate: `${envName}-gateway-5xx-rate`,
    latency: `${envName}-gateway-p99-latency`,
    unhealthy: `${envName}-gateway-unhealthy-hosts`,
    tasks: `${envName}-gateway-unhealthy-tasks`,
  } as const;
}
