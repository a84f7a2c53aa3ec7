// The per-message hot path, straight on libsodium's WebAssembly exports.
//
// libsodium.js wraps every call in JavaScript that mallocs and copies each argument and
// allocates each result; for the 32-byte keys and one-byte inputs of the ratchet KDFs that
// wrapping costs as much as the hashing. This module calls the same libsodium functions
// (crypto_auth_hmacsha256_*, crypto_aead_xchacha20poly1305_ietf_*) directly with one
// preallocated scratch area, shares one HMAC key schedule between KDF_CK's two outputs, and
// wipes the scratch after every call. It is only an optimisation: at initCrypto it checks its
// results against the wrappers and, on any mismatch or missing export, everything falls back
// to the wrappers (crypto.test.ts checks both paths agree).
import { concat, writeU32 } from './bytes.js';
import { CryptoError } from './errors.js';
import { sodium } from './sodium.js';


/** The Emscripten module libsodium.js exposes as `libsodium` (not in its .d.ts). */
interface RawSodium {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(pointer: number): void;
  _crypto_auth_hmacsha256(out: number, input: number, inLenLo: number, inLenHi: number, key: number): number;
  _crypto_auth_hmacsha256_init(state: number, key: number, keyLen: number): number;
  _crypto_auth_hmacsha256_update(state: number, input: number, inLenLo: number, inLenHi: number): number;
  _crypto_auth_hmacsha256_final(state: number, out: number): number;
  _crypto_auth_hmacsha256_statebytes(): number;
  _crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: number, cLenP: number, m: number, mLenLo: number, mLenHi: number,
    ad: number, adLenLo: number, adLenHi: number, nsec: number, npub: number, key: number,
  ): number;
  _crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: number, mLenP: number, nsec: number, c: number, cLenLo: number, cLenHi: number,
    ad: number, adLenLo: number, adLenHi: number, npub: number, key: number,
  ): number;
}

const RAW_FUNCTIONS = [
  '_malloc',
  '_free',
  '_crypto_auth_hmacsha256',
  '_crypto_auth_hmacsha256_init',
  '_crypto_auth_hmacsha256_update',
  '_crypto_auth_hmacsha256_final',
  '_crypto_auth_hmacsha256_statebytes',
  '_crypto_aead_xchacha20poly1305_ietf_encrypt',
  '_crypto_aead_xchacha20poly1305_ietf_decrypt',
] as const;

function asRawSodium(candidate: unknown): RawSodium | null {
  if (typeof candidate !== 'object' || candidate === null) return null;
  const record = candidate as Record<string, unknown>;
  if (!(record['HEAPU8'] instanceof Uint8Array)) return null;
  for (const name of RAW_FUNCTIONS) if (typeof record[name] !== 'function') return null;
  return candidate as RawSodium;
}

// Fixed scratch layout (bytes from `base`); the data area after it holds AD, input and output.
const KEY = 0; // 32
const OUT1 = 32; // 32
const OUT2 = 64; // 32
const BYTE1 = 96; // constant 0x01
const BYTE2 = 97; // constant 0x02
const NONCE = 128; // 24
const STATE1 = 160; // 208 (crypto_auth_hmacsha256_state)
const STATE2 = 384; // 208
const INPUT = 600; // small HMAC inputs, up to 64 bytes
const DATA = 664;
const HMAC_STATE_BYTES = 208;

let raw: RawSodium | null = null;
let base = 0;
let capacity = 0; // bytes available from base + DATA

// Note: always read r.HEAPU8 after ensureData (Emscripten replaces the view when memory grows).
function ensureData(r: RawSodium, bytes: number): void {
  if (bytes <= capacity) return;
  let size = 1 << 16;
  while (size < bytes) size *= 2;
  const next = r._malloc(DATA + size);
  if (next === 0) throw new CryptoError('INVALID_ARGUMENT', 'out of memory');
  if (base !== 0) {
    r.HEAPU8.fill(0, base, base + DATA + capacity);
    r._free(base);
  }
  base = next;
  capacity = size;
  r.HEAPU8[base + BYTE1] = 1;
  r.HEAPU8[base + BYTE2] = 2;
}

// Results between 65 bytes and 2 KiB are views into shared 16 KiB blocks, as Node's Buffer pool
// does: V8 allocates a typed array of more than 64 bytes outside the JS heap, at about 1 µs each,
// as much as the AEAD itself on a 200-byte message (bench: crypto). A view keeps its block alive,
// which is fine for ciphertexts and plaintexts: callers encode or store them and let them go.
const BLOCK_BYTES = 16 * 1024;
const POOLED_MAX = 2048;
let block = new ArrayBuffer(0);
let blockUsed = 0;

