// The protector-agnostic parts of the vault: the KeyProtector interface and the JSON record a
// protector produces (WrappedKey). Records are zod-validated on read, so a crafted keyring file
// is refused before any expensive or dangerous work is done with it.
import { z } from 'zod';
import { fromBase64url } from '../../../shared/encoding/base64url.js';

/** Length of the database key in bytes (SQLCipher raw key: 256 bits). */
export const DB_KEY_BYTES = 32;

/** Current version of every WrappedKey record this build writes. */
export const WRAPPED_KEY_VERSION = 1;

/**
 * Bounds applied to Argon2id parameters whenever they are read from a file (and when a
 * protector is constructed): a crafted file must not make us allocate gigabytes or spin for
 * minutes. Upper bounds are libsodium's SENSITIVE preset (1 GiB, 4 passes) with some headroom
 * on passes; lower bounds are libsodium's minimums for Argon2id.
 */
export const ARGON2_LIMITS = {
  minOpslimit: 1,
  maxOpslimit: 10,
  minMemlimit: 8192,
  maxMemlimit: 1024 * 1024 * 1024,
  saltBytes: 16,
} as const;

/** base64url text that decodes to exactly `n` bytes. */
function b64(n: number) {
  return z
    .string()
    .max(Math.ceil((n * 4) / 3) + 4)
    .regex(/^[A-Za-z0-9_-]*$/)
    .refine((s) => {
      try {
        return fromBase64url(s).length === n;
      } catch {
        return false;
      }
    }, `must decode to ${n} bytes`);
}

/** base64url text of any length up to `max` bytes. */
function b64Max(max: number) {
  return z
    .string()
    .min(1)
    .max(Math.ceil((max * 4) / 3) + 4)
    .regex(/^[A-Za-z0-9_-]*$/);
}

// Numbers are checked for type only here; range checks happen separately so an out-of-range
// value gets its own error code (KDF_PARAMS_OUT_OF_RANGE) rather than CORRUPT.
export const Argon2idParamsSchema = z
  .object({
    alg: z.literal('argon2id13'),
    opslimit: z.number(),
    memlimit: z.number(),
    salt: b64(ARGON2_LIMITS.saltBytes),
  })
  .strict();
export type Argon2idParamsRecord = z.infer<typeof Argon2idParamsSchema>;

/** A database key wrapped under a passphrase: Argon2id KEK, then XChaCha20-Poly1305. */
export const PassphraseWrappedKeySchema = z
  .object({
    version: z.literal(WRAPPED_KEY_VERSION),
    kind: z.literal('passphrase'),
    kdf: Argon2idParamsSchema,
    aead: z.literal('xchacha20poly1305-ietf'),
    nonce: b64(24),
    /** the 32-byte key plus the 16-byte Poly1305 tag */
    ciphertext: b64(DB_KEY_BYTES + 16),
  })
  .strict();
export type PassphraseWrappedKey = z.infer<typeof PassphraseWrappedKeySchema>;

/**
 * A database key wrapped by the OS keychain (Electron safeStorage). Written by the protector in
 * main/electron; defined here so the vault can validate every keyring file it reads.
 * `ciphertext` is whatever safeStorage.encryptString returned, as base64url; `backend` records
 * safeStorage's selected backend on Linux (so a later `basic_text` downgrade can be detected).
 */
export const OsKeychainWrappedKeySchema = z
  .object({
    version: z.literal(WRAPPED_KEY_VERSION),
    kind: z.literal('os-keychain'),
    ciphertext: b64Max(4096),
    backend: z.string().max(64).optional(),
  })
  .strict();
export type OsKeychainWrappedKey = z.infer<typeof OsKeychainWrappedKeySchema>;

export const WrappedKeySchema = z.discriminatedUnion('kind', [PassphraseWrappedKeySchema, OsKeychainWrappedKeySchema]);
export type WrappedKey = z.infer<typeof WrappedKeySchema>;
export type ProtectorKind = WrappedKey['kind'];

/** Wraps and unwraps the database key. Implementations must throw VaultError, never leak secrets. */
export interface KeyProtector {
  readonly kind: ProtectorKind;
  /** Wraps a 32-byte key. The result is JSON-serialisable and validates with WrappedKeySchema. */
  wrap(key: Uint8Array): Promise<WrappedKey>;
  /**
   * Unwraps a record produced by `wrap` of a protector of the same kind. Throws VaultError
   * `WRONG_PASSPHRASE` when the secret does not open it, `PROTECTOR_MISMATCH` for another kind.
   */
  unwrap(wrapped: WrappedKey): Promise<Uint8Array>;
}
