/** A mistake in what was typed: exit code 2, nothing was called. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The rules forbid the change: exit code 3, nothing was written. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}