/** A zeroed byte array of `length` bytes (see above). */
export function allocBytes(length: number): Uint8Array {
  if (length <= 64 || length > POOLED_MAX) return new Uint8Array(length);
  if (blockUsed + length > block.byteLength) {
    block = new ArrayBuffer(BLOCK_BYTES);
    blockUsed = 0;
  }
  const out = new Uint8Array(block, blockUsed, length);
  blockUsed += (length + 7) & ~7; // 8-byte aligned, like the allocator would
  return out;
}

/** Called by initCrypto once libsodium is ready. */
export function setupFastPath(): void {
  // libsodium.js attaches its Emscripten module as `libsodium`; the typings omit it.
  raw = asRawSodium((sodium as unknown as { libsodium?: unknown }).libsodium);
  if (!raw || raw._crypto_auth_hmacsha256_statebytes() !== HMAC_STATE_BYTES) {
    raw = null;
    return;
  }
  try {
    ensureData(raw, 1);
    if (!selfTest()) raw = null;
  } catch {
    raw = null;
  }
}

export function fastPathActive(): boolean {
  return raw !== null;
}

/** For tests: run with the fast path off, then restore it. */
export function withoutFastPath<T>(fn: () => T): T {
  const saved = raw;
  raw = null;
  try {
    return fn();
  } finally {
    raw = saved;
  }
}

function selfTest(): boolean {
  const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
  const data = Uint8Array.from({ length: 45 }, (_, i) => 255 - i);
  const nonce = Uint8Array.from({ length: 24 }, (_, i) => i + 100);
  const ad = Uint8Array.from({ length: 70 }, (_, i) => i ^ 0x5a);
  const plain = Uint8Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff);
  const same = (a: Uint8Array | null, b: Uint8Array) => a !== null && a.length === b.length && a.every((v, i) => v === b[i]);
  const ck = withoutFastPath(() => chainStep(key));
  const fused = chainStep(key);
  const sealed = new Uint8Array(plain.length + 16);
  seal(key, nonce, ad, new Uint8Array(0), plain, sealed, 0);
  const reference = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, null, nonce, key);
  // A whole message: the header as session.ts lays it out, then the AEAD with AD = ad || header.
  const prefix = Uint8Array.of(1, 1);
  const header = concat(prefix, data.subarray(0, 32), Uint8Array.of(0, 0, 1, 2, 0, 3, 4, 5), nonce);
  const message = concat(header, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, concat(ad, header), null, nonce, key));
  // The fused steps against chainStep followed by sealMessage / openMessage.
  const ratchetKey = data.subarray(0, 32);
  const sent = sealNextMessage(key, ad, { prefix, ratchetKey, pn: 7, n: 8, nonce }, plain);
  const expectedSent = sealMessage(fused.messageKey, ad, { prefix, ratchetKey, pn: 7, n: 8, nonce }, plain);
  const received = openNextMessage(key, ad, expectedSent, header.length);
  const tampered = message.slice();
  tampered[10] = (tampered[10] ?? 0) ^ 1; // inside the ratchet key: authenticated as AD
  return (
    same(sealMessage(key, ad, { prefix, ratchetKey, pn: 0x0102, n: 0x030405, nonce }, plain), message) &&
    same(openMessage(key, ad, message, header.length), plain) &&
    same(sent.ciphertext, expectedSent) &&
    same(sent.chainKey, fused.chainKey) &&
    same(received.plaintext, plain) &&
    same(received.chainKey, fused.chainKey) &&
    openNextMessage(key, ad, message, header.length).plaintext === null &&
    openMessage(key, ad, tampered, header.length) === null &&
    same(hmac32(key, data), sodium.crypto_auth_hmacsha256(data, key)) &&
    same(ck.messageKey, sodium.crypto_auth_hmacsha256(Uint8Array.of(1), key)) &&
    same(ck.chainKey, sodium.crypto_auth_hmacsha256(Uint8Array.of(2), key)) &&
    same(fused.chainKey, ck.chainKey) &&
    same(fused.messageKey, ck.messageKey) &&
    same(sealed, reference) &&
    same(open(key, nonce, ad, new Uint8Array(0), reference), plain) &&
    open(key, nonce, data, new Uint8Array(0), reference) === null
  );
}

