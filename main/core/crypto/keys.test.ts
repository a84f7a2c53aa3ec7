// Key material: generation, prekey signatures, the upload / bundle schemas, bundle
// verification, and the versioned serialisation of every record.
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../../shared/encoding/base64url.js';
import { DeviceKeysUploadSchema, PrekeyBundleSchema, type PrekeyBundle } from '../../../shared/protocol/keys.js';
import {
  buildKeysUpload,
  CryptoError,
  deserializeIdentity,
  deserializeKyberPrekey,
  deserializeOneTimePrekey,
  deserializeSignedPrekey,
  generateIdentityKeyPair,
  generateKyberPrekeys,
  generateOneTimePrekeys,
  generateSignedPrekey,
  initCrypto,
  initiateSession,
  prekeySignatureMessage,
  serializeIdentity,
  serializeKyberPrekey,
  serializeOneTimePrekey,
  serializeSignedPrekey,
  signWithIdentity,
  verifyBundle,
  type CryptoErrorCode,
} from './index.js';
import sodium from 'libsodium-wrappers-sumo';
import { makeDevice } from './test-support.js';

beforeAll(async () => {
  await initCrypto();
  await initCrypto(); // idempotent
});

function codeOf(fn: () => unknown): CryptoErrorCode | 'NO_ERROR' | 'NOT_A_CRYPTO_ERROR' {
  try {
    fn();
    return 'NO_ERROR';
  } catch (error) {
    return error instanceof CryptoError ? error.code : 'NOT_A_CRYPTO_ERROR';
  }
}

/** flips one bit of a base64url field */
function flip(text: string, index = 3): string {
  const bytes = fromBase64url(text).slice();
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return toBase64url(bytes);
}

describe('key generation', () => {
  it('makes keys of the documented sizes, with signatures that verify over the domain-separated context', () => {
    const identity = generateIdentityKeyPair();
    expect(identity.publicKey.length).toBe(32);
    expect(identity.privateKey.length).toBe(64);
    const signed = generateSignedPrekey(identity, 9, 123);
    expect([signed.id, signed.publicKey.length, signed.privateKey.length, signed.signature.length, signed.createdAt]).toEqual([9, 32, 32, 64, 123]);
    expect(sodium.crypto_sign_verify_detached(signed.signature, prekeySignatureMessage('x25519', 9, signed.publicKey), identity.publicKey)).toBe(true);
    // not a signature over the bare key (Signal's encoding) nor over another id
    expect(sodium.crypto_sign_verify_detached(signed.signature, signed.publicKey, identity.publicKey)).toBe(false);
    expect(sodium.crypto_sign_verify_detached(signed.signature, prekeySignatureMessage('x25519', 10, signed.publicKey), identity.publicKey)).toBe(false);

    const oneTime = generateOneTimePrekeys(4_294_967_290, 6);
    expect(oneTime.map((k) => k.id)).toEqual([4_294_967_290, 4_294_967_291, 4_294_967_292, 4_294_967_293, 4_294_967_294, 4_294_967_295]);
    expect(new Set(oneTime.map((k) => toBase64url(k.publicKey))).size).toBe(6);
    expect(codeOf(() => generateOneTimePrekeys(4_294_967_295, 2))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => generateOneTimePrekeys(-1, 1))).toBe('INVALID_ARGUMENT');

    const kyber = generateKyberPrekeys(identity, 50, 2, false);
    expect(kyber.map((k) => [k.id, k.publicKey.length, k.privateKey.length, k.signature.length, k.lastResort])).toEqual([
      [50, 1184, 2400, 64, false],
      [51, 1184, 2400, 64, false],
    ]);
    const [first] = kyber;
    expect(first && sodium.crypto_sign_verify_detached(first.signature, prekeySignatureMessage('mlkem768', 50, first.publicKey), identity.publicKey)).toBe(true);
    // the two prekey kinds sign different contexts
    expect(first && sodium.crypto_sign_verify_detached(first.signature, prekeySignatureMessage('x25519', 50, first.publicKey), identity.publicKey)).toBe(false);
  });

  it('signWithIdentity signs relay challenges but refuses the prekey-signature context', () => {
    const identity = generateIdentityKeyPair();
    const challenge = new TextEncoder().encode('Refuge relay auth v1\u0000 challenge');
    const signature = signWithIdentity(identity, challenge);
    expect(sodium.crypto_sign_verify_detached(signature, challenge, identity.publicKey)).toBe(true);
    const signed = generateSignedPrekey(identity, 1, 0);
    expect(codeOf(() => signWithIdentity(identity, prekeySignatureMessage('x25519', 1, signed.publicKey)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => signWithIdentity(identity, new TextEncoder().encode('Refuge_PrekeySig_anything')))).toBe('INVALID_ARGUMENT');
  });
});

