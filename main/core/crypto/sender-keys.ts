// Sender Keys for groups (after Signal's SenderKeyMessage / SenderKeyDistributionMessage) on
// libsodium. Each (group, sender device) has a sending chain and an Ed25519 signing key:
//
//   KDF_CK(ck)    = (next chain key = HMAC-SHA256(ck, 0x02), seed = HMAC-SHA256(ck, 0x01))
//   message key   = HKDF-Expand(PRK = seed, info = "Refuge_SenderKey_MessageKeys", 32)
//   ciphertext    = XChaCha20-Poly1305(message key, random nonce, AD = u32(len ctx) || ctx || header)
//   signature     = Ed25519(signing key, "Refuge_SenderKey_Sig" || 0x00 || u32(len ctx) || ctx || message)
//
// `ctx` is the caller's binding of the message to its group and sender (the service uses
// group id, sender username and device id), so a ciphertext cannot be replayed into another
// group or attributed to another member. Like session.ts every function is pure: it returns a
// NEW state and never mutates its input, so a failed decrypt leaves the caller's state as it was.
// Wire formats and limits: docs/PROTOCOL.md, "Groups: Sender Keys".
import { ByteReader, ByteWriter, concat, readU32, u32be, utf8, writeU32 } from './bytes.js';
import { FORMAT_VERSION, SIZES, WIRE_VERSION } from './constants.js';
import { CryptoError } from './errors.js';
import { open as aeadOpen, seal } from './fast.js';
import { hkdfExpand, kdfCk } from './kdf.js';
import { randomNonce, requireReady, sodium } from './sodium.js';

/** HKDF-Expand info turning a sender-key seed into the AEAD key (distinct from pairwise message keys). */
export const LABEL_SENDER_KEY_MESSAGE_KEYS = 'Refuge_SenderKey_MessageKeys';
/** Signature context of a sender-key message. */
export const LABEL_SENDER_KEY_SIGNATURE = 'Refuge_SenderKey_Sig';
/** Wire type byte of a sender-key message (pairwise messages are 1 and 2). */
export const MSG_TYPE_SENDER_KEY = 3;
/** Wire type byte of a sender-key distribution message. */
export const MSG_TYPE_SENDER_KEY_DISTRIBUTION = 4;
/** Tag of a serialised sender-key state. */
export const TAG_SENDER_KEY = 0x47; // 'G'
/** Most message keys one message may make a receiver skip in a sender's chain. */
export const MAX_SENDER_KEY_SKIP = 2000;
/** Most skipped message keys kept per sender-key state; the oldest are evicted first. */
export const MAX_SENDER_KEY_SKIPPED = 2000;
/** A skipped sender-key message key is deleted this long (caller's `now`, ms) after it was stored. */
export const SENDER_KEY_SKIPPED_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Largest caller context accepted (group id + username + device id fit easily). */
export const MAX_SENDER_KEY_CONTEXT = 1024;

const SIG_LABEL_BYTES = concat(utf8(LABEL_SENDER_KEY_SIGNATURE), Uint8Array.of(0));
const MESSAGE_KEY_INFO = utf8(LABEL_SENDER_KEY_MESSAGE_KEYS);
// version u8 | type u8 | key id u32 | iteration u32 | nonce 24
const HEADER_LEN = 2 + 4 + 4 + SIZES.nonce; // 34
const DISTRIBUTION_LEN = 2 + 4 + 4 + 32 + 32; // 74

interface SkippedSenderKey {
  readonly n: number;
  readonly seed: Uint8Array;
  readonly at: number;
}

export interface SenderKeyState {
  readonly version: 1;
  /** random per chain: tells a rotated chain from the one it replaced */
  readonly keyId: number;
  /** index of the next message key this chain yields */
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  /** Ed25519 public key every message of this chain is signed with */
  readonly signingPublicKey: Uint8Array;
  /** only in our own sending state */
  readonly signingPrivateKey: Uint8Array | null;
  /** skipped message-key seeds by iteration, in insertion (= age) order */
  readonly skipped: ReadonlyMap<number, SkippedSenderKey>;
}

