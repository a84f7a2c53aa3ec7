// The one place that owns libsodium. Every primitive comes from libsodium-wrappers-sumo
// (the plain build lacks crypto_auth_hmacsha256_init/update/final and crypto_pwhash).
import sodium from 'libsodium-wrappers-sumo';
import { CryptoError } from './errors.js';

let ready = false;

/** Set by initCrypto (init.ts) once libsodium is ready. */
export function markReady(): void {
  ready = true;
}

export function requireReady(): void {
  if (!ready) throw new CryptoError('NOT_READY', 'initCrypto() must complete before using the crypto library');
}

export { sodium };

// Random 24-byte nonces for XChaCha20-Poly1305. Each message key is used once, so the nonce
// only has to make a (key, nonce) pair unique even if a stale copy of a session state were
// ever used to encrypt again (a restored backup, a crash before the state was stored): a
// random nonce keeps two such encryptions from sharing a keystream. Nonces are public, so
// they come from a pool: libsodium's ChaCha20-based randombytes_buf_deterministic expanded
// from 32 fresh bytes of randombytes_buf, refilled every 2048 nonces. This keeps the system
// RNG (one getRandomValues call per 4 bytes in libsodium.js) off the per-message path.
const NONCES_PER_POOL = 2048;
let noncePool: Uint8Array = new Uint8Array(0);
let nonceOffset = 0;

export function randomNonce(): Uint8Array {
  if (nonceOffset + 24 > noncePool.length) {
    const seed = sodium.randombytes_buf(32);
    noncePool = sodium.randombytes_buf_deterministic(24 * NONCES_PER_POOL, seed);
    sodium.memzero(seed);
    nonceOffset = 0;
  }
  const nonce = noncePool.slice(nonceOffset, nonceOffset + 24);
  nonceOffset += 24;
  return nonce;
}
