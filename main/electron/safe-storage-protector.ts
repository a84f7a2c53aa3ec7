// KeyProtector backed by the OS keychain through Electron's safeStorage.
// On Linux, safeStorage may fall back to 'basic_text' (a hard-coded key): that is no
// protection at all, so we refuse it and the app asks for a passphrase instead.
import { safeStorage } from 'electron';
import { fromBase64url, toBase64url } from '../../shared/encoding/base64url.js';
import { VaultError } from '../core/vault/errors.js';
import { WRAPPED_KEY_VERSION, type KeyProtector, type WrappedKey } from '../core/vault/wrapped-key.js';

export function osKeychainUsable(): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false;
  if (process.platform === 'linux') {
    const backend = safeStorage.getSelectedStorageBackend();
    if (backend === 'basic_text' || backend === 'unknown') return false;
  }
  return true;
}

export class SafeStorageKeyProtector implements KeyProtector {
  readonly kind = 'os-keychain' as const;

  async wrap(key: Uint8Array): Promise<WrappedKey> {
    if (!osKeychainUsable()) throw new VaultError('PROTECTOR_FAILED', 'The system keychain is not available.');
    const ciphertext = safeStorage.encryptString(toBase64url(key));
    return {
      version: WRAPPED_KEY_VERSION,
      kind: 'os-keychain',
      ciphertext: toBase64url(ciphertext),
      ...(process.platform === 'linux' ? { backend: safeStorage.getSelectedStorageBackend() } : {}),
    };
  }

  async unwrap(wrapped: WrappedKey): Promise<Uint8Array> {
    if (wrapped.kind !== 'os-keychain') throw new VaultError('PROTECTOR_MISMATCH', 'This profile is protected by a passphrase.');
    if (!osKeychainUsable()) throw new VaultError('PROTECTOR_FAILED', 'The system keychain is not available.');
    try {
      return fromBase64url(safeStorage.decryptString(Buffer.from(fromBase64url(wrapped.ciphertext))));
    } catch {
      throw new VaultError('PROTECTOR_FAILED', 'The system keychain could not unlock this profile.');
    }
  }
}
