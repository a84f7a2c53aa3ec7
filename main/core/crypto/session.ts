// PQXDH session set-up and the Double Ratchet. Every function here is pure with respect to
// session state: it takes a state and returns a NEW state, never mutating its input, and
// new states share unchanged parts (Uint8Arrays, the skipped-key map) with the old one.
// So a failed decrypt leaves the caller's state exactly as it was, and callers must treat
// states (and every Uint8Array inside them) as immutable.
import type { PrekeyBundle } from '../../../shared/protocol/keys.js';
import { ByteReader, ByteWriter, concat, equalBytes, readU32, toHex, writeU32 } from './bytes.js';
import {
  FORMAT_VERSION,
  LABEL_PQXDH,
  MAX_PREVIOUS_RATCHET_KEYS,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  MSG_TYPE_PREKEY,
  MSG_TYPE_RATCHET,
  SIZES,
  SKIPPED_KEY_TTL_MS,
  TAG_SESSION,
  WIRE_VERSION,
} from './constants.js';
import { CryptoError } from './errors.js';
import { chainStep, openMessage, openNextMessage, sealNextMessage } from './fast.js';
import { hkdfSha256, kdfRk } from './kdf.js';
import {
  decodeAndVerifyBundle,
  identityPrivateToX25519,
  identityPublicToX25519,
  type IdentityKeyPair,
  type KyberPrekeyRecord,
  type OneTimePrekeyRecord,
  type SignedPrekeyRecord,
} from './keys.js';
import { randomNonce, requireReady, sodium } from './sodium.js';

// ---------------------------------------------------------------------------------------------
// State

interface ChainState {
  readonly key: Uint8Array;
  /** index of the next message key this chain yields */
  readonly n: number;
}

interface RatchetKeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

interface SkippedKey {
  /** remote ratchet public key of the chain the key belongs to */
  readonly dh: Uint8Array;
  readonly n: number;
  /** the message's AEAD key (KDF_CK output) */
  readonly messageKey: Uint8Array;
  /** caller's `now` when the key was stored */
  readonly at: number;
}

export interface SessionState {
  readonly version: 1;
  /** true on the side that called initiateSession */
  readonly initiator: boolean;
  readonly localIdentityKey: Uint8Array;
  readonly remoteIdentityKey: Uint8Array;
  /** associated data: initiator identity key || responder identity key (Ed25519, 64 bytes) */
  readonly ad: Uint8Array;
  /** the initiator's PQXDH ephemeral public key: identifies the session on both sides */
  readonly baseKey: Uint8Array;
  /** initiator only, until the first reply decrypts: the PQXDH header every message carries */
  readonly pendingPrekey: Uint8Array | null;
  readonly rootKey: Uint8Array;
  readonly dhs: RatchetKeyPair;
  readonly dhr: Uint8Array | null;
  readonly send: ChainState | null;
  readonly recv: ChainState | null;
  /** length of our previous sending chain (the PN header field) */
  readonly pn: number;
  /** earlier remote ratchet public keys, oldest first, to report replays as REPLAY */
  readonly previousRemote: readonly Uint8Array[];
  /** skipped message keys by `${hex(dh)}:${n}`, in insertion (= age) order */
  readonly skipped: ReadonlyMap<string, SkippedKey>;
}

const EMPTY_SKIPPED: ReadonlyMap<string, SkippedKey> = new Map();

const skippedId = (dhHex: string, n: number) => `${dhHex}:${n}`;
const isExpired = (entry: SkippedKey, now: number) => now - entry.at > SKIPPED_KEY_TTL_MS;

// ---------------------------------------------------------------------------------------------
// Wire format (docs/PROTOCOL.md)
//
// ratchet: version u8 | type=1 u8 | ratchet key 32 | PN u32 | N u32 | nonce 24 | AEAD ciphertext
// prekey:  version u8 | type=2 u8 | sender identity 32 | base key 32 | signed prekey id u32 |
//          kyber prekey id u32 | has one-time u8 | one-time prekey id u32 | ML-KEM ciphertext 1088 |
//          ratchet key 32 | PN u32 | N u32 | nonce 24 | AEAD ciphertext
// AEAD associated data = session AD || every byte before the AEAD ciphertext.

