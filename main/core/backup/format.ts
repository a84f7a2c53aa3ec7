// The backup file format, version 1 (specified in docs/PROTOCOL.md, "Backup format"):
//
//   header (112 bytes) || sealed chunk 0 || sealed chunk 1 || ... || sealed final chunk
//
// The header carries everything needed to derive the key (Argon2id parameters and salt) and
// start the stream (the secretstream header). Every chunk holds exactly CHUNK_BYTES of
// plaintext (the last one zero-padded), so the file length is fixed by the chunk count and a
// cut anywhere is told apart from a flipped bit: a short chunk or a missing TAG_FINAL is
// TRUNCATED, a chunk that fails authentication is CORRUPT.
import sodium from 'libsodium-wrappers-sumo';
import { ARGON2_LIMITS, argon2id, checkArgon2idParams, VaultError, type Argon2idParams } from '../vault/index.js';
import { BackupError } from './errors.js';

/** "REFUGEBK" */
export const MAGIC = Uint8Array.from([0x52, 0x45, 0x46, 0x55, 0x47, 0x45, 0x42, 0x4b]);
/** The format version this build writes and the newest it reads. */
export const FORMAT_VERSION = 1;
/** KDF id 1: Argon2id v1.3 (crypto_pwhash_ALG_ARGON2ID13). */
export const KDF_ARGON2ID13 = 1;
export const SALT_BYTES = ARGON2_LIMITS.saltBytes; // 16
export const STREAM_HEADER_BYTES = 24; // crypto_secretstream_xchacha20poly1305_HEADERBYTES
export const KEY_CHECK_BYTES = 32;
export const CHECKSUM_BYTES = 16;
/** Plaintext bytes per chunk. */
export const CHUNK_BYTES = 64 * 1024;
export const ABYTES = 17; // crypto_secretstream_xchacha20poly1305_ABYTES: 1 tag byte + 16 MAC bytes
export const SEALED_CHUNK_BYTES = CHUNK_BYTES + ABYTES;
/** crypto_kdf context for the two subkeys of the Argon2id output. */
export const KDF_CONTEXT = 'RfgBkup1';
const SUBKEY_STREAM = 1;
const SUBKEY_CHECK = 2;

// Header layout (big-endian integers).
const OFF_VERSION = 8; // u16
const OFF_KDF = 10; // u8
const OFF_RESERVED = 11; // u8, 0
const OFF_OPSLIMIT = 12; // u32
const OFF_MEMLIMIT = 16; // u64
const OFF_SALT = 24; // [16]
const OFF_STREAM_HEADER = 40; // [24]
const OFF_KEY_CHECK = 64; // [32] keyed BLAKE2b-256 of bytes 0..63
const OFF_CHECKSUM = 96; // [16] unkeyed BLAKE2b-128 of bytes 0..95
export const HEADER_BYTES = 112;

export interface HeaderFields {
  version: number;
  params: Argon2idParams;
  salt: Uint8Array;
  streamHeader: Uint8Array;
}

export interface ParsedHeader extends HeaderFields {
  /** the whole 112-byte header: the additional data of the first chunk */
  bytes: Uint8Array;
  keyCheck: Uint8Array;
}

export interface BackupKeys {
  /** crypto_secretstream key */
  streamKey: Uint8Array;
  /** key of the header's key check (tells a wrong passphrase from a damaged file) */
  checkKey: Uint8Array;
}

/** Derives 32 bytes with Argon2id; replaceable in tests (e.g. to prove it is never reached). */
export type Kdf = (password: Uint8Array, salt: Uint8Array, params: Argon2idParams) => Promise<Uint8Array>;

export const defaultKdf: Kdf = (password, salt, params) => argon2id(password, salt, params, 32);

export function passphraseBytes(passphrase: string): Uint8Array {
  // NFKC like the vault: the same passphrase typed through another input method still opens it.
  return new TextEncoder().encode(passphrase.normalize('NFKC'));
}

/** Argon2id in a worker (vault's helper), then two BLAKE2b subkeys. Checks the parameters first. */
export async function deriveBackupKeys(passphrase: string, salt: Uint8Array, params: Argon2idParams, kdf: Kdf = defaultKdf): Promise<BackupKeys> {
  checkParams(params);
  await sodium.ready;
  const password = passphraseBytes(passphrase);
  let master: Uint8Array;
  try {
    master = await kdf(password, salt, params);
  } finally {
    sodium.memzero(password);
  }
  try {
    return {
      streamKey: sodium.crypto_kdf_derive_from_key(32, SUBKEY_STREAM, KDF_CONTEXT, master),
      checkKey: sodium.crypto_kdf_derive_from_key(32, SUBKEY_CHECK, KDF_CONTEXT, master),
    };
  } finally {
    sodium.memzero(master);
  }
}

export function wipeKeys(keys: BackupKeys): void {
  keys.streamKey.fill(0);
  keys.checkKey.fill(0);
}

function checkParams(params: Argon2idParams): void {
  try {
    checkArgon2idParams(params);
  } catch (error) {
    if (error instanceof VaultError && error.code === 'KDF_PARAMS_OUT_OF_RANGE') {
      throw new BackupError(
        'KDF_PARAMS_OUT_OF_RANGE',
        `This backup asks for key-derivation settings outside the accepted range (opslimit ${ARGON2_LIMITS.minOpslimit}..${ARGON2_LIMITS.maxOpslimit}, memlimit up to ${ARGON2_LIMITS.maxMemlimit / (1024 * 1024)} MiB), so it was not opened.`,
      );
    }
    throw error;
  }
}

