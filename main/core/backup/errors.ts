// Typed backup errors. Each bad input has its own code so the UI and CLI can say what went wrong;
// messages are safe to show and never contain a passphrase, a key or anything from the file.
import { errnoCode } from '../durable-fs.js';

export type BackupErrorCode =
  /** the file does not start with the backup magic */
  | 'NOT_A_BACKUP'
  /** the file was written by a newer Refuge (format version above what this build reads) */
  | 'UNSUPPORTED_VERSION'
  /** the header names a key-derivation function this build does not know */
  | 'UNSUPPORTED_KDF'
  /** the Argon2id parameters in the header are outside the accepted range (checked before hashing) */
  | 'KDF_PARAMS_OUT_OF_RANGE'
  /** the passphrase does not open this backup */
  | 'WRONG_PASSPHRASE'
  /** the file ends early: a chunk is cut short or the final chunk is missing */
  | 'TRUNCATED'
  /** a chunk or the header failed its integrity check, or the content is malformed */
  | 'CORRUPT'
  /** there are bytes after the final chunk */
  | 'TRAILING_DATA'
  /** the job was cancelled; nothing was left behind */
  | 'CANCELLED'
  /** export: a file already exists at the chosen path (backups never overwrite) */
  | 'FILE_EXISTS'
  /** import: there is no file at the given path */
  | 'FILE_NOT_FOUND'
  /** import: the target profile already has an account */
  | 'PROFILE_EXISTS'
  /** export: the profile was locked or closed while the export ran */
  | 'LOCKED'
  /** reading or writing a file or folder failed */
  | 'IO'
  /** bad argument from the caller */
  | 'INVALID_ARGUMENT';

const MESSAGES: Record<BackupErrorCode, string> = {
  NOT_A_BACKUP: 'This file is not a Refuge backup.',
  UNSUPPORTED_VERSION: 'This backup was made by a newer version of Refuge. Update Refuge to restore it.',
  UNSUPPORTED_KDF: 'This backup uses a key-derivation method this version of Refuge does not know.',
  KDF_PARAMS_OUT_OF_RANGE: 'This backup asks for key-derivation settings outside the accepted range, so it was not opened.',
  WRONG_PASSPHRASE: 'Wrong backup passphrase.',
  TRUNCATED: 'The backup file is incomplete: it was cut off before its end. Nothing was restored.',
  CORRUPT: 'The backup file is damaged or was altered. Nothing was restored.',
  TRAILING_DATA: 'The backup file has extra data after its end. Nothing was restored.',
  CANCELLED: 'The backup was cancelled.',
  FILE_EXISTS: 'A file already exists at that path. Choose a new file name.',
  FILE_NOT_FOUND: 'There is no file at that path.',
  PROFILE_EXISTS: 'This profile already has an account. Restore into a new, empty profile.',
  LOCKED: 'Refuge was locked while the backup was being written; the partial file was removed.',
  IO: 'A file could not be read or written.',
  INVALID_ARGUMENT: 'Invalid backup request.',
};

export class BackupError extends Error {
  override readonly name = 'BackupError';
  constructor(
    readonly code: BackupErrorCode,
    message: string = MESSAGES[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function backupError(code: BackupErrorCode, detail?: string): BackupError {
  return new BackupError(code, detail ? `${MESSAGES[code]} (${detail})` : MESSAGES[code]);
}

export { errnoCode };

/** Wraps a file-system error as IO with only its errno code, never its path. */
export function ioError(error: unknown, what: string): BackupError {
  if (error instanceof BackupError) return error;
  const code = errnoCode(error);
  return new BackupError('IO', `Could not ${what} (${code ?? 'error'}).`, { cause: error });
}
