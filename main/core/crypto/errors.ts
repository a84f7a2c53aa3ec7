// Typed errors of the crypto library. Messages are fixed, human-readable strings:
// they never contain key material, plaintext, or anything derived from either.

export type CryptoErrorCode =
  | 'NOT_READY' // initCrypto() has not completed
  | 'INVALID_ARGUMENT' // a caller passed something the API does not accept (ids out of range, ...)
  | 'BAD_SIGNATURE' // a prekey signature does not verify under the identity key
  | 'BAD_KEY' // a key has the wrong size, is not a valid point, or does not match its pair
  | 'DECRYPT_FAILED' // authentication failed (tampered, wrong key, expired skipped key)
  | 'REPLAY' // the message key was already used and deleted
  | 'TOO_MANY_SKIPPED' // accepting the message would skip more than MAX_SKIP keys
  | 'UNKNOWN_PREKEY' // a prekey message names a prekey the responder no longer has
  | 'BAD_VERSION' // a serialised object or message of a version this code does not know
  | 'MALFORMED' // bytes that do not parse
  | 'WRONG_SESSION'; // a message that belongs to another session

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