/** HMAC-SHA256 with a 32-byte key. */
export function hmac32(key: Uint8Array, data: Uint8Array): Uint8Array {
  const r = raw;
  if (!r || data.length > 64) return sodium.crypto_auth_hmacsha256(data, key);
  const h = r.HEAPU8;
  h.set(key, base + KEY);
  h.set(data, base + INPUT);
  r._crypto_auth_hmacsha256(base + OUT1, base + INPUT, data.length, 0, base + KEY);
  const out = h.slice(base + OUT1, base + OUT1 + 32);
  h.fill(0, base, base + 64);
  h.fill(0, base + INPUT, base + INPUT + data.length);
  return out;
}

/**
 * KDF_CK in libsodium's memory, with one HMAC key schedule for both outputs: this message's key
 * HMAC(ck, 0x01) at OUT1 and the next chain key HMAC(ck, 0x02) at OUT2 (the caller copies out
 * and wipes both). Wipes everything else it touched.
 */
function stepInScratch(r: RawSodium, chainKey: Uint8Array): void {
  const h = r.HEAPU8;
  const b = base;
  h.set(chainKey, b + KEY);
  r._crypto_auth_hmacsha256_init(b + STATE1, b + KEY, 32);
  h.copyWithin(b + STATE2, b + STATE1, b + STATE1 + HMAC_STATE_BYTES);
  r._crypto_auth_hmacsha256_update(b + STATE1, b + BYTE1, 1, 0);
  r._crypto_auth_hmacsha256_final(b + STATE1, b + OUT1);
  r._crypto_auth_hmacsha256_update(b + STATE2, b + BYTE2, 1, 0);
  r._crypto_auth_hmacsha256_final(b + STATE2, b + OUT2);
  h.fill(0, b + KEY, b + KEY + 32);
  h.fill(0, b + STATE1, b + STATE2 + HMAC_STATE_BYTES);
}

/** The next chain key stepInScratch left at OUT2, copied out; wipes OUT1 and OUT2. */
function takeNextChainKey(r: RawSodium): Uint8Array {
  const h = r.HEAPU8;
  const next = h.slice(base + OUT2, base + OUT2 + 32);
  h.fill(0, base + OUT1, base + OUT2 + 32);
  return next;
}

/** KDF_CK (Double Ratchet spec; libsignal's ChainKey): the next chain key and this message's AEAD key. */
export function chainStep(chainKey: Uint8Array): { chainKey: Uint8Array; messageKey: Uint8Array } {
  const r = raw;
  if (!r) {
    return {
      chainKey: sodium.crypto_auth_hmacsha256(Uint8Array.of(2), chainKey),
      messageKey: sodium.crypto_auth_hmacsha256(Uint8Array.of(1), chainKey),
    };
  }
  stepInScratch(r, chainKey);
  const messageKey = r.HEAPU8.slice(base + OUT1, base + OUT1 + 32);
  return { chainKey: takeNextChainKey(r), messageKey };
}

/**
 * XChaCha20-Poly1305 encryption of `plaintext` with AD = ad1 || ad2, written into
 * `out` at `offset` (plaintext.length + 16 bytes).
 */
export function seal(
  key: Uint8Array,
  nonce: Uint8Array,
  ad1: Uint8Array,
  ad2: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  const r = raw;
  if (!r) {
    const ad = new Uint8Array(ad1.length + ad2.length);
    ad.set(ad1, 0);
    ad.set(ad2, ad1.length);
    out.set(sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key), offset);
    return;
  }
  const adLen = ad1.length + ad2.length;
  const total = adLen + plaintext.length * 2 + 16;
  ensureData(r, total);
  const h = r.HEAPU8;
  const b = base;
  const adAt = b + DATA;
  const mAt = adAt + adLen;
  const cAt = mAt + plaintext.length;
  h.set(key, b + KEY);
  h.set(nonce, b + NONCE);
  h.set(ad1, adAt);
  h.set(ad2, adAt + ad1.length);
  h.set(plaintext, mAt);
  r._crypto_aead_xchacha20poly1305_ietf_encrypt(cAt, 0, mAt, plaintext.length, 0, adAt, adLen, 0, 0, b + NONCE, b + KEY);
  out.set(h.subarray(cAt, cAt + plaintext.length + 16), offset);
  h.fill(0, b + KEY, b + KEY + 32);
  h.fill(0, adAt, adAt + total);
}

/** Where a message key lies for the AEAD: in JS memory, or already in libsodium's (OUT1, after stepInScratch). */
type KeySource = Uint8Array | 'scratch';

