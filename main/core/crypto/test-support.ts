// Shared fixtures for the crypto tests: devices with prekey stores, bundles as the relay would
// hand them out, and a seeded PRNG. Not a test file itself.
import { toBase64url } from '../../../shared/encoding/base64url.js';
import type { PrekeyBundle } from '../../../shared/protocol/keys.js';
import {
  acceptPrekeyMessage,
  buildKeysUpload,
  decryptMessage,
  encryptMessage,
  generateIdentityKeyPair,
  generateKyberPrekeys,
  generateOneTimePrekeys,
  generateSignedPrekey,
  initiateSession,
  type IdentityKeyPair,
  type KyberPrekeyRecord,
  type OneTimePrekeyRecord,
  type ResponderKeys,
  type SessionState,
  type SignedPrekeyRecord,
} from './index.js';

export interface Device {
  name: string;
  identity: IdentityKeyPair;
  signed: SignedPrekeyRecord;
  oneTime: Map<number, OneTimePrekeyRecord>;
  kyber: Map<number, KyberPrekeyRecord>;
  keys: ResponderKeys;
  /** a bundle as the relay hands it out; removes the handed-out one-time keys from the relay's pool */
  bundle(options?: { oneTime?: boolean; kyberOneTime?: boolean }): PrekeyBundle;
  /** what the app does after acceptPrekeyMessage: delete consumed one-time keys */
  consume(consumed: { oneTimePrekeyId: number | null; kyberPrekeyId: number | null }): void;
}

export function makeDevice(name: string, oneTimeCount = 3, kyberOneTimeCount = 2): Device {
  const identity = generateIdentityKeyPair();
  const signed = generateSignedPrekey(identity, 7, 1_700_000_000_000);
  const oneTimeList = generateOneTimePrekeys(100, oneTimeCount);
  const [lastResort] = generateKyberPrekeys(identity, 1, 1, true);
  if (!lastResort) throw new Error('no last-resort key');
  const kyberOneTime = generateKyberPrekeys(identity, 2, kyberOneTimeCount, false);
  const oneTime = new Map(oneTimeList.map((k) => [k.id, k]));
  const kyber = new Map([lastResort, ...kyberOneTime].map((k) => [k.id, k]));
  const upload = buildKeysUpload(identity, signed, lastResort, oneTimeList, kyberOneTime);
  const relayOneTime = [...upload.oneTimePrekeys];
  const relayKyber = [...upload.kyberOneTimePrekeys];
  return {
    name,
    identity,
    signed,
    oneTime,
    kyber,
    keys: {
      identity,
      signedPrekey: (id) => (id === signed.id ? signed : undefined),
      oneTimePrekey: (id) => oneTime.get(id),
      kyberPrekey: (id) => kyber.get(id),
    },
    bundle(options = {}) {
      const useOneTime = options.oneTime ?? true;
      const useKyberOneTime = options.kyberOneTime ?? true;
      const otk = useOneTime ? relayOneTime.shift() : undefined;
      const kyberOt = useKyberOneTime ? relayKyber.shift() : undefined;
      return {
        username: name,
        deviceId: 1,
        identityKey: upload.identityKey,
        signedPrekey: upload.signedPrekey,
        kyberPrekey: kyberOt ? { ...kyberOt, lastResort: false } : { ...upload.kyberLastResort, lastResort: true },
        ...(otk ? { oneTimePrekey: otk } : {}),
      };
    },
    consume(consumed) {
      if (consumed.oneTimePrekeyId !== null) oneTime.delete(consumed.oneTimePrekeyId);
      if (consumed.kyberPrekeyId !== null) kyber.delete(consumed.kyberPrekeyId);
    },
  };
}

export const text = (s: string) => new TextEncoder().encode(s);
export const str = (b: Uint8Array) => new TextDecoder().decode(b);
export const b64 = toBase64url;

/** Alice opens a session with Bob, Bob accepts Alice's first message, Bob replies, Alice reads it. */
export function establish(alice: Device, bob: Device, now = 1_000): { a: SessionState; b: SessionState } {
  const first = encrypt(initiateSession(alice.identity, bob.bundle(), now), 'hello bob', now);
  const accepted = acceptPrekeyMessage(bob.keys, first.ciphertext, now);
  bob.consume(accepted.consumed);
  const reply = encrypt(accepted.session, 'hello alice', now);
  const a = decrypt(first.session, reply.ciphertext, now);
  if (str(a.plaintext) !== 'hello alice' || str(accepted.plaintext) !== 'hello bob') throw new Error('handshake failed');
  return { a: a.session, b: reply.session };
}

export function encrypt(session: SessionState, message: string, now = 1_000) {
  return encryptMessage(session, text(message), now);
}

export function decrypt(session: SessionState, ciphertext: Uint8Array, now = 1_000) {
  return decryptMessage(session, ciphertext, now);
}

/** mulberry32: a small deterministic PRNG so randomised tests replay exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
