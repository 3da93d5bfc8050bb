/**
 * How long a request may be in flight at a target, and so how long a target group keeps a deregistering
 * target (its deregistration delay): ECS deregisters a task before it stops it, and the load balancer
 * cuts the requests still in flight when the delay ends. Every rolling deployment (and every phase change
 * rolls the legacy service) goes through it, so the delay must outlast the longest request any hop lets
 * wait: the ALB's idle timeout, and the timeouts of what is behind the target (the routing proxy's, the
 * gateway's). Pure: the stacks pass the timeouts, the web service construct checks them at synth.
 */

/** The ALB's idle timeout, in seconds: the longest it keeps a connection with no byte moving. */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;

/** Added to the longest timeout: the answer's last bytes, and the ALB's own clock. */
export const DEREGISTRATION_MARGIN_SECONDS = 10;

/** The largest deregistration delay a target group accepts, in seconds. */
export const MAX_DEREGISTRATION_DELAY_SECONDS = 3600;

/** A timeout that ends a request, named by the config field (or constant) that sets it. */
export interface RequestTimeout {
  readonly name: string;
  readonly seconds: number;
}

/** The ALB's idle timeout, which bounds every target's requests. */
export const ALB_IDLE_TIMEOUT: RequestTimeout = {
  name: 'the ALB idle timeout',
  seconds: ALB_IDLE_TIMEOUT_SECONDS,
};

/**
 * The deregistration delay for a target whose requests these timeouts bound (the ALB's is always one):
 * the longest plus a margin, at most the target group's maximum; and a problem for each timeout the delay
 * does not outlast (only a timeout near the maximum), naming its field and the fix.
 */
export function deregistrationDelay(timeouts: readonly RequestTimeout[]): {
  readonly seconds: number;
  readonly problems: readonly string[];
} {
  const all = [ALB_IDLE_TIMEOUT, ...timeouts];
  const longest = Math.max(...all.map((t) => t.seconds));
  const seconds = Math.min(
    MAX_DEREGISTRATION_DELAY_SECONDS,
    Math.ceil(longest) + DEREGISTRATION_MARGIN_SECONDS,
  );
  const problems = all
    .filter((t) => t.seconds >= seconds)
    .map(
      (t) =>
        `${t.name} (${t.seconds} s) is not shorter than the target group's deregistration delay (${seconds} s, at most ${MAX_DEREGISTRATION_DELAY_SECONDS} s): requests still waiting when a task is replaced would be cut; use at most ${(MAX_DEREGISTRATION_DELAY_SECONDS - DEREGISTRATION_MARGIN_SECONDS) * 1000} ms (above the ALB idle timeout, ${ALB_IDLE_TIMEOUT_SECONDS} s, the ALB gives up first anyway)`,
    );
  return { seconds, problems };
}
