// Maps internal errors to RefugeError: a code and a message safe to show. Never a secret.
import { RefugeError } from '../../../shared/ipc/contract.js';
import { CryptoError } from '../crypto/index.js';
import { StoreError } from '../store/index.js';
import { VaultError } from '../vault/index.js';

const VAULT_MESSAGES: Record<string, string> = {
  WRONG_PASSPHRASE: 'Wrong passphrase.',
};

export function toRefugeError(error: unknown): RefugeError {
  if (error instanceof RefugeError) return error;
  if (error instanceof VaultError) {
    return new RefugeError(error.code, VAULT_MESSAGES[error.code] ?? 'The profile key could not be unlocked.');
  }
  if (error instanceof StoreError) return new RefugeError(error.code, error.message);
  if (error instanceof CryptoError) return new RefugeError(error.code, `A cryptographic check failed (${error.code}).`);
  // Unknown errors may carry anything in their message; keep it out of the reply.
  return new RefugeError('INTERNAL', 'Something went wrong inside Refuge.');
}
