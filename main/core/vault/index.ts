// The database key: random 256-bit, wrapped by a KeyProtector (passphrase via Argon2id, or the
// OS keychain through Electron safeStorage, implemented in main/electron).
export { VaultError, type VaultErrorCode } from './errors.js';
export {
  ARGON2_LIMITS,
  DB_KEY_BYTES,
  WRAPPED_KEY_VERSION,
  WrappedKeySchema,
  PassphraseWrappedKeySchema,
  OsKeychainWrappedKeySchema,
  type KeyProtector,
  type ProtectorKind,
  type WrappedKey,
  type PassphraseWrappedKey,
  type OsKeychainWrappedKey,
} from './wrapped-key.js';
export { argon2id, checkArgon2idParams, ARGON2ID_PRESETS, type Argon2idParams } from './argon2.js';
export { PassphraseKeyProtector, type PassphraseKeyProtectorOptions } from './passphrase.js';
export {
  createVault,
  unlockVault,
  rewrapVault,
  vaultExists,
  readVaultInfo,
  parseKeyring,
  KEYRING_FILE,
  type VaultInfo,
} from './vault.js';
