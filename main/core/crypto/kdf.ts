// HMAC-SHA256, HKDF-SHA256 (RFC 5869) and the Double Ratchet KDFs, on libsodium's
// crypto_auth_hmacsha256. The info labels are parameters so libsignal's constants
// ("WhisperRatchet", "WhisperMessageKeys", "WhisperText") can be fed in tests.
import { utf8 } from './bytes.js';
import { LABEL_RATCHET } from './constants.js';
import { CryptoError } from './errors.js';
import { chainStep, hmac32 } from './fast.js';
import { requireReady, sodium } from './sodium.js';

export { chainStep } from './fast.js';

const ZERO_SALT = new Uint8Array(32);
const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

const asBytes = (info: Uint8Array | string): Uint8Array => (typeof info === 'string' ? utf8(info) : info);

/** HMAC-SHA256 with a key of any length (keys over 64 bytes are hashed, per RFC 2104). */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  requireReady();
  // crypto_auth_hmacsha256 is exactly HMAC-SHA256 for a 32-byte key: one call on the hot path.
  if (key.length === 32) return hmac32(key, data);
  const state = sodium.crypto_auth_hmacsha256_init(key);
  sodium.crypto_auth_hmacsha256_update(state, data);
  return sodium.crypto_auth_hmacsha256_final(state);
}

/** HKDF-Extract. An empty salt means HashLen zero bytes (RFC 5869 §2.2). */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hmacSha256(salt.length === 0 ? ZERO_SALT : salt, ikm);
}

/** HKDF-Expand to `length` bytes (at most 255 * 32). */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * 32) {
    throw new CryptoError('INVALID_ARGUMENT', 'HKDF output length out of range');
  }
  const infoBytes = asBytes(info);
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  let offset = 0;
  for (let counter = 1; offset < length; counter++) {
    const input = new Uint8Array(previous.length + infoBytes.length + 1);
    input.set(previous, 0);
    input.set(infoBytes, previous.length);
    input[input.length - 1] = counter;
    previous = hmacSha256(prk, input);
    out.set(previous.subarray(0, Math.min(32, length - offset)), offset);
    offset += 32;
  }
  return out;
}

/** HKDF-SHA256 (RFC 5869). */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  return hkdfExpand(hkdfExtract(salt, ikm), info, length);
}

export interface RootStep {
  rootKey: Uint8Array;
  chainKey: Uint8Array;
}

/**
 * KDF_RK: HKDF(salt = root key, ikm = DH output, info) -> 64 bytes = new root key || chain key.
 * Identical to libsignal's RootKey::create_chain when info = "WhisperRatchet".
 */
export function kdfRk(rootKey: Uint8Array, dhOut: Uint8Array, info: Uint8Array | string = LABEL_RATCHET): RootStep {
  const okm = hkdfSha256(dhOut, rootKey, info, 64);
  return { rootKey: okm.slice(0, 32), chainKey: okm.slice(32, 64) };
}

export interface ChainStep {
  chainKey: Uint8Array;
  messageKeySeed: Uint8Array;
}

/**
 * KDF_CK: next chain key = HMAC(ck, 0x02), message key seed = HMAC(ck, 0x01) (libsignal's ChainKey).
 * The pairwise ratchet uses the seed as its AEAD key directly (chainStep); sender keys expand it.
 */
export function kdfCk(chainKey: Uint8Array): ChainStep {
  requireReady();
  if (chainKey.length === 32) {
    const step = chainStep(chainKey);
    return { chainKey: step.chainKey, messageKeySeed: step.messageKey };
  }
  return {
    chainKey: hmacSha256(chainKey, CHAIN_KEY_SEED),
    messageKeySeed: hmacSha256(chainKey, MESSAGE_KEY_SEED),
  };
}

/**
 * libsignal's MessageKeys::derive_keys: HKDF(ikm = seed, salt = zeros, info, length); with
 * info "WhisperMessageKeys" and 80 bytes = AES key || MAC key || IV (their AES-CBC + HMAC
 * AEAD needs three keys). Only for checking against libsignal's test vectors.
 */
export function deriveMessageKeys(seed: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  return hkdfSha256(seed, ZERO_SALT, info, length);
}
