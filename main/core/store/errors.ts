// Typed store errors. Messages are safe to show to the user; they never contain the key or data.

export type StoreErrorCode =
  /** the key does not decrypt refuge.db (or the file is not a SQLCipher database); nothing changed */
  | 'WRONG_KEY'
  /** the database was written by a newer Refuge (user_version above what this build knows); untouched */
  | 'NEWER_SCHEMA'
  /** a migration failed; it was rolled back and the database is at the last good version */
  | 'MIGRATION_FAILED'
  /** the database could not be opened (permissions, locked, disk) */
  | 'OPEN_FAILED'
  /** a referenced row (e.g. the `before` message of a page) does not exist */
  | 'NOT_FOUND'
  /** bad argument from the caller */
  | 'INVALID_ARGUMENT'
  /** a write failed part-way inside a transaction whose callback caught the error; the transaction was rolled back */
  | 'WRITE_FAILED'
  /** the store was used after close() */
  | 'CLOSED';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
