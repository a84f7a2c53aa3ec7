// Safety numbers: Signal's NumericFingerprint (libsignal rust/protocol/src/fingerprint.rs).
// Per side: SHA-512 over version(0x0000) || key || stableId || key, then `iterations - 1`
// more rounds of SHA-512(previous || key); the first 30 bytes become six 5-digit groups
// (each 5 bytes as a big-endian integer mod 100000). The two 30-digit halves are sorted, so
// both sides display the same 60 digits.
import { utf8 } from './bytes.js';
import { FINGERPRINT_ITERATIONS, SIZES } from './constants.js';
import { CryptoError } from './errors.js';
import { requireReady, sodium } from './sodium.js';

const FINGERPRINT_VERSION = Uint8Array.of(0, 0);

function fingerprintHash(iterations: number, stableId: Uint8Array, key: Uint8Array): Uint8Array {
  const first = new Uint8Array(2 + key.length + stableId.length + key.length);
  first.set(FINGERPRINT_VERSION, 0);
  first.set(key, 2);
  first.set(stableId, 2 + key.length);
  first.set(key, 2 + key.length + stableId.length);
  let hash = sodium.crypto_hash_sha512(first);
  const round = new Uint8Array(64 + key.length);
  round.set(key, 64);
  for (let i = 1; i < iterations; i++) {
    round.set(hash, 0);
    hash = sodium.crypto_hash_sha512(round);
  }
  return hash;
}

function displayDigits(hash: Uint8Array): string {
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    // 5 bytes = 40 bits: exact in a double (< 2^53)
    for (let i = 0; i < 5; i++) value = value * 256 + (hash[chunk * 5 + i] ?? 0);
    out += String(value % 100000).padStart(5, '0');
  }
  return out;
}

/** The general construction, with any key encoding (tests feed libsignal's 33-byte keys). */
export function numericFingerprint(
  iterations: number,
  localId: Uint8Array,
  localKey: Uint8Array,
  remoteId: Uint8Array,
  remoteKey: Uint8Array,
): string {
  requireReady();
  if (!Number.isInteger(iterations) || iterations <= 1 || iterations > 1_000_000) {
    throw new CryptoError('INVALID_ARGUMENT', 'invalid fingerprint iteration count');
  }
  const local = displayDigits(fingerprintHash(iterations, localId, localKey));
  const remote = displayDigits(fingerprintHash(iterations, remoteId, remoteKey));
  return local < remote ? local + remote : remote + local;
}

/**
 * The 60-digit safety number of two identities: the same on both sides, and different as soon
 * as either identity key (or stable id) changes. `id` is the account's stable id (username).
 */
export function safetyNumber(local: { id: string; identityKey: Uint8Array }, remote: { id: string; identityKey: Uint8Array }): string {
  if (local.identityKey.length !== SIZES.ed25519Public || remote.identityKey.length !== SIZES.ed25519Public) {
    throw new CryptoError('BAD_KEY', 'identity key has the wrong size');
  }
  return numericFingerprint(FINGERPRINT_ITERATIONS, utf8(local.id), local.identityKey, utf8(remote.id), remote.identityKey);
}
