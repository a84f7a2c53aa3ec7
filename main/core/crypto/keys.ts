// Identity and prekey material: generation, signatures, the upload/bundle conversion,
// bundle verification, and the versioned binary serialisation of each record.
import { fromBase64url, toBase64url } from '../../../shared/encoding/base64url.js';
import type { DeviceKeysUpload, PrekeyBundle } from '../../../shared/protocol/keys.js';
import { ByteReader, ByteWriter, concat, equalBytes, isU32, u32be, utf8 } from './bytes.js';
import {
  FORMAT_VERSION,
  LABEL_SIG_MLKEM_PREKEY,
  LABEL_SIG_X25519_PREKEY,
  PREKEY_SIGNATURE_PREFIX,
  SIZES,
  TAG_IDENTITY,
  TAG_KYBER_PREKEY,
  TAG_ONE_TIME_PREKEY,
  TAG_SIGNED_PREKEY,
} from './constants.js';
import { CryptoError } from './errors.js';
import { requireReady, sodium } from './sodium.js';

export interface IdentityKeyPair {
  /** Ed25519 public key, 32 bytes */
  publicKey: Uint8Array;
  /** Ed25519 secret key (seed || public key), 64 bytes */
  privateKey: Uint8Array;
}

export interface SignedPrekeyRecord {
  id: number;
  /** X25519, 32 bytes */
  publicKey: Uint8Array;
  privateKey: Uint8Array;
  /** Ed25519 signature by the identity key over the signed-prekey context */
  signature: Uint8Array;
  /** ms since the epoch, the caller's clock; used to decide rotation */
  createdAt: number;
}

export interface OneTimePrekeyRecord {
  id: number;
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

export interface KyberPrekeyRecord {
  id: number;
  /** ML-KEM-768 encapsulation key, 1184 bytes */
  publicKey: Uint8Array;
  /** ML-KEM-768 decapsulation key, 2400 bytes */
  privateKey: Uint8Array;
  signature: Uint8Array;
  /** the last-resort key is reused until replaced; one-time ones are deleted on use */
  lastResort: boolean;
}

const MAX_UPLOAD_ONE_TIME = 200;

// ---------------------------------------------------------------------------------------------
// Identity

export function generateIdentityKeyPair(): IdentityKeyPair {
  requireReady();
  const kp = sodium.crypto_sign_keypair();
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

function assertIdentity(identity: IdentityKeyPair): void {
  if (identity.publicKey.length !== SIZES.ed25519Public || identity.privateKey.length !== SIZES.ed25519Private) {
    throw new CryptoError('BAD_KEY', 'identity key pair has the wrong size');
  }
}

/**
 * Ed25519 detached signature with the identity key (used for relay authentication).
 * Refuses messages that start with the prekey-signature context, so a signing oracle
 * (say, a hostile relay's challenge) can never yield a prekey signature.
 */
export function signWithIdentity(identity: IdentityKeyPair, message: Uint8Array): Uint8Array {
  requireReady();
  assertIdentity(identity);
  const prefix = PREKEY_SIGNATURE_BYTES_PREFIX;
  if (message.length >= prefix.length && equalBytes(message.subarray(0, prefix.length), prefix)) {
    throw new CryptoError('INVALID_ARGUMENT', 'message uses a reserved signature context');
  }
  return sodium.crypto_sign_detached(message, identity.privateKey);
}

const PREKEY_SIGNATURE_BYTES_PREFIX = utf8(PREKEY_SIGNATURE_PREFIX);

/** X25519 form of an Ed25519 identity public key. Invalid points -> BAD_KEY. */
export function identityPublicToX25519(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== SIZES.ed25519Public) throw new CryptoError('BAD_KEY', 'identity key has the wrong size');
  try {
    return sodium.crypto_sign_ed25519_pk_to_curve25519(publicKey);
  } catch {
    throw new CryptoError('BAD_KEY', 'identity key is not a valid Ed25519 point');
  }
}

/** X25519 form of an Ed25519 identity secret key. */
export function identityPrivateToX25519(identity: IdentityKeyPair): Uint8Array {
  assertIdentity(identity);
  return sodium.crypto_sign_ed25519_sk_to_curve25519(identity.privateKey);
}

// ---------------------------------------------------------------------------------------------
// Prekeys and their signatures

/** The bytes an identity key signs for a prekey: label || 0x00 || u32be(id) || public key. */
export function prekeySignatureMessage(kind: 'x25519' | 'mlkem768', id: number, publicKey: Uint8Array): Uint8Array {
  const label = kind === 'x25519' ? LABEL_SIG_X25519_PREKEY : LABEL_SIG_MLKEM_PREKEY;
  return concat(utf8(label), Uint8Array.of(0), u32be(id), publicKey);
}

function signPrekey(identity: IdentityKeyPair, kind: 'x25519' | 'mlkem768', id: number, publicKey: Uint8Array): Uint8Array {
  assertIdentity(identity);
  return sodium.crypto_sign_detached(prekeySignatureMessage(kind, id, publicKey), identity.privateKey);
}

function verifyPrekeySignature(
  identityKey: Uint8Array,
  kind: 'x25519' | 'mlkem768',
  id: number,
  publicKey: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== SIZES.signature) return false;
  try {
    return sodium.crypto_sign_verify_detached(signature, prekeySignatureMessage(kind, id, publicKey), identityKey);
  } catch {
    return false;
  }
}

