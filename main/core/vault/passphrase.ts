// PassphraseKeyProtector: the database key wrapped under a key-encryption key (KEK) derived from
// the user's passphrase with Argon2id (in a worker thread), then sealed with XChaCha20-Poly1305.
// The record's header (everything but the ciphertext) is the AEAD's associated data, so
// parameters, salt or nonce cannot be swapped without the tag failing.
import sodium from 'libsodium-wrappers-sumo';
import { fromBase64url, toBase64url } from '../../../shared/encoding/base64url.js';
import { argon2id, ARGON2ID_PRESETS, checkArgon2idParams, type Argon2idParams } from './argon2.js';
import { VaultError } from './errors.js';
import {
  ARGON2_LIMITS,
  DB_KEY_BYTES,
  PassphraseWrappedKeySchema,
  WRAPPED_KEY_VERSION,
  type KeyProtector,
  type PassphraseWrappedKey,
  type WrappedKey,
} from './wrapped-key.js';

const NONCE_BYTES = 24;

export interface PassphraseKeyProtectorOptions {
  /** Argon2id cost for new wraps. Default: MODERATE (3 passes, 256 MiB). Unwrap uses the record's. */
  params?: Argon2idParams;
}

/**
 * The passphrase is normalised to Unicode NFKC before hashing, so the same passphrase typed
 * through different input methods (composed/decomposed Hangul, full-width forms) unlocks.
 */
export class PassphraseKeyProtector implements KeyProtector {
  readonly kind = 'passphrase' as const;
  readonly #passphrase: Uint8Array;
  readonly #params: Argon2idParams;

  constructor(passphrase: string, options: PassphraseKeyProtectorOptions = {}) {
    if (typeof passphrase !== 'string' || passphrase.length === 0) {
      throw new VaultError('INVALID_ARGUMENT', 'The passphrase must not be empty.');
    }
    const params = options.params ?? ARGON2ID_PRESETS.moderate;
    checkArgon2idParams(params);
    this.#params = { opslimit: params.opslimit, memlimit: params.memlimit };
    this.#passphrase = new TextEncoder().encode(passphrase.normalize('NFKC'));
  }

  /** Overwrites the protector's copy of the passphrase; later unwraps fail as a wrong passphrase. */
  dispose(): void {
    this.#passphrase.fill(0);
  }

  async wrap(key: Uint8Array): Promise<WrappedKey> {
    if (!(key instanceof Uint8Array) || key.length !== DB_KEY_BYTES) {
      throw new VaultError('INVALID_ARGUMENT', `The database key must be ${DB_KEY_BYTES} bytes.`);
    }
    await sodium.ready;
    const salt = sodium.randombytes_buf(ARGON2_LIMITS.saltBytes);
    const nonce = sodium.randombytes_buf(NONCE_BYTES);
    const header: Omit<PassphraseWrappedKey, 'ciphertext'> = {
      version: WRAPPED_KEY_VERSION,
      kind: 'passphrase',
      kdf: { alg: 'argon2id13', opslimit: this.#params.opslimit, memlimit: this.#params.memlimit, salt: toBase64url(salt) },
      aead: 'xchacha20poly1305-ietf',
      nonce: toBase64url(nonce),
    };
    const kek = await argon2id(this.#passphrase, salt, this.#params, 32);
    try {
      const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(key, associatedData(header), null, nonce, kek);
      return { ...header, ciphertext: toBase64url(ciphertext) };
    } finally {
      sodium.memzero(kek);
    }
  }

  async unwrap(wrapped: WrappedKey): Promise<Uint8Array> {
    if (wrapped.kind !== 'passphrase') {
      throw new VaultError('PROTECTOR_MISMATCH', 'This profile is not protected by a passphrase.');
    }
    const parsed = PassphraseWrappedKeySchema.safeParse(wrapped);
    if (!parsed.success) throw new VaultError('CORRUPT', 'The wrapped key record is malformed.');
    const record = parsed.data;
    const params = { opslimit: record.kdf.opslimit, memlimit: record.kdf.memlimit };
    checkArgon2idParams(params); // before any hashing: a crafted record must not cost gigabytes
    await sodium.ready;
    const kek = await argon2id(this.#passphrase, fromBase64url(record.kdf.salt), params, 32);
    try {
      const { ciphertext, ...header } = record;
      let key: Uint8Array;
      try {
        key = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, fromBase64url(ciphertext), associatedData(header), fromBase64url(record.nonce), kek);
      } catch {
        throw new VaultError('WRONG_PASSPHRASE', 'Wrong passphrase.');
      }
      if (key.length !== DB_KEY_BYTES) throw new VaultError('CORRUPT', 'The wrapped key has the wrong length.');
      return key;
    } finally {
      sodium.memzero(kek);
    }
  }
}

/** Canonical encoding of the record header, bound into the AEAD tag. Field order is fixed here. */
function associatedData(h: Omit<PassphraseWrappedKey, 'ciphertext'>): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify(['refuge/vault/wrapped-key', h.version, h.kind, h.kdf.alg, h.kdf.opslimit, h.kdf.memlimit, h.kdf.salt, h.aead, h.nonce]),
  );
}