/** Puts the key at KEY unless it is in the scratch already; returns its address. */
function placeKey(h: Uint8Array, key: KeySource): number {
  if (key === 'scratch') return base + OUT1;
  h.set(key, base + KEY);
  return base + KEY;
}

/** The header fields of a ratchet message (session.ts lays them out; see sealMessage). */
export interface RatchetHeader {
  /** version and type, and a prekey message's PQXDH part */
  prefix: Uint8Array;
  ratchetKey: Uint8Array;
  pn: number;
  n: number;
  nonce: Uint8Array;
}

function sealMessageLength(ad: Uint8Array, header: RatchetHeader, plaintext: Uint8Array): number {
  return ad.length + header.prefix.length + 64 + plaintext.length * 2 + 16;
}

// sealMessage's body on the fast path; the caller has called ensureData(sealMessageLength(...)).
function sealMessageIn(
  r: RawSodium,
  key: KeySource,
  ad: Uint8Array,
  header: RatchetHeader,
  plaintext: Uint8Array,
): Uint8Array {
  const { prefix, ratchetKey, pn, n, nonce } = header;
  const headerLen = prefix.length + 64;
  const adLen = ad.length + headerLen;
  const h = r.HEAPU8;
  const b = base;
  const adAt = b + DATA;
  const headerAt = adAt + ad.length;
  const fields = headerAt + prefix.length;
  const cAt = adAt + adLen;
  const mAt = cAt + plaintext.length + 16;
  const keyAt = placeKey(h, key);
  h.set(ad, adAt);
  h.set(prefix, headerAt);
  h.set(ratchetKey, fields);
  writeU32(h, fields + 32, pn);
  writeU32(h, fields + 36, n);
  h.set(nonce, fields + 40);
  h.set(plaintext, mAt);
  r._crypto_aead_xchacha20poly1305_ietf_encrypt(cAt, 0, mAt, plaintext.length, 0, adAt, adLen, 0, 0, fields + 40, keyAt);
  const out = allocBytes(headerLen + plaintext.length + 16);
  out.set(h.subarray(headerAt, cAt + plaintext.length + 16));
  h.fill(0, keyAt, keyAt + 32);
  h.fill(0, adAt, mAt + plaintext.length);
  return out;
}

/**
 * A whole ratchet message (session.ts): prefix || ratchet key (32) || PN (u32) || N (u32) ||
 * nonce (24) || XChaCha20-Poly1305(key, plaintext, AD = ad || all of those). The same bytes as
 * writing the header and calling seal(), assembled and sealed in libsodium's memory and copied
 * out once (bench: crypto).
 */
export function sealMessage(
  key: Uint8Array,
  ad: Uint8Array,
  header: RatchetHeader,
  plaintext: Uint8Array,
): Uint8Array {
  const r = raw;
  if (!r) {
    const { prefix, ratchetKey, pn, n, nonce } = header;
    const headerLen = prefix.length + 64;
    const out = new Uint8Array(headerLen + plaintext.length + 16);
    out.set(prefix, 0);
    out.set(ratchetKey, prefix.length);
    writeU32(out, prefix.length + 32, pn);
    writeU32(out, prefix.length + 36, n);
    out.set(nonce, prefix.length + 40);
    seal(key, nonce, ad, out.subarray(0, headerLen), plaintext, out, headerLen);
    return out;
  }
  ensureData(r, sealMessageLength(ad, header, plaintext));
  return sealMessageIn(r, key, ad, header, plaintext);
}

/**
 * A sending step and its message in one go: chainStep(chainKey), then sealMessage with the
 * message key, which never leaves libsodium's memory. Returns the message and the next chain key.
 */
export function sealNextMessage(
  chainKey: Uint8Array,
  ad: Uint8Array,
  header: RatchetHeader,
  plaintext: Uint8Array,
): { ciphertext: Uint8Array; chainKey: Uint8Array } {
  const r = raw;
  if (!r) {
    const step = chainStep(chainKey);
    const ciphertext = sealMessage(step.messageKey, ad, header, plaintext);
    sodium.memzero(step.messageKey);
    return { ciphertext, chainKey: step.chainKey };
  }
  // Before the step: growing the data area moves the scratch, and the step's outputs with it.
  ensureData(r, sealMessageLength(ad, header, plaintext));
  stepInScratch(r, chainKey);
  const ciphertext = sealMessageIn(r, 'scratch', ad, header, plaintext);
  return { ciphertext, chainKey: takeNextChainKey(r) };
}

