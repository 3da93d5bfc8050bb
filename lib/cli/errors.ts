/** A mistake in what was typed: exit code 2, nothing was called. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The rules forbid the change: exit code 3, nothing was written. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

/** A run (the cutover) ended without success: exit code 1; its message says what happened and what to do. */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
}
