/**
 * How a reader's view of a service's flags changes with each load (docs/flag-contract.md, "Reading the
 * flags"): the last good document is kept when a read fails or a text does not parse, and the cutover is
 * a latch: once seen completed, nothing a later load says un-completes it in that process. Pure.
 */
import { type CutoverDocument, parseFlag } from './documents';
import type { FlagState } from './evaluate';

/** What one read of one parameter (at `:last-good`) gave. */
export type LoadOutcome =
  | { readonly status: 'ok'; readonly text: string }
  /** The parameter or its `last-good` label does not exist. */
  | { readonly status: 'missing' }
  /** The read failed (throttled, denied, unreachable): nothing is known. */
  | { readonly status: 'error'; readonly error?: unknown };

export interface FlagLoad {
  readonly routing: LoadOutcome;
  readonly cutover: LoadOutcome;
  readonly override: LoadOutcome;
}

export interface NextFlagState {
  readonly state: FlagState;
  /** What was not taken from this load, and why (for the reader's log). */
  readonly problems: readonly string[];
}

export function nextFlagState(previous: FlagState, load: FlagLoad): NextFlagState {
  const problems: string[] = [];
  const parsed = <K extends 'routing' | 'cutover' | 'override'>(kind: K, outcome: LoadOutcome) => {
    if (outcome.status !== 'ok') return undefined;
    const result = parseFlag(kind, outcome.text);
    if (result.ok) return result.value;
    problems.push(`${kind} ignored: ${result.errors.join('; ')}`);
    return undefined;
  };

  const routing = parsed('routing', load.routing) ?? previous.routing;

  let cutover: CutoverDocument | undefined = parsed('cutover', load.cutover) ?? previous.cutover;
  if (previous.cutover?.completed && !cutover?.completed) {
    problems.push(
      `cutover stays completed (run ${previous.cutover.runId}): a completed cutover is never undone by a later read`,
    );
    cutover = previous.cutover;
  }

  // An override that cannot be read as valid is no override; only a failed read keeps the last one.
  const override = load.override.status === 'error' ? previous.override : parsed('override', load.override);

  return {
    state: {
      ...(routing ? { routing } : {}),
      ...(cutover ? { cutover } : {}),
      ...(override ? { override } : {}),
    },
    problems,
  };
}