describe('upload and bundle', () => {
  it('buildKeysUpload produces what DeviceKeysUploadSchema accepts, and checks its inputs', () => {
    const identity = generateIdentityKeyPair();
    const signed = generateSignedPrekey(identity, 1, 0);
    const [lastResort] = generateKyberPrekeys(identity, 1, 1, true);
    const kyberOneTime = generateKyberPrekeys(identity, 2, 3, false);
    const oneTime = generateOneTimePrekeys(1, 5);
    if (!lastResort) throw new Error('no key');
    const upload = buildKeysUpload(identity, signed, lastResort, oneTime, kyberOneTime);
    expect(DeviceKeysUploadSchema.parse(upload)).toEqual(upload);
    expect(upload.identityKey).toBe(toBase64url(identity.publicKey));
    expect(upload.oneTimePrekeys.map((k) => k.id)).toEqual([1, 2, 3, 4, 5]);
    expect(upload.kyberOneTimePrekeys.map((k) => k.id)).toEqual([2, 3, 4]);
    expect(upload).not.toHaveProperty('signedPrekey.privateKey');
    expect(JSON.stringify(upload)).not.toContain(toBase64url(signed.privateKey));
    expect(codeOf(() => buildKeysUpload(identity, signed, kyberOneTime[0] ?? lastResort, oneTime, []))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => buildKeysUpload(identity, signed, lastResort, oneTime, [lastResort]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => buildKeysUpload(identity, signed, lastResort, generateOneTimePrekeys(1, 201), []))).toBe('INVALID_ARGUMENT');
  });

  it('verifyBundle accepts a genuine bundle (with and without a one-time prekey)', () => {
    const bob = makeDevice('bob');
    const withOneTime = bob.bundle();
    expect(PrekeyBundleSchema.parse(withOneTime)).toEqual(withOneTime);
    expect(() => verifyBundle(withOneTime)).not.toThrow();
    const without = bob.bundle({ oneTime: false, kyberOneTime: false });
    expect(without.oneTimePrekey).toBeUndefined();
    expect(without.kyberPrekey.lastResort).toBe(true);
    expect(() => verifyBundle(without)).not.toThrow();
  });

  it('refuses tampered signatures and keys (BAD_SIGNATURE) and malformed keys (BAD_KEY); initiateSession too', () => {
    const alice = generateIdentityKeyPair();
    const bob = makeDevice('bob');
    const good = bob.bundle();
    const mallory = generateIdentityKeyPair();
    const cases: [string, PrekeyBundle, CryptoErrorCode][] = [
      ['signed prekey signature', { ...good, signedPrekey: { ...good.signedPrekey, signature: flip(good.signedPrekey.signature) } }, 'BAD_SIGNATURE'],
      ['signed prekey', { ...good, signedPrekey: { ...good.signedPrekey, publicKey: flip(good.signedPrekey.publicKey) } }, 'BAD_SIGNATURE'],
      ['signed prekey id', { ...good, signedPrekey: { ...good.signedPrekey, id: good.signedPrekey.id + 1 } }, 'BAD_SIGNATURE'],
      ['kyber signature', { ...good, kyberPrekey: { ...good.kyberPrekey, signature: flip(good.kyberPrekey.signature) } }, 'BAD_SIGNATURE'],
      ['kyber key', { ...good, kyberPrekey: { ...good.kyberPrekey, publicKey: flip(good.kyberPrekey.publicKey, 600) } }, 'BAD_SIGNATURE'],
      ['kyber id', { ...good, kyberPrekey: { ...good.kyberPrekey, id: good.kyberPrekey.id + 1 } }, 'BAD_SIGNATURE'],
      ['identity swapped for another', { ...good, identityKey: toBase64url(mallory.publicKey) }, 'BAD_SIGNATURE'],
      [
        'kyber signature by the signed-prekey context',
        {
          ...good,
          kyberPrekey: {
            ...good.kyberPrekey,
            signature: toBase64url(sodium.crypto_sign_detached(prekeySignatureMessage('x25519', good.kyberPrekey.id, fromBase64url(good.kyberPrekey.publicKey)), bob.identity.privateKey)),
          },
        },
        'BAD_SIGNATURE',
      ],
      ['short identity', { ...good, identityKey: good.identityKey.slice(0, 20) }, 'BAD_KEY'],
      ['not base64url', { ...good, signedPrekey: { ...good.signedPrekey, publicKey: '!!!!' } }, 'BAD_KEY'],
      ['short kyber key', { ...good, kyberPrekey: { ...good.kyberPrekey, publicKey: toBase64url(new Uint8Array(1000)) } }, 'BAD_KEY'],
      ['identity not on the curve', { ...good, identityKey: toBase64url(new Uint8Array(32).fill(0xff)) }, 'BAD_KEY'],
    ];
    for (const [name, bundle, code] of cases) {
      expect([name, codeOf(() => verifyBundle(bundle))]).toEqual([name, code]);
      expect([name, codeOf(() => initiateSession(alice, bundle, 0))]).toEqual([name, code]);
    }
    expect(codeOf(() => verifyBundle(good))).toBe('NO_ERROR');
  });
});