/** Builds the 112-byte header: fields, then the key check under `checkKey`, then the checksum. */
export function encodeHeader(fields: HeaderFields, checkKey: Uint8Array): Uint8Array {
  if (fields.salt.length !== SALT_BYTES || fields.streamHeader.length !== STREAM_HEADER_BYTES) {
    throw new BackupError('INVALID_ARGUMENT');
  }
  const bytes = new Uint8Array(HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint16(OFF_VERSION, fields.version);
  view.setUint8(OFF_KDF, KDF_ARGON2ID13);
  view.setUint8(OFF_RESERVED, 0);
  view.setUint32(OFF_OPSLIMIT, fields.params.opslimit);
  view.setBigUint64(OFF_MEMLIMIT, BigInt(fields.params.memlimit));
  bytes.set(fields.salt, OFF_SALT);
  bytes.set(fields.streamHeader, OFF_STREAM_HEADER);
  bytes.set(keyCheck(bytes, checkKey), OFF_KEY_CHECK);
  bytes.set(checksum(bytes), OFF_CHECKSUM);
  return bytes;
}

function keyCheck(header: Uint8Array, checkKey: Uint8Array): Uint8Array {
  return sodium.crypto_generichash(KEY_CHECK_BYTES, header.subarray(0, OFF_KEY_CHECK), checkKey);
}

function checksum(header: Uint8Array): Uint8Array {
  return sodium.crypto_generichash(CHECKSUM_BYTES, header.subarray(0, OFF_CHECKSUM), null);
}

/** Recomputes the unkeyed checksum (bytes 96..111) in place. For tests that craft headers. */
export function resealChecksum(header: Uint8Array): void {
  header.set(checksum(header), OFF_CHECKSUM);
}

/**
 * Parses a header, in this order, each failure with its own code: magic (NOT_A_BACKUP), version
 * (UNSUPPORTED_VERSION for a newer one: its layout may differ, so nothing after it is read),
 * length (TRUNCATED), checksum (CORRUPT: damage anywhere in the header, told apart from a wrong
 * passphrase), KDF id (UNSUPPORTED_KDF), Argon2id parameters (KDF_PARAMS_OUT_OF_RANGE).
 * Nothing here hashes a passphrase. `bytes` is what the file holds from offset 0 (up to 112 bytes).
 */
export function parseHeader(bytes: Uint8Array): ParsedHeader {
  const magicPart = bytes.subarray(0, Math.min(bytes.length, MAGIC.length));
  if (!magicPart.every((b, i) => b === MAGIC[i])) throw new BackupError('NOT_A_BACKUP');
  if (bytes.length < OFF_VERSION + 2) {
    throw bytes.length === 0 ? new BackupError('NOT_A_BACKUP') : new BackupError('TRUNCATED');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(OFF_VERSION);
  if (version > FORMAT_VERSION) throw new BackupError('UNSUPPORTED_VERSION');
  if (version < 1) throw new BackupError('CORRUPT');
  if (bytes.length < HEADER_BYTES) throw new BackupError('TRUNCATED');
  const header = bytes.slice(0, HEADER_BYTES);
  if (!sodium.memcmp(checksum(header), header.subarray(OFF_CHECKSUM, HEADER_BYTES))) throw new BackupError('CORRUPT');
  if (view.getUint8(OFF_KDF) !== KDF_ARGON2ID13) throw new BackupError('UNSUPPORTED_KDF');
  if (view.getUint8(OFF_RESERVED) !== 0) throw new BackupError('CORRUPT');
  const memlimit = view.getBigUint64(OFF_MEMLIMIT);
  const params = {
    opslimit: view.getUint32(OFF_OPSLIMIT),
    // beyond 2^53 is out of range anyway; NaN-free and unsafe, so checkParams refuses it
    memlimit: memlimit > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER + 2 : Number(memlimit),
  };
  checkParams(params);
  return {
    version,
    params,
    salt: header.slice(OFF_SALT, OFF_SALT + SALT_BYTES),
    streamHeader: header.slice(OFF_STREAM_HEADER, OFF_STREAM_HEADER + STREAM_HEADER_BYTES),
    keyCheck: header.slice(OFF_KEY_CHECK, OFF_KEY_CHECK + KEY_CHECK_BYTES),
    bytes: header,
  };
}

/** True when `checkKey` (from the passphrase) matches the header's key check, in constant time. */
export function keyCheckMatches(header: ParsedHeader, checkKey: Uint8Array): boolean {
  return sodium.memcmp(keyCheck(header.bytes, checkKey), header.keyCheck);
}

/** Field offsets, for tests that craft headers. */
export const HEADER_OFFSETS = {
  version: OFF_VERSION,
  kdf: OFF_KDF,
  opslimit: OFF_OPSLIMIT,
  memlimit: OFF_MEMLIMIT,
  salt: OFF_SALT,
  streamHeader: OFF_STREAM_HEADER,
  keyCheck: OFF_KEY_CHECK,
  checksum: OFF_CHECKSUM,
} as const;