const RATCHET_HEADER_LEN = 32 + 4 + 4 + SIZES.nonce; // 64
const PREKEY_PREFIX_LEN = 2 + 32 + 32 + 4 + 4 + 1 + 4 + SIZES.mlkemCiphertext; // 1167
const RATCHET_PREFIX = Uint8Array.of(WIRE_VERSION, MSG_TYPE_RATCHET);

interface PrekeyHeader {
  senderIdentityKey: Uint8Array;
  baseKey: Uint8Array;
  signedPrekeyId: number;
  kyberPrekeyId: number;
  oneTimePrekeyId: number | null;
  kemCiphertext: Uint8Array;
}

interface ParsedMessage {
  prekey: PrekeyHeader | null;
  /** views into the ciphertext; copy before storing */
  dh: Uint8Array;
  pn: number;
  n: number;
  /** the whole message */
  bytes: Uint8Array;
  /** length of everything before the AEAD body (authenticated as associated data; ends with the nonce) */
  headerLen: number;
}

function checkKind(ciphertext: Uint8Array): number {
  if (!(ciphertext instanceof Uint8Array) || ciphertext.length < 2) throw new CryptoError('MALFORMED', 'message is too short');
  if (ciphertext[0] !== WIRE_VERSION) throw new CryptoError('BAD_VERSION', 'message has an unknown version');
  const type = ciphertext[1] ?? 0;
  if (type !== MSG_TYPE_RATCHET && type !== MSG_TYPE_PREKEY) throw new CryptoError('MALFORMED', 'unknown message type');
  return type;
}

function parsePrekeyHeader(c: Uint8Array): PrekeyHeader {
  if (c.length < PREKEY_PREFIX_LEN) throw new CryptoError('MALFORMED', 'prekey message is too short');
  const hasOneTime = c[74];
  const oneTimeId = readU32(c, 75);
  if (hasOneTime !== 0 && hasOneTime !== 1) throw new CryptoError('MALFORMED', 'invalid one-time prekey flag');
  if (hasOneTime === 0 && oneTimeId !== 0) throw new CryptoError('MALFORMED', 'one-time prekey id without a one-time prekey');
  return {
    senderIdentityKey: c.subarray(2, 34),
    baseKey: c.subarray(34, 66),
    signedPrekeyId: readU32(c, 66),
    kyberPrekeyId: readU32(c, 70),
    oneTimePrekeyId: hasOneTime === 1 ? oneTimeId : null,
    kemCiphertext: c.subarray(79, PREKEY_PREFIX_LEN),
  };
}

function parseMessage(c: Uint8Array): ParsedMessage {
  const type = checkKind(c);
  const prekey = type === MSG_TYPE_PREKEY ? parsePrekeyHeader(c) : null;
  const start = prekey ? PREKEY_PREFIX_LEN : 2;
  const headerEnd = start + RATCHET_HEADER_LEN;
  if (c.length < headerEnd + SIZES.tag) throw new CryptoError('MALFORMED', 'message is too short');
  return {
    prekey,
    dh: c.subarray(start, start + 32),
    pn: readU32(c, start + 32),
    n: readU32(c, start + 36),
    bytes: c,
    headerLen: headerEnd,
  };
}

function encodePrekeyPrefix(h: PrekeyHeader): Uint8Array {
  const out = new Uint8Array(PREKEY_PREFIX_LEN);
  out[0] = WIRE_VERSION;
  out[1] = MSG_TYPE_PREKEY;
  out.set(h.senderIdentityKey, 2);
  out.set(h.baseKey, 34);
  writeU32(out, 66, h.signedPrekeyId);
  writeU32(out, 70, h.kyberPrekeyId);
  out[74] = h.oneTimePrekeyId === null ? 0 : 1;
  writeU32(out, 75, h.oneTimePrekeyId ?? 0);
  out.set(h.kemCiphertext, 79);
  return out;
}

export function messageKind(ciphertext: Uint8Array): 'prekey' | 'ratchet' {
  return checkKind(ciphertext) === MSG_TYPE_PREKEY ? 'prekey' : 'ratchet';
}

export function prekeyMessageInfo(ciphertext: Uint8Array): {
  senderIdentityKey: Uint8Array;
  baseKey: Uint8Array;
  signedPrekeyId: number;
  oneTimePrekeyId: number | null;
  kyberPrekeyId: number;
} {
  const m = parseMessage(ciphertext);
  if (!m.prekey) throw new CryptoError('MALFORMED', 'not a prekey message');
  return {
    senderIdentityKey: m.prekey.senderIdentityKey.slice(),
    baseKey: m.prekey.baseKey.slice(),
    signedPrekeyId: m.prekey.signedPrekeyId,
    oneTimePrekeyId: m.prekey.oneTimePrekeyId,
    kyberPrekeyId: m.prekey.kyberPrekeyId,
  };
}