describe('serialisation of key material', () => {
  it('round-trips every record type', () => {
    const id = generateIdentityKeyPair();
    expect(deserializeIdentity(serializeIdentity(id))).toEqual(id);
    const signed = generateSignedPrekey(id, 77, 1_712_345_678_901);
    expect(deserializeSignedPrekey(serializeSignedPrekey(signed))).toEqual(signed);
    const [oneTime] = generateOneTimePrekeys(0xffffffff, 1);
    if (!oneTime) throw new Error('no key');
    expect(deserializeOneTimePrekey(serializeOneTimePrekey(oneTime))).toEqual(oneTime);
    for (const lastResort of [true, false]) {
      const [kyber] = generateKyberPrekeys(id, 3, 1, lastResort);
      if (!kyber) throw new Error('no key');
      expect(deserializeKyberPrekey(serializeKyberPrekey(kyber))).toEqual(kyber);
    }
  });

  it('refuses unknown versions (BAD_VERSION), other record types, truncation, trailing bytes and mismatched pairs', () => {
    const id = generateIdentityKeyPair();
    const [kyber] = generateKyberPrekeys(id, 3, 1, false);
    const [oneTime] = generateOneTimePrekeys(1, 1);
    if (!kyber || !oneTime) throw new Error('no key');
    const records: [string, Uint8Array, (b: Uint8Array) => unknown][] = [
      ['identity', serializeIdentity(id), deserializeIdentity],
      ['signed', serializeSignedPrekey(generateSignedPrekey(id, 1, 5)), deserializeSignedPrekey],
      ['one-time', serializeOneTimePrekey(oneTime), deserializeOneTimePrekey],
      ['kyber', serializeKyberPrekey(kyber), deserializeKyberPrekey],
    ];
    for (const [name, bytes, read] of records) {
      const future = bytes.slice();
      future[0] = 2;
      expect([name, codeOf(() => read(future))]).toEqual([name, 'BAD_VERSION']);
      const zero = bytes.slice();
      zero[0] = 0;
      expect([name, codeOf(() => read(zero))]).toEqual([name, 'BAD_VERSION']);
      expect([name, codeOf(() => read(bytes.subarray(0, bytes.length - 1)))]).toEqual([name, 'MALFORMED']);
      expect([name, codeOf(() => read(new Uint8Array([...bytes, 0])))]).toEqual([name, 'MALFORMED']);
      expect([name, codeOf(() => read(new Uint8Array(0)))]).toEqual([name, 'MALFORMED']);
      expect([name, codeOf(() => read(new Uint8Array([1])))]).toEqual([name, 'MALFORMED']);
      for (const [other, otherBytes] of records) {
        if (other !== name) expect([name, other, codeOf(() => read(otherBytes))]).toEqual([name, other, 'MALFORMED']);
      }
    }
    // a private key that does not belong to the public key
    const identityBytes = serializeIdentity(id);
    identityBytes[40] = (identityBytes[40] ?? 0) ^ 1;
    expect(codeOf(() => deserializeIdentity(identityBytes))).toBe('BAD_KEY');
    const oneTimeBytes = serializeOneTimePrekey(oneTime);
    oneTimeBytes[10] = (oneTimeBytes[10] ?? 0) ^ 1;
    expect(codeOf(() => deserializeOneTimePrekey(oneTimeBytes))).toBe('BAD_KEY');
    const kyberBytes = serializeKyberPrekey(kyber);
    kyberBytes[20] = (kyberBytes[20] ?? 0) ^ 1;
    expect(codeOf(() => deserializeKyberPrekey(kyberBytes))).toBe('BAD_KEY');
    const kyberFlag = serializeKyberPrekey(kyber);
    kyberFlag[6] = 7;
    expect(codeOf(() => deserializeKyberPrekey(kyberFlag))).toBe('MALFORMED');
  });
});
