/**
 * The channel to a service's write-back function, for those outside the VPC (the CLI on an operator's
 * machine, the hooks): a synchronous Lambda invocation by the function's conventional name. The transport
 * is injected (the CLI and the hooks pass a Lambda Invoke; tests may pass the handler itself), so that
 * this stays free of the SDK. Every call has a hard deadline of its own.
 */
import type { ResponseOf, WriteBackRequest } from './contract';

/** One synchronous invocation: the payload in, the function's answer (or its error) out. */
export type Invoke = (
  functionName: string,
  payload: string,
  signal: AbortSignal,
) => Promise<{ readonly payload: string; readonly functionError?: string }>;

/** Asks the write-back function `functionName` one thing, within `timeoutMs`. */
export type WriteBackChannel = <R extends WriteBackRequest>(
  functionName: string,
  request: R,
  timeoutMs: number,
) => Promise<ResponseOf<R['action']>>;

/** The function answered with an error, or could not be asked in time. */
export class WriteBackUnavailableError extends Error {
  override readonly name = 'WriteBackUnavailableError';
}

export function writeBackChannel(invoke: Invoke): WriteBackChannel {
  return async (functionName, request, timeoutMs) => {
    let answer: Awaited<ReturnType<Invoke>>;
    try {
      answer = await invoke(functionName, JSON.stringify(request), AbortSignal.timeout(timeoutMs));
    } catch (e) {
      const err = e as Error;
      const why =
        err.name === 'TimeoutError' || err.name === 'AbortError'
          ? `no answer within ${Math.round(timeoutMs / 1000)} s`
          : `${err.name}: ${err.message}`;
      throw new WriteBackUnavailableError(`could not ask ${functionName} (${why})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.payload || 'null');
    } catch {
      throw new WriteBackUnavailableError(`${functionName} answered something that is not JSON`);
    }
    if (answer.functionError) {
      const message = (parsed as { errorMessage?: string } | null)?.errorMessage ?? answer.functionError;
      throw new WriteBackUnavailableError(`${functionName} failed: ${message}`);
    }
    const action = (parsed as { action?: string } | null)?.action;
    if (action !== request.action)
      throw new WriteBackUnavailableError(
        `${functionName} answered ${JSON.stringify(parsed)?.slice(0, 200)}, not a ${request.action} report`,
      );
    // Its action is the request's (checked above): the report of that action.
    return parsed as never;
  };
}