const EMPTY: ReadonlyMap<number, SkippedSenderKey> = new Map();

function checkContext(context: Uint8Array): void {
  if (!(context instanceof Uint8Array) || context.length > MAX_SENDER_KEY_CONTEXT) {
    throw new CryptoError('INVALID_ARGUMENT', 'sender-key context is missing or too long');
  }
}

function messageKey(seed: Uint8Array): Uint8Array {
  return hkdfExpand(seed, MESSAGE_KEY_INFO, 32);
}

function signedBytes(context: Uint8Array, message: Uint8Array): Uint8Array {
  return concat(SIG_LABEL_BYTES, u32be(context.length), context, message);
}

/** A fresh sending chain with its signing key (our own state for one group). */
export function createSenderKey(): SenderKeyState {
  requireReady();
  const signing = sodium.crypto_sign_keypair();
  let keyId = 0;
  while (keyId === 0) keyId = readU32(sodium.randombytes_buf(4), 0); // 0 is never a key id
  return {
    version: 1,
    keyId,
    iteration: 0,
    chainKey: sodium.randombytes_buf(32),
    signingPublicKey: signing.publicKey,
    signingPrivateKey: signing.privateKey,
    skipped: EMPTY,
  };
}

/**
 * The distribution message for our chain at its CURRENT iteration: whoever receives it can read
 * our messages from now on, never earlier ones. Send it only inside a pairwise session.
 */
export function senderKeyDistribution(state: SenderKeyState): Uint8Array {
  const out = new Uint8Array(DISTRIBUTION_LEN);
  out[0] = WIRE_VERSION;
  out[1] = MSG_TYPE_SENDER_KEY_DISTRIBUTION;
  writeU32(out, 2, state.keyId);
  writeU32(out, 6, state.iteration);
  out.set(state.chainKey, 10);
  out.set(state.signingPublicKey, 42);
  return out;
}

/** A receiving state from a distribution message (no private key). */
export function processSenderKeyDistribution(message: Uint8Array): SenderKeyState {
  requireReady();
  if (!(message instanceof Uint8Array) || message.length < 2) throw new CryptoError('MALFORMED', 'distribution message is too short');
  if (message[0] !== WIRE_VERSION) throw new CryptoError('BAD_VERSION', 'distribution message has an unknown version');
  if (message[1] !== MSG_TYPE_SENDER_KEY_DISTRIBUTION) throw new CryptoError('MALFORMED', 'not a sender-key distribution message');
  if (message.length !== DISTRIBUTION_LEN) throw new CryptoError('MALFORMED', 'distribution message has the wrong length');
  const keyId = readU32(message, 2);
  if (keyId === 0) throw new CryptoError('MALFORMED', 'key id 0 is invalid');
  const signingPublicKey = message.slice(42, 74);
  if (!sodium.crypto_core_ed25519_is_valid_point(signingPublicKey)) throw new CryptoError('BAD_KEY', 'signing key is not a valid Ed25519 point');
  return {
    version: 1,
    keyId,
    iteration: readU32(message, 6),
    chainKey: message.slice(10, 42),
    signingPublicKey,
    signingPrivateKey: null,
    skipped: EMPTY,
  };
}

/** Key id and iteration of a sender-key message (to pick the state) without checking anything else. */
export function senderKeyMessageInfo(ciphertext: Uint8Array): { keyId: number; iteration: number } {
  parseHeader(ciphertext);
  return { keyId: readU32(ciphertext, 2), iteration: readU32(ciphertext, 6) };
}

function parseHeader(c: Uint8Array): void {
  if (!(c instanceof Uint8Array) || c.length < 2) throw new CryptoError('MALFORMED', 'sender-key message is too short');
  if (c[0] !== WIRE_VERSION) throw new CryptoError('BAD_VERSION', 'sender-key message has an unknown version');
  if (c[1] !== MSG_TYPE_SENDER_KEY) throw new CryptoError('MALFORMED', 'not a sender-key message');
  if (c.length < HEADER_LEN + SIZES.tag + SIZES.signature) throw new CryptoError('MALFORMED', 'sender-key message is too short');
}

