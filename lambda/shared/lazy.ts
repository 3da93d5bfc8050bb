/**
 * An AWS client made on first use, once. A hook builds the clients every invocation needs when it
 * starts, and the others (Step Functions in flag-guard and cutover-steps, SNS for alerts) through this:
 * their modules are chunks of their own in the bundle (hookBuildOptions: `splitting`), which Node
 * parses and runs only when an invocation needs them. Parsing and running a client's module is about
 * a twentieth of a hook's cold start each (docs/performance.md).
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

/** A client the caller already has (tests, the CLI), as a Lazy one. */
export const ready =
  <T>(client: T): Lazy<T> =>
  () =>
    Promise.resolve(client);
