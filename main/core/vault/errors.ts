// Typed vault errors. Messages are safe to show and never contain key material or passphrases.

export type VaultErrorCode =
  /** the passphrase (or other protector secret) did not open the wrapped key; nothing was changed */
  | 'WRONG_PASSPHRASE'
  /** there is no keyring.json in the profile folder */
  | 'NOT_FOUND'
  /** createVault found a keyring.json already */
  | 'ALREADY_EXISTS'
  /** keyring.json is not valid JSON or does not match the schema */
  | 'CORRUPT'
  /** keyring.json (or the wrapped key in it) has a version this build does not know */
  | 'UNSUPPORTED_VERSION'
  /** the Argon2id parameters in the file (or passed in) are outside the accepted range */
  | 'KDF_PARAMS_OUT_OF_RANGE'
  /** the file was wrapped by a different kind of protector than the one supplied */
  | 'PROTECTOR_MISMATCH'
  /** the protector could not run (e.g. the Argon2 worker died, the OS keychain is unavailable) */
  | 'PROTECTOR_FAILED'
  /** bad argument from the caller (e.g. empty passphrase, key of the wrong length) */
  | 'INVALID_ARGUMENT'
  /** reading or writing the profile folder failed */
  | 'IO';

export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly code: VaultErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