function assertIdRange(firstId: number, count: number): void {
  if (!isU32(firstId) || !Number.isInteger(count) || count < 0 || !isU32(firstId + Math.max(count - 1, 0))) {
    throw new CryptoError('INVALID_ARGUMENT', 'prekey ids must be integers in 0..2^32-1');
  }
}

export function generateSignedPrekey(identity: IdentityKeyPair, id: number, now: number): SignedPrekeyRecord {
  requireReady();
  assertIdRange(id, 1);
  const kp = sodium.crypto_box_keypair();
  return {
    id,
    publicKey: kp.publicKey,
    privateKey: kp.privateKey,
    signature: signPrekey(identity, 'x25519', id, kp.publicKey),
    createdAt: now,
  };
}

export function generateOneTimePrekeys(firstId: number, count: number): OneTimePrekeyRecord[] {
  requireReady();
  assertIdRange(firstId, count);
  const out: OneTimePrekeyRecord[] = [];
  for (let i = 0; i < count; i++) {
    const kp = sodium.crypto_box_keypair();
    out.push({ id: firstId + i, publicKey: kp.publicKey, privateKey: kp.privateKey });
  }
  return out;
}

export function generateKyberPrekeys(identity: IdentityKeyPair, firstId: number, count: number, lastResort: boolean): KyberPrekeyRecord[] {
  requireReady();
  assertIdRange(firstId, count);
  const out: KyberPrekeyRecord[] = [];
  for (let i = 0; i < count; i++) {
    const kp = sodium.crypto_kem_mlkem768_keypair();
    const id = firstId + i;
    out.push({ id, publicKey: kp.publicKey, privateKey: kp.privateKey, signature: signPrekey(identity, 'mlkem768', id, kp.publicKey), lastResort });
  }
  return out;
}

/** The public half of a device's keys, as the relay stores them (shared/protocol/keys.ts). */
export function buildKeysUpload(
  identity: IdentityKeyPair,
  signed: SignedPrekeyRecord,
  kyberLastResort: KyberPrekeyRecord,
  oneTime: OneTimePrekeyRecord[],
  kyberOneTime: KyberPrekeyRecord[],
): DeviceKeysUpload {
  assertIdentity(identity);
  if (!kyberLastResort.lastResort) throw new CryptoError('INVALID_ARGUMENT', 'kyberLastResort must be a last-resort key');
  if (kyberOneTime.some((k) => k.lastResort)) throw new CryptoError('INVALID_ARGUMENT', 'kyberOneTime must hold one-time keys only');
  if (oneTime.length > MAX_UPLOAD_ONE_TIME || kyberOneTime.length > MAX_UPLOAD_ONE_TIME) {
    throw new CryptoError('INVALID_ARGUMENT', `at most ${MAX_UPLOAD_ONE_TIME} one-time prekeys of each kind per upload`);
  }
  const kyber = (k: KyberPrekeyRecord) => ({ id: k.id, publicKey: toBase64url(k.publicKey), signature: toBase64url(k.signature) });
  return {
    identityKey: toBase64url(identity.publicKey),
    signedPrekey: { id: signed.id, publicKey: toBase64url(signed.publicKey), signature: toBase64url(signed.signature) },
    kyberLastResort: kyber(kyberLastResort),
    oneTimePrekeys: oneTime.map((k) => ({ id: k.id, publicKey: toBase64url(k.publicKey) })),
    kyberOneTimePrekeys: kyberOneTime.map(kyber),
  };
}