/** Encrypts and signs one group message with our own chain; the plaintext is encrypted once for every member. */
export function groupEncrypt(state: SenderKeyState, plaintext: Uint8Array, context: Uint8Array): { state: SenderKeyState; ciphertext: Uint8Array } {
  requireReady();
  checkContext(context);
  if (!state.signingPrivateKey) throw new CryptoError('INVALID_ARGUMENT', 'only our own sender key can encrypt');
  if (state.iteration >= 0xffffffff) throw new CryptoError('INVALID_ARGUMENT', 'sender-key chain exhausted; rotate it');
  const step = kdfCk(state.chainKey);
  const key = messageKey(step.messageKeySeed);
  sodium.memzero(step.messageKeySeed);
  const bodyLen = plaintext.length + SIZES.tag;
  const ciphertext = new Uint8Array(HEADER_LEN + bodyLen + SIZES.signature);
  ciphertext[0] = WIRE_VERSION;
  ciphertext[1] = MSG_TYPE_SENDER_KEY;
  writeU32(ciphertext, 2, state.keyId);
  writeU32(ciphertext, 6, state.iteration);
  ciphertext.set(randomNonce(), 10);
  const header = ciphertext.subarray(0, HEADER_LEN);
  seal(key, ciphertext.subarray(10, HEADER_LEN), concat(u32be(context.length), context), header, plaintext, ciphertext, HEADER_LEN);
  sodium.memzero(key);
  const signed = ciphertext.subarray(0, HEADER_LEN + bodyLen);
  ciphertext.set(sodium.crypto_sign_detached(signedBytes(context, signed), state.signingPrivateKey), HEADER_LEN + bodyLen);
  return { state: { ...state, chainKey: step.chainKey, iteration: state.iteration + 1 }, ciphertext };
}

/**
 * Checks the signature, then decrypts with the state's chain (walking forward up to
 * MAX_SENDER_KEY_SKIP keys and keeping the skipped ones, or using a kept one). Throws
 * WRONG_SESSION (another chain), BAD_SIGNATURE, REPLAY, TOO_MANY_SKIPPED, DECRYPT_FAILED.
 */
export function groupDecrypt(
  state: SenderKeyState,
  ciphertext: Uint8Array,
  context: Uint8Array,
  now: number,
): { state: SenderKeyState; plaintext: Uint8Array } {
  requireReady();
  checkContext(context);
  parseHeader(ciphertext);
  const keyId = readU32(ciphertext, 2);
  const n = readU32(ciphertext, 6);
  if (keyId !== state.keyId) throw new CryptoError('WRONG_SESSION', 'message belongs to another sender-key chain');
  const sigAt = ciphertext.length - SIZES.signature;
  const signed = ciphertext.subarray(0, sigAt);
  if (!sodium.crypto_sign_verify_detached(ciphertext.subarray(sigAt), signedBytes(context, signed), state.signingPublicKey)) {
    throw new CryptoError('BAD_SIGNATURE', 'sender-key message signature does not verify');
  }
  const nonce = ciphertext.subarray(10, HEADER_LEN);
  const header = ciphertext.subarray(0, HEADER_LEN);
  const body = ciphertext.subarray(HEADER_LEN, sigAt);
  const ad = concat(u32be(context.length), context);
  const openWith = (seed: Uint8Array): Uint8Array => {
    const key = messageKey(seed);
    const plaintext = aeadOpen(key, nonce, ad, header, body);
    sodium.memzero(key);
    if (!plaintext) throw new CryptoError('DECRYPT_FAILED', 'sender-key message authentication failed');
    return plaintext;
  };

  if (n < state.iteration) {
    const entry = state.skipped.get(n);
    if (!entry) throw new CryptoError('REPLAY', 'sender-key message key already used');
    if (now - entry.at > SENDER_KEY_SKIPPED_TTL_MS) throw new CryptoError('DECRYPT_FAILED', 'message key expired');
    const plaintext = openWith(entry.seed);
    return { state: { ...state, skipped: rebuild(state.skipped, n, [], now) }, plaintext };
  }
  if (n - state.iteration > MAX_SENDER_KEY_SKIP) throw new CryptoError('TOO_MANY_SKIPPED', 'message is too far ahead in its chain');
  const added: SkippedSenderKey[] = [];
  let ck = state.chainKey;
  for (let i = state.iteration; i < n; i++) {
    const step = kdfCk(ck);
    added.push({ n: i, seed: step.messageKeySeed, at: now });
    ck = step.chainKey;
  }
  const step = kdfCk(ck);
  const plaintext = openWith(step.messageKeySeed);
  const skipped = added.length > 0 || hasExpired(state.skipped, now) ? rebuild(state.skipped, null, added, now) : state.skipped;
  return { state: { ...state, chainKey: step.chainKey, iteration: n + 1, skipped }, plaintext };
}

