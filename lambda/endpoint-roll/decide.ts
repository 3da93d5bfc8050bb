/**
 * endpoint-roll decisions, pure: whether a change of the custom resource means the caller's tasks must
 * be replaced. ECS Service Connect gives an endpoint only to tasks started after the endpoint's
 * deployment; the resource is keyed on the endpoint (name, port, the publishing service's ARN), so it
 * rolls the caller when the endpoint is created or re-created, and never on an unrelated deploy.
 */

/** The custom resource's properties (strings, as CloudFormation passes them). */
export interface RollProperties {
  /** The endpoint, `<dnsName>:<port>@<publisher service ARN>`: the key. */
  readonly Endpoint: string;
  /** The caller's cluster and service (its name). */
  readonly Cluster: string;
  readonly Service: string;
}

export type RollDecision =
  | { readonly roll: true; readonly why: string }
  | { readonly roll: false; readonly why: string };

export function rollDecision(
  requestType: 'Create' | 'Update' | 'Delete',
  props: RollProperties,
  old?: RollProperties,
): RollDecision {
  switch (requestType) {
    case 'Create':
      return { roll: true, why: `endpoint ${props.Endpoint} created: its callers' tasks predate it` };
    case 'Update':
      if (old?.Endpoint !== props.Endpoint)
        return {
          roll: true,
          why: `endpoint changed from ${old?.Endpoint} to ${props.Endpoint}: its callers' tasks predate it`,
        };
      if (old?.Cluster !== props.Cluster || old?.Service !== props.Service)
        return {
          roll: true,
          why: `caller changed to ${props.Cluster}/${props.Service}: its tasks may predate the endpoint`,
        };
      return { roll: false, why: `endpoint ${props.Endpoint} unchanged` };
    case 'Delete':
      return { roll: false, why: 'nothing to undo: the tasks that can resolve the endpoint stay' };
  }
}