// openMessage's body on the fast path; the caller has checked the lengths and called ensureData.
function openMessageIn(r: RawSodium, key: KeySource, ad: Uint8Array, message: Uint8Array, headerLen: number): Uint8Array | null {
  const bodyLen = message.length - headerLen;
  const adLen = ad.length + headerLen;
  const total = ad.length + message.length + bodyLen;
  const h = r.HEAPU8;
  const b = base;
  const adAt = b + DATA;
  const cAt = adAt + adLen;
  const mAt = cAt + bodyLen;
  const keyAt = placeKey(h, key);
  h.set(ad, adAt);
  h.set(message, adAt + ad.length);
  const rc = r._crypto_aead_xchacha20poly1305_ietf_decrypt(mAt, 0, 0, cAt, bodyLen, 0, adAt, adLen, 0, cAt - 24, keyAt);
  let plaintext: Uint8Array | null = null;
  if (rc === 0) {
    plaintext = allocBytes(bodyLen - 16);
    plaintext.set(h.subarray(mAt, mAt + bodyLen - 16));
  }
  h.fill(0, keyAt, keyAt + 32);
  h.fill(0, adAt, adAt + total);
  return plaintext;
}

/**
 * Opens a message laid out as header || AEAD body, whose header ends with the 24-byte nonce:
 * AD = ad || header. Null when authentication fails. The counterpart of sealMessage.
 */
export function openMessage(key: Uint8Array, ad: Uint8Array, message: Uint8Array, headerLen: number): Uint8Array | null {
  const bodyLen = message.length - headerLen;
  if (bodyLen < 16 || headerLen < 24) return null;
  const r = raw;
  if (!r) return open(key, message.subarray(headerLen - 24, headerLen), ad, message.subarray(0, headerLen), message.subarray(headerLen));
  ensureData(r, ad.length + message.length + bodyLen);
  return openMessageIn(r, key, ad, message, headerLen);
}

/**
 * A receiving step and its message in one go: chainStep(chainKey), then openMessage with the
 * message key, which never leaves libsodium's memory. The plaintext is null when authentication
 * fails (the next chain key is returned either way; the caller keeps it only on success).
 */
export function openNextMessage(
  chainKey: Uint8Array,
  ad: Uint8Array,
  message: Uint8Array,
  headerLen: number,
): { plaintext: Uint8Array | null; chainKey: Uint8Array } {
  const r = raw;
  const bodyLen = message.length - headerLen;
  if (!r || bodyLen < 16 || headerLen < 24) {
    const step = chainStep(chainKey);
    const plaintext = openMessage(step.messageKey, ad, message, headerLen);
    sodium.memzero(step.messageKey);
    return { plaintext, chainKey: step.chainKey };
  }
  ensureData(r, ad.length + message.length + bodyLen);
  stepInScratch(r, chainKey);
  const plaintext = openMessageIn(r, 'scratch', ad, message, headerLen);
  return { plaintext, chainKey: takeNextChainKey(r) };
}

/** XChaCha20-Poly1305 decryption with AD = ad1 || ad2; null when authentication fails. */
export function open(key: Uint8Array, nonce: Uint8Array, ad1: Uint8Array, ad2: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
  if (ciphertext.length < 16) return null;
  const r = raw;
  if (!r) {
    const ad = new Uint8Array(ad1.length + ad2.length);
    ad.set(ad1, 0);
    ad.set(ad2, ad1.length);
    try {
      return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
    } catch {
      return null;
    }
  }
  const adLen = ad1.length + ad2.length;
  const total = adLen + ciphertext.length * 2;
  ensureData(r, total);
  const h = r.HEAPU8;
  const b = base;
  const adAt = b + DATA;
  const cAt = adAt + adLen;
  const mAt = cAt + ciphertext.length;
  h.set(key, b + KEY);
  h.set(nonce, b + NONCE);
  h.set(ad1, adAt);
  h.set(ad2, adAt + ad1.length);
  h.set(ciphertext, cAt);
  const rc = r._crypto_aead_xchacha20poly1305_ietf_decrypt(mAt, 0, 0, cAt, ciphertext.length, 0, adAt, adLen, 0, b + NONCE, b + KEY);
  let plaintext: Uint8Array | null = null;
  if (rc === 0) {
    plaintext = allocBytes(ciphertext.length - 16);
    plaintext.set(h.subarray(mAt, mAt + ciphertext.length - 16));
  }
  h.fill(0, b + KEY, b + KEY + 32);
  h.fill(0, adAt, adAt + total);
  return plaintext;
}