// ---------------------------------------------------------------------------------------------
// Bundles

export interface DecodedBundle {
  identityKey: Uint8Array;
  signedPrekey: { id: number; publicKey: Uint8Array };
  kyberPrekey: { id: number; publicKey: Uint8Array; lastResort: boolean };
  oneTimePrekey: { id: number; publicKey: Uint8Array } | null;
}

function decodeKey(text: unknown, size: number, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    if (typeof text !== 'string') throw new Error('not a string');
    bytes = fromBase64url(text);
  } catch {
    throw new CryptoError('BAD_KEY', `${what} is not valid base64url`);
  }
  if (bytes.length !== size) throw new CryptoError('BAD_KEY', `${what} has the wrong size`);
  return bytes;
}

function checkId(id: unknown, what: string): number {
  if (typeof id !== 'number' || !isU32(id)) throw new CryptoError('BAD_KEY', `${what} id is out of range`);
  return id;
}

/** Decodes and verifies a bundle; throws BAD_KEY (sizes, encodings, points) or BAD_SIGNATURE. */
export function decodeAndVerifyBundle(bundle: PrekeyBundle): DecodedBundle {
  requireReady();
  const identityKey = decodeKey(bundle.identityKey, SIZES.ed25519Public, 'identity key');
  identityPublicToX25519(identityKey); // rejects keys that are not valid points
  const spk = bundle.signedPrekey;
  const kpk = bundle.kyberPrekey;
  const signedPrekey = { id: checkId(spk.id, 'signed prekey'), publicKey: decodeKey(spk.publicKey, SIZES.x25519, 'signed prekey') };
  const spkSig = decodeKey(spk.signature, SIZES.signature, 'signed prekey signature');
  const kyberPrekey = {
    id: checkId(kpk.id, 'kyber prekey'),
    publicKey: decodeKey(kpk.publicKey, SIZES.mlkemPublic, 'kyber prekey'),
    lastResort: kpk.lastResort === true,
  };
  const kpkSig = decodeKey(kpk.signature, SIZES.signature, 'kyber prekey signature');
  const opk = bundle.oneTimePrekey;
  const oneTimePrekey = opk ? { id: checkId(opk.id, 'one-time prekey'), publicKey: decodeKey(opk.publicKey, SIZES.x25519, 'one-time prekey') } : null;

  if (!verifyPrekeySignature(identityKey, 'x25519', signedPrekey.id, signedPrekey.publicKey, spkSig)) {
    throw new CryptoError('BAD_SIGNATURE', 'signed prekey signature does not verify');
  }
  if (!verifyPrekeySignature(identityKey, 'mlkem768', kyberPrekey.id, kyberPrekey.publicKey, kpkSig)) {
    throw new CryptoError('BAD_SIGNATURE', 'kyber prekey signature does not verify');
  }
  return { identityKey, signedPrekey, kyberPrekey, oneTimePrekey };
}

/** Verifies a bundle's signatures and key encodings; throws CryptoError BAD_SIGNATURE / BAD_KEY. */
export function verifyBundle(bundle: PrekeyBundle): void {
  decodeAndVerifyBundle(bundle);
}

// ---------------------------------------------------------------------------------------------
// Serialisation: [format version u8][tag u8][fields...], fixed-size fields, no trailing bytes.

function openRecord(bytes: Uint8Array, tag: number, what: string): ByteReader {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) throw new CryptoError('MALFORMED', `${what} record is too short`);
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new CryptoError('BAD_VERSION', `${what} record has an unknown version`);
  if (r.u8() !== tag) throw new CryptoError('MALFORMED', `not a ${what} record`);
  return r;
}

const header = (tag: number) => new ByteWriter().u8(FORMAT_VERSION).u8(tag);

function x25519Matches(privateKey: Uint8Array, publicKey: Uint8Array): boolean {
  return equalBytes(sodium.crypto_scalarmult_base(privateKey), publicKey);
}

/** FIPS 203 decapsulation keys embed the encapsulation key at bytes 1152..2336. */
function mlkemMatches(privateKey: Uint8Array, publicKey: Uint8Array): boolean {
  return equalBytes(privateKey.subarray(1152, 1152 + SIZES.mlkemPublic), publicKey);
}

