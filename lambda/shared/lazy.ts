/**
 * An AWS client made on first use, once. A hook makes SSM's client at start (the flag store's code
 * holds SSM's anyway), and the others through this: Step Functions in flag-guard and cutover-steps, SNS
 * for alerts, and cutover-steps' DynamoDB (the lock) and CloudWatch (the alarms), each in the steps
 * that use it. Their modules are chunks of their own in the bundle (hookBuildOptions: `splitting`),
 * which Node parses and runs only when an invocation imports them (docs/decisions/0009: flag-guard's
 * cold start went from 2.00x to 1.75x `node -e 0`).
 */
export type Lazy<T> = () => Promise<T>;

/** `make` runs on the first call; a failed one runs again on the next call. */
export function lazy<T>(make: () => Promise<T>): Lazy<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((e: unknown) => {
      made = undefined;
      throw e;
    });
    return made;
  };
}
