/**
 * The gateway gate's custom resource (lib/constructs/gateway-gate.ts, lambda/gateway-gate): its
 * properties, shared by the construct that writes them and the provider that reads them.
 */

/** How a service's stack routes its paths at the ALB: not at all (phase 1-2), or in one of the modes. */
export type AlbRouting = 'none' | 'alb' | 'krakend';

/** The custom resource's properties (strings, as CloudFormation passes them). */
export interface GateProperties {
  readonly Service: string;
  readonly Routing: AlbRouting;
  /** The gateway flag parameter (the gate reads its checked version, `<name>:last-good`). */
  readonly GatewayParameter: string;
  /** What the traffic switch last applied: the gateway's weight (krakend), the pin (alb). */
  readonly LiveGatewayWeightParameter: string;
  readonly LivePinParameter: string;
  /**
   * In `alb` mode, everything the pin rule is made of but the pin (listener, priority, routes, the
   * monolith's target group): the gate runs, and answers the current pin, whenever the pin rule changes.
   */
  readonly PinRule?: string;
}

/** The attribute that carries the pin of the `alb`-mode pin rule. */
export const GATE_PIN_ATTRIBUTE = 'Pin';
