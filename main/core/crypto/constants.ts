// Every label and limit of the protocol. docs/PROTOCOL.md documents each one; keep them in step.

/** HKDF info of the PQXDH key agreement (X25519 + SHA-256 + ML-KEM-768). */
export const LABEL_PQXDH = 'Refuge_PQXDH_25519_SHA-256_MLKEM768';
/** HKDF info of KDF_RK (the root-key step of the Double Ratchet). */
export const LABEL_RATCHET = 'Refuge_Ratchet';
/** Signature context of a signed X25519 prekey: label || 0x00 || u32 id || public key. */
export const LABEL_SIG_X25519_PREKEY = 'Refuge_PrekeySig_X25519';
/** Signature context of a signed ML-KEM-768 prekey: label || 0x00 || u32 id || public key. */
export const LABEL_SIG_MLKEM_PREKEY = 'Refuge_PrekeySig_MLKEM768';
/** Common prefix of prekey signature contexts; signWithIdentity refuses messages that start with it. */
export const PREKEY_SIGNATURE_PREFIX = 'Refuge_PrekeySig_';

/** Version byte of every message on the wire. */
export const WIRE_VERSION = 1;
export const MSG_TYPE_RATCHET = 1;
export const MSG_TYPE_PREKEY = 2;

/** Version byte of the serialised key material and session state. */
export const FORMAT_VERSION = 1;
export const TAG_IDENTITY = 0x49; // 'I'
export const TAG_SIGNED_PREKEY = 0x53; // 'S'
export const TAG_ONE_TIME_PREKEY = 0x4f; // 'O'
export const TAG_KYBER_PREKEY = 0x4b; // 'K'
export const TAG_SESSION = 0x52; // 'R'

/** Most message keys one message may make us skip in one receiving chain. */
export const MAX_SKIP = 1000;
/** Most skipped message keys a session keeps in total; the oldest are evicted first. */
export const MAX_SKIPPED_KEYS = 2000;
/** A skipped message key is deleted this long (by the caller's `now`, ms) after it was stored. */
export const SKIPPED_KEY_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Earlier remote ratchet keys remembered (public keys only) to report replays precisely. */
export const MAX_PREVIOUS_RATCHET_KEYS = 5;
/** Iterations of the numeric fingerprint (Signal's value). */
export const FINGERPRINT_ITERATIONS = 5200;

export const SIZES = {
  ed25519Public: 32,
  ed25519Private: 64,
  x25519: 32,
  signature: 64,
  mlkemPublic: 1184,
  mlkemPrivate: 2400,
  mlkemCiphertext: 1088,
  mlkemShared: 32,
  nonce: 24,
  tag: 16,
} as const;