// ---------------------------------------------------------------------------------------------
// Primitives

function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  try {
    return sodium.crypto_scalarmult(privateKey, publicKey);
  } catch {
    throw new CryptoError('BAD_KEY', 'public key is not acceptable for X25519');
  }
}

/** The next receiving step: KDF_CK, then the AEAD body opened with the message key (which stays in libsodium's memory). */
function openNext(chainKey: Uint8Array, s: SessionState, m: ParsedMessage): { plaintext: Uint8Array; chainKey: Uint8Array } {
  const step = openNextMessage(chainKey, s.ad, m.bytes, m.headerLen);
  if (!step.plaintext) throw new CryptoError('DECRYPT_FAILED', 'message authentication failed');
  return { plaintext: step.plaintext, chainKey: step.chainKey };
}

/** Opens a message's AEAD body with `key` (wiped after): AD = session AD || every byte before the body. */
function open(key: Uint8Array, s: SessionState, m: ParsedMessage): Uint8Array {
  const plaintext = openMessage(key, s.ad, m.bytes, m.headerLen);
  sodium.memzero(key);
  if (!plaintext) throw new CryptoError('DECRYPT_FAILED', 'message authentication failed');
  return plaintext;
}

const PQXDH_F = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);

/**
 * The PQXDH KDF: HKDF-SHA256(ikm = F || DH1 || DH2 || DH3 [|| DH4] [|| SS], salt = 32 zero
 * bytes, info) with F = 32 0xFF bytes. Refuge uses info LABEL_PQXDH and 32 bytes (SK, the
 * first root key). With info "WhisperText", 64 bytes and no SS this is libsignal's X3DH derive_keys.
 */
export function pqxdhKdf(dhOutputs: Uint8Array[], kemSecret: Uint8Array | null, info: Uint8Array | string = LABEL_PQXDH, length = 32): Uint8Array {
  const ikm = concat(PQXDH_F, ...dhOutputs, ...(kemSecret ? [kemSecret] : []));
  try {
    return hkdfSha256(ikm, ZERO_SALT, info, length);
  } finally {
    sodium.memzero(ikm);
  }
}

function wipe(...buffers: (Uint8Array | null)[]): void {
  for (const b of buffers) if (b) sodium.memzero(b);
}

// ---------------------------------------------------------------------------------------------
// Session set-up (PQXDH)