export function serializeIdentity(k: IdentityKeyPair): Uint8Array {
  assertIdentity(k);
  return header(TAG_IDENTITY).bytes(k.publicKey).bytes(k.privateKey).finish();
}

export function deserializeIdentity(b: Uint8Array): IdentityKeyPair {
  requireReady();
  const r = openRecord(b, TAG_IDENTITY, 'identity');
  const publicKey = r.bytes(SIZES.ed25519Public);
  const privateKey = r.bytes(SIZES.ed25519Private);
  r.end();
  // Re-derive from the seed: the secret key's embedded public half alone proves nothing.
  const derived = sodium.crypto_sign_seed_keypair(privateKey.subarray(0, 32));
  const matches = equalBytes(derived.publicKey, publicKey) && equalBytes(derived.privateKey, privateKey);
  sodium.memzero(derived.privateKey);
  if (!matches) throw new CryptoError('BAD_KEY', 'identity key pair does not match');
  return { publicKey, privateKey };
}

export function serializeSignedPrekey(k: SignedPrekeyRecord): Uint8Array {
  if (!isU32(k.id) || !Number.isFinite(k.createdAt)) throw new CryptoError('INVALID_ARGUMENT', 'signed prekey record has an invalid id or date');
  return header(TAG_SIGNED_PREKEY).u32(k.id).f64(k.createdAt).bytes(k.publicKey).bytes(k.privateKey).bytes(k.signature).finish();
}

export function deserializeSignedPrekey(b: Uint8Array): SignedPrekeyRecord {
  requireReady();
  const r = openRecord(b, TAG_SIGNED_PREKEY, 'signed prekey');
  const id = r.u32();
  const createdAt = r.f64();
  const publicKey = r.bytes(SIZES.x25519);
  const privateKey = r.bytes(SIZES.x25519);
  const signature = r.bytes(SIZES.signature);
  r.end();
  if (!Number.isFinite(createdAt)) throw new CryptoError('MALFORMED', 'signed prekey date is invalid');
  if (!x25519Matches(privateKey, publicKey)) throw new CryptoError('BAD_KEY', 'signed prekey pair does not match');
  return { id, publicKey, privateKey, signature, createdAt };
}

export function serializeOneTimePrekey(k: OneTimePrekeyRecord): Uint8Array {
  if (!isU32(k.id)) throw new CryptoError('INVALID_ARGUMENT', 'one-time prekey id is out of range');
  return header(TAG_ONE_TIME_PREKEY).u32(k.id).bytes(k.publicKey).bytes(k.privateKey).finish();
}

export function deserializeOneTimePrekey(b: Uint8Array): OneTimePrekeyRecord {
  requireReady();
  const r = openRecord(b, TAG_ONE_TIME_PREKEY, 'one-time prekey');
  const id = r.u32();
  const publicKey = r.bytes(SIZES.x25519);
  const privateKey = r.bytes(SIZES.x25519);
  r.end();
  if (!x25519Matches(privateKey, publicKey)) throw new CryptoError('BAD_KEY', 'one-time prekey pair does not match');
  return { id, publicKey, privateKey };
}

export function serializeKyberPrekey(k: KyberPrekeyRecord): Uint8Array {
  if (!isU32(k.id)) throw new CryptoError('INVALID_ARGUMENT', 'kyber prekey id is out of range');
  return header(TAG_KYBER_PREKEY)
    .u32(k.id)
    .u8(k.lastResort ? 1 : 0)
    .bytes(k.publicKey)
    .bytes(k.privateKey)
    .bytes(k.signature)
    .finish();
}

export function deserializeKyberPrekey(b: Uint8Array): KyberPrekeyRecord {
  requireReady();
  const r = openRecord(b, TAG_KYBER_PREKEY, 'kyber prekey');
  const id = r.u32();
  const lastResort = r.bool();
  const publicKey = r.bytes(SIZES.mlkemPublic);
  const privateKey = r.bytes(SIZES.mlkemPrivate);
  const signature = r.bytes(SIZES.signature);
  r.end();
  if (!mlkemMatches(privateKey, publicKey)) throw new CryptoError('BAD_KEY', 'kyber prekey pair does not match');
  return { id, publicKey, privateKey, signature, lastResort };
}
