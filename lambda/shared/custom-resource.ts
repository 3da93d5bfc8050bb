/**
 * The CloudFormation custom resource protocol of the hooks that are providers: the result goes to
 * CloudFormation's pre-signed URL, even on an error (a provider that never answers holds the stack for
 * an hour).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Logger } from './log';

export interface ProviderResult {
  readonly status: 'SUCCESS' | 'FAILED';
  /** Shown in the stack's events: for a failure, what is wrong and the way out. */
  readonly reason: string;
  /** Attributes for `Fn::GetAtt`. */
  readonly data?: Readonly<Record<string, string>>;
}

/** The resource's properties as CloudFormation passes them, and on an update the previous ones. */
export function propertiesOf<P>(event: CloudFormationCustomResourceEvent): { props: P; old?: P } {
  const props = event.ResourceProperties as unknown as P;
  return event.RequestType === 'Update'
    ? { props, old: event.OldResourceProperties as unknown as P }
    : { props };
}

/** Sends the result to CloudFormation. */
export async function respond(
  event: CloudFormationCustomResourceEvent,
  result: ProviderResult,
  physicalResourceId: string,
): Promise<void> {
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '' },
    body: JSON.stringify({
      Status: result.status,
      Reason: result.reason.slice(0, 3500),
      PhysicalResourceId: physicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: false,
      ...(result.data ? { Data: result.data } : {}),
    }),
  });
  if (!response.ok) throw new Error(`CloudFormation did not take the response: HTTP ${response.status}`);
}

/**
 * A provider's whole turn: runs it, turns a throw into FAILED with the error's name and message, logs the
 * result, and answers CloudFormation with the physical id `physicalResourceId` gives.
 */
export async function serveProvider(
  event: CloudFormationCustomResourceEvent,
  logger: Logger,
  provide: () => Promise<ProviderResult>,
  physicalResourceId: string,
): Promise<void> {
  let result: ProviderResult;
  try {
    result = await provide();
  } catch (e) {
    result = { status: 'FAILED', reason: `${(e as Error).name}: ${(e as Error).message}` };
  }
  logger.log(result.status === 'SUCCESS' ? 'info' : 'error', result.reason, {
    requestType: event.RequestType,
    logicalResourceId: event.LogicalResourceId,
  });
  await respond(event, result, physicalResourceId);
}
