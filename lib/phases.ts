/**
 * What each phase brings to a service: the one place that says so. The CDK app, the CLI, the hooks
 * and the readers ask `capabilitiesOf(service)` instead of comparing phase numbers.
 */
import type { Phase } from './config/types';

export interface Capabilities {
  /** Phase 1: its database, flags and Fargate service, its alarms and hooks; readers may route to it. */
  readonly migrating: boolean;
  /**
   * Phase 2: the bulk migration task and the cutover state machine. A cutover could have happened, so a
   * reader that has not loaded its cutover document holds the service's routes instead of guessing.
   */
  readonly cutover: boolean;
  /** Phase 3: its routes at the ALB, with a gateway weight (through KrakenD or the native rewrite). */
  readonly atAlb: boolean;
  /** Phase 3 in `krakend` mode: through the shared gateway. */
  readonly throughGateway: boolean;
  /** Phase 3 in `alb` mode: the ALB rewrites to the service itself. */
  readonly nativeRewrite: boolean;
  /**
   * From phase 1 until the cutover is recorded in the environment file (`cutoverRecorded`): routing may
   * still send users back to the monolith, so their writes must reach the legacy database (the
   * write-back's schedule runs; docs/data-contract.md). The write-back function checks the cutover
   * document itself between the cutover and that deploy.
   */
  readonly reversible: boolean;
}

/** The phase that brings each capability, for messages ("deploy phase 2 first"). */
export const PHASE_OF: { readonly [K in keyof Capabilities]: Phase } = {
  migrating: 1,
  cutover: 2,
  atAlb: 3,
  throughGateway: 3,
  nativeRewrite: 3,
  reversible: 1,
};

export function capabilitiesOf(service: {
  readonly phase: number;
  readonly gateway?: 'krakend' | 'alb';
  /** The marker (the config's object), or whether there is one (a reader's context). */
  readonly cutoverRecorded?: object | boolean;
}): Capabilities {
  const atAlb = service.phase >= PHASE_OF.atAlb;
  return {
    migrating: service.phase >= PHASE_OF.migrating,
    cutover: service.phase >= PHASE_OF.cutover,
    atAlb,
    throughGateway: atAlb && (service.gateway ?? 'krakend') === 'krakend',
    nativeRewrite: atAlb && service.gateway === 'alb',
    reversible: service.phase >= PHASE_OF.reversible && !service.cutoverRecorded,
  };
}
