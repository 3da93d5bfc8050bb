/**
 * Physical names that are contracts between the CDK app and the tools that find resources by name
 * (the CLI, the hooks, the rules). Pure: imported by CDK code and by the CLI alike.
 */

/** The alarms that trigger a service's automatic rollback. */
export function serviceAlarmNames(envName: string, service: string) {
  return {
    errorRate: `${envName}-${service}-5xx-rate`,
    latency: `${envName}-${service}-p99-latency`,
    unhealthy: `${envName}-${service}-unhealthy-tasks`,
  } as const;
}

/** The cutover state machine of a service; the CLI finds it by this name. */
export function cutoverStateMachineName(envName: string, service: string): string {
  return `${envName}-${service}-cutover`;
}
