// Refuge's session protocol library: PQXDH + Double Ratchet + safety numbers on libsodium.
// Pure functions, no I/O. Call (and await) initCrypto() once before anything else.
// Wire formats, labels and limits: docs/PROTOCOL.md.
export { initCrypto } from './init.js';
export { CryptoError, type CryptoErrorCode } from './errors.js';
export {
  generateIdentityKeyPair,
  signWithIdentity,
  generateSignedPrekey,
  generateOneTimePrekeys,
  generateKyberPrekeys,
  buildKeysUpload,
  verifyBundle,
  prekeySignatureMessage,
  serializeIdentity,
  deserializeIdentity,
  serializeSignedPrekey,
  deserializeSignedPrekey,
  serializeOneTimePrekey,
  deserializeOneTimePrekey,
  serializeKyberPrekey,
  deserializeKyberPrekey,
  type IdentityKeyPair,
  type SignedPrekeyRecord,
  type OneTimePrekeyRecord,
  type KyberPrekeyRecord,
} from './keys.js';
export {
  initiateSession,
  acceptPrekeyMessage,
  encryptMessage,
  decryptMessage,
  messageKind,
  prekeyMessageInfo,
  sessionInfo,
  serializeSession,
  deserializeSession,
  pqxdhKdf,
  type SessionState,
  type ResponderKeys,
  type AcceptResult,
} from './session.js';
export { safetyNumber, numericFingerprint } from './fingerprint.js';
export {
  hmacSha256,
  hkdfSha256,
  hkdfExtract,
  hkdfExpand,
  kdfRk,
  kdfCk,
  deriveMessageKeys,
  type RootStep,
  type ChainStep,
} from './kdf.js';
export {
  LABEL_PQXDH,
  LABEL_RATCHET,
  LABEL_SIG_X25519_PREKEY,
  LABEL_SIG_MLKEM_PREKEY,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  SKIPPED_KEY_TTL_MS,
  WIRE_VERSION,
  FORMAT_VERSION,
} from './constants.js';
export {
  createSenderKey,
  senderKeyDistribution,
  processSenderKeyDistribution,
  senderKeyMessageInfo,
  groupEncrypt,
  groupDecrypt,
  serializeSenderKey,
  deserializeSenderKey,
  LABEL_SENDER_KEY_MESSAGE_KEYS,
  LABEL_SENDER_KEY_SIGNATURE,
  MSG_TYPE_SENDER_KEY,
  MSG_TYPE_SENDER_KEY_DISTRIBUTION,
  MAX_SENDER_KEY_SKIP,
  MAX_SENDER_KEY_SKIPPED,
  SENDER_KEY_SKIPPED_TTL_MS,
  type SenderKeyState,
} from './sender-keys.js';