/** Alice's side: verifies the bundle, runs PQXDH, and returns a session that can send at once. */
export function initiateSession(identity: IdentityKeyPair, bundle: PrekeyBundle, _now: number): SessionState {
  requireReady();
  const b = decodeAndVerifyBundle(bundle);
  if (equalBytes(b.identityKey, identity.publicKey)) throw new CryptoError('BAD_KEY', 'cannot open a session with our own identity key');
  const ikA = identityPrivateToX25519(identity);
  const ikB = identityPublicToX25519(b.identityKey);
  const ek = sodium.crypto_box_keypair();
  const spk = b.signedPrekey.publicKey;
  let kem: { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  try {
    kem = sodium.crypto_kem_mlkem768_enc(b.kyberPrekey.publicKey);
  } catch {
    throw new CryptoError('BAD_KEY', 'kyber prekey is not a valid ML-KEM-768 key');
  }
  const dh1 = dh(ikA, spk);
  const dh2 = dh(ek.privateKey, ikB);
  const dh3 = dh(ek.privateKey, spk);
  const dh4 = b.oneTimePrekey ? dh(ek.privateKey, b.oneTimePrekey.publicKey) : null;
  const sk = pqxdhKdf(dh4 ? [dh1, dh2, dh3, dh4] : [dh1, dh2, dh3], kem.sharedSecret);
  wipe(ikA, ek.privateKey, dh1, dh2, dh3, dh4, kem.sharedSecret);

  // Double Ratchet initialisation (Signal spec §3.3): DHr = Bob's signed prekey.
  const dhs = sodium.crypto_box_keypair();
  const dhOut = dh(dhs.privateKey, spk);
  const step = kdfRk(sk, dhOut);
  wipe(sk, dhOut);
  const localIdentityKey = identity.publicKey.slice();
  return {
    version: 1,
    initiator: true,
    localIdentityKey,
    remoteIdentityKey: b.identityKey,
    ad: concat(localIdentityKey, b.identityKey),
    baseKey: ek.publicKey,
    pendingPrekey: encodePrekeyPrefix({
      senderIdentityKey: localIdentityKey,
      baseKey: ek.publicKey,
      signedPrekeyId: b.signedPrekey.id,
      kyberPrekeyId: b.kyberPrekey.id,
      oneTimePrekeyId: b.oneTimePrekey ? b.oneTimePrekey.id : null,
      kemCiphertext: kem.ciphertext,
    }),
    rootKey: step.rootKey,
    dhs: { publicKey: dhs.publicKey, privateKey: dhs.privateKey },
    dhr: null,
    send: { key: step.chainKey, n: 0 },
    recv: null,
    pn: 0,
    previousRemote: [],
    skipped: EMPTY_SKIPPED,
  };
}

export interface ResponderKeys {
  identity: IdentityKeyPair;
  signedPrekey(id: number): SignedPrekeyRecord | undefined;
  oneTimePrekey(id: number): OneTimePrekeyRecord | undefined;
  kyberPrekey(id: number): KyberPrekeyRecord | undefined;
}

export interface AcceptResult {
  session: SessionState;
  plaintext: Uint8Array;
  /** keys the caller must delete in the same transaction that stores the session */
  consumed: { oneTimePrekeyId: number | null; kyberPrekeyId: number | null };
}

/**
 * Bob's side: runs PQXDH from a prekey message and decrypts it. Nothing is returned (and
 * nothing may be deleted) unless the message authenticates. Callers must first route prekey
 * messages whose base key matches an existing session to decryptMessage (see PROTOCOL.md).
 */
export function acceptPrekeyMessage(keys: ResponderKeys, ciphertext: Uint8Array, now: number): AcceptResult {
  requireReady();
  const m = parseMessage(ciphertext);
  const p = m.prekey;
  if (!p) throw new CryptoError('MALFORMED', 'not a prekey message');
  if (equalBytes(p.senderIdentityKey, keys.identity.publicKey)) throw new CryptoError('BAD_KEY', 'prekey message claims our own identity');
  const ikA = identityPublicToX25519(p.senderIdentityKey);
  const spk = keys.signedPrekey(p.signedPrekeyId);
  const kpk = keys.kyberPrekey(p.kyberPrekeyId);
  if (!spk || !kpk) throw new CryptoError('UNKNOWN_PREKEY', 'prekey message names an unknown prekey');
  let opk: OneTimePrekeyRecord | null = null;
  if (p.oneTimePrekeyId !== null) {
    opk = keys.oneTimePrekey(p.oneTimePrekeyId) ?? null;
    if (!opk) throw new CryptoError('UNKNOWN_PREKEY', 'prekey message names an unknown one-time prekey');
  }
  if (spk.privateKey.length !== SIZES.x25519 || kpk.privateKey.length !== SIZES.mlkemPrivate || (opk && opk.privateKey.length !== SIZES.x25519)) {
    throw new CryptoError('BAD_KEY', 'a local prekey has the wrong size');
  }
  const ikB = identityPrivateToX25519(keys.identity);
  let ss: Uint8Array;
  try {
    // ML-KEM decapsulation never fails on a tampered ciphertext (implicit rejection): it yields
    // an unrelated secret, so the AEAD check below is what rejects it.
    ss = sodium.crypto_kem_mlkem768_dec(p.kemCiphertext, kpk.privateKey);
  } catch {
    throw new CryptoError('DECRYPT_FAILED', 'kyber ciphertext could not be decapsulated');
  }
  const dh1 = dh(spk.privateKey, ikA);
  const dh2 = dh(ikB, p.baseKey);
  const dh3 = dh(spk.privateKey, p.baseKey);
  const dh4 = opk ? dh(opk.privateKey, p.baseKey) : null;
  const sk = pqxdhKdf(dh4 ? [dh1, dh2, dh3, dh4] : [dh1, dh2, dh3], ss);
  wipe(ikB, dh1, dh2, dh3, dh4, ss);

  const localIdentityKey = keys.identity.publicKey.slice();
  const remoteIdentityKey = p.senderIdentityKey.slice();
  const initial: SessionState = {
    version: 1,
    initiator: false,
    localIdentityKey,
    remoteIdentityKey,
    ad: concat(remoteIdentityKey, localIdentityKey),
    baseKey: p.baseKey.slice(),
    pendingPrekey: null,
    rootKey: sk,
    // Double Ratchet initialisation (Signal spec §3.3): Bob's first ratchet pair is his signed prekey.
    dhs: { publicKey: spk.publicKey.slice(), privateKey: spk.privateKey.slice() },
    dhr: null,
    send: null,
    recv: null,
    pn: 0,
    previousRemote: [],
    skipped: EMPTY_SKIPPED,
  };
  const { session, plaintext } = ratchetDecrypt(initial, m, now);
  return {
    session,
    plaintext,
    consumed: { oneTimePrekeyId: opk ? opk.id : null, kyberPrekeyId: kpk.lastResort ? null : kpk.id },
  };
}

// ---------------------------------------------------------------------------------------------
// Double Ratchet

/** Encrypts one message. While the initiator has had no reply, the output is a prekey message. */
export function encryptMessage(session: SessionState, plaintext: Uint8Array, _now: number): { session: SessionState; ciphertext: Uint8Array } {
  requireReady();
  const send = session.send;
  if (!send) throw new CryptoError('WRONG_SESSION', 'session has no sending chain');
  if (send.n >= 0xffffffff) throw new CryptoError('INVALID_ARGUMENT', 'sending chain exhausted; start a new session');
  const prefix = session.pendingPrekey ?? RATCHET_PREFIX;
  // KDF_CK, then header = prefix || ratchet key || PN || N || nonce; AD = session AD || header; then the body.
  const header = { prefix, ratchetKey: session.dhs.publicKey, pn: session.pn, n: send.n, nonce: randomNonce() };
  const sent = sealNextMessage(send.key, session.ad, header, plaintext);
  return { session: { ...session, send: { key: sent.chainKey, n: send.n + 1 } }, ciphertext: sent.ciphertext };
}

/**
 * Decrypts a message of this session: ratchet messages, and further prekey messages of the
 * same session (same base key; responder side only). Any other prekey message -> WRONG_SESSION.
 */
export function decryptMessage(session: SessionState, ciphertext: Uint8Array, now: number): { session: SessionState; plaintext: Uint8Array } {
  requireReady();
  const m = parseMessage(ciphertext);
  if (m.prekey) {
    if (session.initiator || !equalBytes(m.prekey.baseKey, session.baseKey) || !equalBytes(m.prekey.senderIdentityKey, session.remoteIdentityKey)) {
      throw new CryptoError('WRONG_SESSION', 'prekey message belongs to another session');
    }
  }
  return ratchetDecrypt(session, m, now);
}

/** Walks a chain from index `from` to `to`, collecting the skipped message keys. */
function skipTo(chainKey: Uint8Array, from: number, to: number, dhKey: Uint8Array, now: number, out: SkippedKey[]): Uint8Array {
  let ck = chainKey;
  for (let i = from; i < to; i++) {
    const step = chainStep(ck);
    out.push({ dh: dhKey, n: i, messageKey: step.messageKey, at: now });
    ck = step.chainKey;
  }
  return ck;
}

/** A new skipped-key map: `base` minus `remove` and expired keys, plus `add`, capped (oldest out). */
function rebuildSkipped(base: ReadonlyMap<string, SkippedKey>, remove: string | null, add: SkippedKey[], now: number): ReadonlyMap<string, SkippedKey> {
  const next = new Map<string, SkippedKey>();
  for (const [id, entry] of base) if (id !== remove && !isExpired(entry, now)) next.set(id, entry);
  let lastDh: Uint8Array | null = null;
  let lastHex = '';
  for (const entry of add) {
    if (entry.dh !== lastDh) {
      lastDh = entry.dh;
      lastHex = toHex(entry.dh);
    }
    next.set(skippedId(lastHex, entry.n), entry);
  }
  let excess = next.size - MAX_SKIPPED_KEYS;
  if (excess > 0) {
    for (const id of next.keys()) {
      if (excess-- <= 0) break;
      next.delete(id);
    }
  }
  return next;
}

function ratchetDecrypt(s: SessionState, m: ParsedMessage, now: number): { session: SessionState; plaintext: Uint8Array } {
  const recv = s.recv;
  const onCurrentChain = recv !== null && s.dhr !== null && equalBytes(m.dh, s.dhr);

  // 1. A key skipped earlier (only possible for an older chain, or an index below the current one).
  if (s.skipped.size > 0 && (!onCurrentChain || m.n < recv.n)) {
    const id = skippedId(toHex(m.dh), m.n);
    const entry = s.skipped.get(id);
    if (entry) {
      if (isExpired(entry, now)) throw new CryptoError('DECRYPT_FAILED', 'message key expired');
      // a copy: open() wipes its key, and the caller's state keeps this entry if it fails
      const plaintext = open(entry.messageKey.slice(), s, m);
      return { session: { ...s, pendingPrekey: null, skipped: rebuildSkipped(s.skipped, id, [], now) }, plaintext };
    }
  }
  // Expired keys leave with the next state this call returns (checked via the oldest entry).
  let skipped = s.skipped;
  if (skipped.size > 0) {
    const oldest = skipped.values().next().value;
    if (oldest && isExpired(oldest, now)) skipped = rebuildSkipped(skipped, null, [], now);
  }

  // 2. The current receiving chain.
  if (onCurrentChain) {
    if (m.n < recv.n) throw new CryptoError('REPLAY', 'message key already used');
    if (m.n - recv.n > MAX_SKIP) throw new CryptoError('TOO_MANY_SKIPPED', 'message is too far ahead in its chain');
    const added: SkippedKey[] = [];
    const ck = m.n > recv.n ? skipTo(recv.key, recv.n, m.n, s.dhr, now, added) : recv.key;
    const step = openNext(ck, s, m);
    return {
      plaintext: step.plaintext,
      session: {
        ...s,
        pendingPrekey: null,
        recv: { key: step.chainKey, n: m.n + 1 },
        skipped: added.length > 0 ? rebuildSkipped(skipped, null, added, now) : skipped,
      },
    };
  }
  for (const previous of s.previousRemote) {
    if (equalBytes(previous, m.dh)) throw new CryptoError('REPLAY', 'message of a finished chain whose key was already used');
  }

  // 3. A new remote ratchet key: DH ratchet step.
  const added: SkippedKey[] = [];
  if (recv && s.dhr) {
    if (m.pn > recv.n && m.pn - recv.n > MAX_SKIP) throw new CryptoError('TOO_MANY_SKIPPED', 'previous chain skips too many messages');
    if (m.pn > recv.n) skipTo(recv.key, recv.n, m.pn, s.dhr, now, added);
  }
  if (m.n > MAX_SKIP) throw new CryptoError('TOO_MANY_SKIPPED', 'message is too far ahead in its chain');
  const remote = m.dh.slice();
  const dhIn = dh(s.dhs.privateKey, remote);
  const receiving = kdfRk(s.rootKey, dhIn);
  const ck = skipTo(receiving.chainKey, 0, m.n, remote, now, added);
  const step = openNext(ck, s, m);
  const plaintext = step.plaintext;
  // Authenticated: complete the step with a fresh sending ratchet key.
  const dhs = sodium.crypto_box_keypair();
  const dhOut = dh(dhs.privateKey, remote);
  const sending = kdfRk(receiving.rootKey, dhOut);
  wipe(dhIn, dhOut);
  const previousRemote = s.dhr ? [...s.previousRemote, s.dhr].slice(-MAX_PREVIOUS_RATCHET_KEYS) : s.previousRemote;
  return {
    session: {
      ...s,
      pendingPrekey: null,
      rootKey: sending.rootKey,
      dhs: { publicKey: dhs.publicKey, privateKey: dhs.privateKey },
      dhr: remote,
      send: { key: sending.chainKey, n: 0 },
      recv: { key: step.chainKey, n: m.n + 1 },
      pn: s.send ? s.send.n : 0,
      previousRemote,
      skipped: added.length > 0 ? rebuildSkipped(skipped, null, added, now) : skipped,
    },
    plaintext,
  };
}

export function sessionInfo(s: SessionState): { remoteIdentityKey: Uint8Array; localIdentityKey: Uint8Array; pendingPrekey: boolean } {
  return { remoteIdentityKey: s.remoteIdentityKey.slice(), localIdentityKey: s.localIdentityKey.slice(), pendingPrekey: s.pendingPrekey !== null };
}

// ---------------------------------------------------------------------------------------------
// Serialisation (docs/PROTOCOL.md, "Stored session state")

export function serializeSession(s: SessionState): Uint8Array {
  const w = new ByteWriter(512 + s.skipped.size * 80 + (s.pendingPrekey ? PREKEY_PREFIX_LEN : 0));
  w.u8(FORMAT_VERSION).u8(TAG_SESSION);
  w.u8(s.initiator ? 1 : 0);
  w.bytes(s.localIdentityKey).bytes(s.remoteIdentityKey).bytes(s.baseKey);
  if (s.pendingPrekey) w.u8(1).bytes(s.pendingPrekey);
  else w.u8(0);
  w.bytes(s.rootKey).bytes(s.dhs.publicKey).bytes(s.dhs.privateKey);
  if (s.dhr) w.u8(1).bytes(s.dhr);
  else w.u8(0);
  for (const chain of [s.send, s.recv]) {
    if (chain) w.u8(1).bytes(chain.key).u32(chain.n);
    else w.u8(0);
  }
  w.u32(s.pn);
  w.u8(s.previousRemote.length);
  for (const k of s.previousRemote) w.bytes(k);
  w.u32(s.skipped.size);
  for (const e of s.skipped.values()) w.bytes(e.dh).u32(e.n).bytes(e.messageKey).f64(e.at);
  return w.finish();
}

export function deserializeSession(b: Uint8Array): SessionState {
  if (!(b instanceof Uint8Array) || b.length < 2) throw new CryptoError('MALFORMED', 'session record is too short');
  const r = new ByteReader(b);
  if (r.u8() !== FORMAT_VERSION) throw new CryptoError('BAD_VERSION', 'session record has an unknown version');
  if (r.u8() !== TAG_SESSION) throw new CryptoError('MALFORMED', 'not a session record');
  const initiator = r.bool();
  const localIdentityKey = r.bytes(32);
  const remoteIdentityKey = r.bytes(32);
  const baseKey = r.bytes(32);
  const pendingPrekey = r.bool() ? r.bytes(PREKEY_PREFIX_LEN) : null;
  if (pendingPrekey && (!initiator || pendingPrekey[0] !== WIRE_VERSION || pendingPrekey[1] !== MSG_TYPE_PREKEY)) {
    throw new CryptoError('MALFORMED', 'invalid pending prekey header');
  }
  const rootKey = r.bytes(32);
  const dhs = { publicKey: r.bytes(32), privateKey: r.bytes(32) };
  const dhr = r.bool() ? r.bytes(32) : null;
  const chain = (): ChainState | null => (r.bool() ? { key: r.bytes(32), n: r.u32() } : null);
  const send = chain();
  const recv = chain();
  const pn = r.u32();
  const previousCount = r.u8();
  if (previousCount > MAX_PREVIOUS_RATCHET_KEYS) throw new CryptoError('MALFORMED', 'too many previous ratchet keys');
  const previousRemote: Uint8Array[] = [];
  for (let i = 0; i < previousCount; i++) previousRemote.push(r.bytes(32));
  const skippedCount = r.u32();
  if (skippedCount > MAX_SKIPPED_KEYS) throw new CryptoError('MALFORMED', 'too many skipped keys');
  const skipped = new Map<string, SkippedKey>();
  let lastDh: Uint8Array | null = null;
  let lastHex = '';
  for (let i = 0; i < skippedCount; i++) {
    let dhKey = r.bytes(32);
    if (lastDh && equalBytes(dhKey, lastDh)) dhKey = lastDh;
    else {
      lastDh = dhKey;
      lastHex = toHex(dhKey);
    }
    const n = r.u32();
    const messageKey = r.bytes(32);
    const at = r.f64();
    if (!Number.isFinite(at)) throw new CryptoError('MALFORMED', 'invalid skipped key date');
    skipped.set(skippedId(lastHex, n), { dh: dhKey, n, messageKey, at });
  }
  r.end();
  if ((recv === null) !== (dhr === null)) throw new CryptoError('MALFORMED', 'inconsistent receiving chain');
  return {
    version: 1,
    initiator,
    localIdentityKey,
    remoteIdentityKey,
    ad: initiator ? concat(localIdentityKey, remoteIdentityKey) : concat(remoteIdentityKey, localIdentityKey),
    baseKey,
    pendingPrekey,
    rootKey,
    dhs,
    dhr,
    send,
    recv,
    pn,
    previousRemote,
    skipped,
  };
}
