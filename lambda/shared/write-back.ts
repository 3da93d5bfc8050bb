/**
 * The hooks' channel to the services' write-back functions (lib/write-back/invoke.ts): a synchronous
 * Lambda invocation, with a Lambda client made on the first one (most invocations of a hook make none).
 */
import { type Invoke, type WriteBackChannel, writeBackChannel } from '../../lib/write-back/invoke';
import { lazy } from './lazy';

export function lambdaWriteBackChannel(): WriteBackChannel {
  const client = lazy(async () => new (await import('./aws-lambda')).LambdaClient({ maxAttempts: 2 }));
  const invoke: Invoke = async (functionName, payload, signal) => {
    const [{ InvokeCommand }, lambda] = await Promise.all([import('./aws-lambda'), client()]);
    const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: payload }), {
      abortSignal: signal,
    });
    return {
      payload: new TextDecoder().decode(out.Payload ?? new Uint8Array()),
      ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
    };
  };
  return writeBackChannel(invoke);
}