function hasExpired(skipped: ReadonlyMap<number, SkippedSenderKey>, now: number): boolean {
  const oldest = skipped.values().next().value;
  return oldest !== undefined && now - oldest.at > SENDER_KEY_SKIPPED_TTL_MS;
}

/** A new skipped-key map: `base` minus `remove` and expired keys, plus `add`, capped (oldest out). */
function rebuild(base: ReadonlyMap<number, SkippedSenderKey>, remove: number | null, add: SkippedSenderKey[], now: number): ReadonlyMap<number, SkippedSenderKey> {
  const next = new Map<number, SkippedSenderKey>();
  for (const [n, entry] of base) if (n !== remove && now - entry.at <= SENDER_KEY_SKIPPED_TTL_MS) next.set(n, entry);
  for (const entry of add) next.set(entry.n, entry);
  let excess = next.size - MAX_SENDER_KEY_SKIPPED;
  if (excess > 0) {
    for (const n of next.keys()) {
      if (excess-- <= 0) break;
      next.delete(n);
    }
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// Serialisation: version u8 | tag 'G' u8 | key id u32 | iteration u32 | chain key 32 |
// signing public 32 | has private u8 [| signing private 64] | skipped count u32 |
// per skipped key: iteration u32 | seed 32 | stored at f64

export function serializeSenderKey(state: SenderKeyState): Uint8Array {
  const w = new ByteWriter(160 + state.skipped.size * 44);
  w.u8(FORMAT_VERSION).u8(TAG_SENDER_KEY).u32(state.keyId).u32(state.iteration);
  w.bytes(state.chainKey).bytes(state.signingPublicKey);
  if (state.signingPrivateKey) w.u8(1).bytes(state.signingPrivateKey);
  else w.u8(0);
  w.u32(state.skipped.size);
  for (const e of state.skipped.values()) w.u32(e.n).bytes(e.seed).f64(e.at);
  return w.finish();
}

export function deserializeSenderKey(bytes: Uint8Array): SenderKeyState {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) throw new CryptoError('MALFORMED', 'sender-key record is too short');
  const r = new ByteReader(bytes);
  if (r.u8() !== FORMAT_VERSION) throw new CryptoError('BAD_VERSION', 'sender-key record has an unknown version');
  if (r.u8() !== TAG_SENDER_KEY) throw new CryptoError('MALFORMED', 'not a sender-key record');
  const keyId = r.u32();
  const iteration = r.u32();
  const chainKey = r.bytes(32);
  const signingPublicKey = r.bytes(32);
  const signingPrivateKey = r.bool() ? r.bytes(SIZES.ed25519Private) : null;
  const count = r.u32();
  if (count > MAX_SENDER_KEY_SKIPPED) throw new CryptoError('MALFORMED', 'too many skipped keys');
  const skipped = new Map<number, SkippedSenderKey>();
  for (let i = 0; i < count; i++) {
    const n = r.u32();
    const seed = r.bytes(32);
    const at = r.f64();
    if (!Number.isFinite(at) || n >= iteration) throw new CryptoError('MALFORMED', 'invalid skipped key');
    skipped.set(n, { n, seed, at });
  }
  r.end();
  if (keyId === 0) throw new CryptoError('MALFORMED', 'key id 0 is invalid');
  return { version: 1, keyId, iteration, chainKey, signingPublicKey, signingPrivateKey, skipped };
}
