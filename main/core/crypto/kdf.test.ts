// KDF building blocks: RFC 5869 / RFC 4231 vectors, libsignal's published ratchet values,
// and the libsodium hot path (fast.ts) against the plain libsodium.js wrappers.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import { chainStep, fastPathActive, hmac32, open, openNextMessage, seal, sealMessage, sealNextMessage, withoutFastPath } from './fast.js';
import { deriveMessageKeys, hkdfExpand, hkdfExtract, hkdfSha256, hmacSha256, initCrypto, kdfCk, kdfRk, pqxdhKdf } from './index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
const ascii = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  await initCrypto();
});

describe('HKDF-SHA256 (RFC 5869 appendix A)', () => {
  const cases = [
    {
      name: 'test case 1',
      ikm: fill(22, 0x0b),
      salt: range(0x00, 0x0c),
      info: range(0xf0, 0xf9),
      length: 42,
      prk: '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
      okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    },
    {
      name: 'test case 2 (long inputs)',
      ikm: range(0x00, 0x4f),
      salt: range(0x60, 0xaf),
      info: range(0xb0, 0xff),
      length: 82,
      prk: '06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244',
      okm: 'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
    },
    {
      name: 'test case 3 (empty salt and info)',
      ikm: fill(22, 0x0b),
      salt: new Uint8Array(0),
      info: new Uint8Array(0),
      length: 42,
      prk: '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04',
      okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const prk = hkdfExtract(c.salt, c.ikm);
      expect(hex(prk)).toBe(c.prk);
      expect(hex(hkdfExpand(prk, c.info, c.length))).toBe(c.okm);
      expect(hex(hkdfSha256(c.ikm, c.salt, c.info, c.length))).toBe(c.okm);
    });
  }

  it('agrees with node:crypto for random inputs and lengths, and refuses impossible lengths', () => {
    for (let i = 0; i < 50; i++) {
      const ikm = randomBytes(1 + (i * 7) % 90);
      const salt = randomBytes((i * 13) % 100);
      const info = randomBytes((i * 5) % 40);
      const length = 1 + ((i * 37) % 200);
      expect(hex(hkdfSha256(ikm, salt, info, length))).toBe(Buffer.from(hkdfSync('sha256', ikm, salt, info, length)).toString('hex'));
    }
    expect(() => hkdfExpand(new Uint8Array(32), 'x', 255 * 32 + 1)).toThrow(/length/);
  });
});

describe('HMAC-SHA256 (RFC 4231 section 4)', () => {
  const cases = [
    { name: '1', key: fill(20, 0x0b), data: ascii('Hi There'), mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
    { name: '2 (short key)', key: ascii('Jefe'), data: ascii('what do ya want for nothing?'), mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' },
    { name: '3', key: fill(20, 0xaa), data: fill(50, 0xdd), mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe' },
    { name: '4', key: range(0x01, 0x19), data: fill(50, 0xcd), mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b' },
    { name: '5 (truncated to 128 bits)', key: fill(20, 0x0c), data: ascii('Test With Truncation'), mac: 'a3b6167473100ee06e0c796c2955552b' },
    {
      name: '6 (131-byte key)',
      key: fill(131, 0xaa),
      data: ascii('Test Using Larger Than Block-Size Key - Hash Key First'),
      mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    },
    {
      name: '7 (131-byte key, long data)',
      key: fill(131, 0xaa),
      data: ascii(
        'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
      ),
      mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    },
  ];
  for (const c of cases) {
    it(`test case ${c.name}`, () => {
      expect(hex(hmacSha256(c.key, c.data)).slice(0, c.mac.length)).toBe(c.mac);
    });
  }

  it('agrees with node:crypto for every key length from 0 to 200 bytes', () => {
    for (let n = 0; n <= 200; n++) {
      const key = randomBytes(n);
      const data = randomBytes(n % 97);
      expect(hex(hmacSha256(key, data))).toBe(createHmac('sha256', key).update(data).digest('hex'));
    }
  });
});

describe("libsignal's published ratchet values", () => {
  it('rust/protocol/src/ratchet/keys.rs test_chain_key_derivation', () => {
    const seed = unhex('8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f');
    const step = kdfCk(seed);
    const messageKeys = deriveMessageKeys(step.messageKeySeed, 'WhisperMessageKeys', 80);
    expect(hex(messageKeys.subarray(0, 32))).toBe('bf51e9d75e0e31031051f82a2491ffc084fa298b7793bd9db620056febf45217'); // cipher key
    expect(hex(messageKeys.subarray(32, 64))).toBe('c6c77d6a73a354337a56435e34607dfe48e3ace14e77314dc6abc172e7a7030b'); // MAC key
    expect(hex(step.chainKey)).toBe('28e8f8fee54b801eef7c5cfb2f17f32c7b334485bbb70fac6ec10342a246d15d'); // next chain key
    // the general (non-32-byte) path gives the same bytes
    expect(hex(hmacSha256(seed, Uint8Array.of(2)))).toBe(hex(step.chainKey));
  });

  // rust/protocol/tests/ratchet.rs: libsignal keys carry a 0x05 type byte; X25519 is libsodium's.
  const pub = (h: string) => unhex(h).subarray(1);
  const dh = (priv: string, pubKey: string) => sodium.crypto_scalarmult(unhex(priv), pub(pubKey));
  const F = new Uint8Array(32).fill(0xff);

  it('rust/protocol/tests/ratchet.rs test_ratcheting_session_as_bob: sender chain key', () => {
    const bobIdentityPrivate = '4875cc69ddf8ea0719ec947d61081135868d5fd801f02c0225e516df2156605e';
    const bobSignedPrekeyPrivate = '583900131fb727998b7803fe6ac22cc591f342e4e42a8c8d5d78194209b8d253';
    const aliceIdentityPublic = '05b4a8455660ada65b401007f615e654041746432e3339c6875149bceefcb42b4a';
    const aliceBasePublic = '05472d1fb1a9862c3af6beaca8920277e2b26f4a79213ec7c906aeb35e03cf8950';
    const dhs = [dh(bobSignedPrekeyPrivate, aliceIdentityPublic), dh(bobIdentityPrivate, aliceBasePublic), dh(bobSignedPrekeyPrivate, aliceBasePublic)];
    const expectedSenderChain = '9797caca53c989bbe229a40ca7727010eb2604fc14945d77958a0aeda088b44d';
    // our PQXDH KDF (F prefix, zero salt) with libsignal's X3DH label and no KEM secret
    expect(hex(pqxdhKdf(dhs, null, 'WhisperText', 64).subarray(32))).toBe(expectedSenderChain);
    // the same value through KDF_RK with an all-zero root key (HKDF's default salt)
    const viaRoot = kdfRk(new Uint8Array(32), new Uint8Array(Buffer.concat([F, ...dhs])), 'WhisperText');
    expect(hex(viaRoot.chainKey)).toBe(expectedSenderChain);
  });

  it('rust/protocol/tests/ratchet.rs test_ratcheting_session_as_alice: receiver chain key', () => {
    const aliceIdentityPrivate = '9040f0d4e09cf38f6dc7c13779c908c015a1da4fa78737a080eb0a6f4f5f8f58';
    const aliceBasePrivate = '11ae7c64d1e61cd596b76a0db5012673391cae66edbfcf073b4da80516a47449';
    const bobIdentityPublic = '05f1f43874f6966956c2dd473f8fa15adeb71d1cb991b2341692324cefb1c5e626';
    const bobSignedPrekeyPublic = '05ac248a8f263be6863576eb0362e28c828f0107a3379d34bab1586bf8c770cd67';
    const dhs = [dh(aliceIdentityPrivate, bobSignedPrekeyPublic), dh(aliceBasePrivate, bobIdentityPublic), dh(aliceBasePrivate, bobSignedPrekeyPublic)];
    expect(hex(pqxdhKdf(dhs, null, 'WhisperText', 64).subarray(32))).toBe('ab9be50e5cb22a925446ab90ee5670545f4fd32902459ec274b6ad0ae5d6031a');
  });

  it('KDF_RK is HKDF(salt = root key, ikm = DH output, info) split 32/32, with our label by default', () => {
    const root = randomBytes(32);
    const dhOut = randomBytes(32);
    const okm = hkdfSync('sha256', dhOut, root, 'Refuge_Ratchet', 64);
    const step = kdfRk(root, dhOut);
    expect(hex(step.rootKey)).toBe(Buffer.from(okm).subarray(0, 32).toString('hex'));
    expect(hex(step.chainKey)).toBe(Buffer.from(okm).subarray(32).toString('hex'));
    expect(hex(kdfRk(root, dhOut, 'WhisperRatchet').rootKey)).not.toBe(hex(step.rootKey));
  });

  it("the ratchet's message key is KDF_CK's HMAC(ck, 0x01), used as the AEAD key as it is", () => {
    const ck = randomBytes(32);
    const step = chainStep(ck);
    expect(hex(step.messageKey)).toBe(createHmac('sha256', ck).update(Uint8Array.of(1)).digest('hex'));
    expect(hex(step.chainKey)).toBe(createHmac('sha256', ck).update(Uint8Array.of(2)).digest('hex'));
    expect(hex(step.messageKey)).toBe(hex(kdfCk(ck).messageKeySeed));
  });
});

describe('the libsodium hot path (fast.ts)', () => {
  it('is active in this build', () => {
    expect(fastPathActive()).toBe(true);
  });

  it('gives the same HMACs, chain steps and AEAD results as the libsodium.js wrappers', () => {
    for (let i = 0; i < 40; i++) {
      const key = randomBytes(32);
      const data = randomBytes(i * 3);
      expect(hex(hmac32(key, data))).toBe(hex(sodium.crypto_auth_hmacsha256(data, key)));
      const step = chainStep(key);
      expect(hex(step.chainKey)).toBe(hex(sodium.crypto_auth_hmacsha256(Uint8Array.of(2), key)));
      expect(hex(step.messageKey)).toBe(hex(sodium.crypto_auth_hmacsha256(Uint8Array.of(1), key)));

      const nonce = randomBytes(24);
      const ad1 = randomBytes(64);
      const ad2 = randomBytes(i * 5);
      const plaintext = randomBytes(i * 997); // up to ~39 KB
      const out = new Uint8Array(7 + plaintext.length + 16);
      seal(key, nonce, ad1, ad2, plaintext, out, 7);
      const reference = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, Buffer.concat([ad1, ad2]), null, nonce, key);
      expect(hex(out.subarray(7))).toBe(hex(reference));
      expect(hex(open(key, nonce, ad1, ad2, reference) ?? new Uint8Array(0))).toBe(hex(plaintext));
      const tampered = reference.slice();
      tampered[i % tampered.length] = (tampered[i % tampered.length] ?? 0) ^ 1;
      expect(open(key, nonce, ad1, ad2, tampered)).toBeNull();
      // the wrapper fallback agrees too
      withoutFastPath(() => {
        expect(hex(chainStep(key).chainKey)).toBe(hex(step.chainKey));
        expect(hex(chainStep(key).messageKey)).toBe(hex(step.messageKey));
        expect(hex(hmac32(key, data))).toBe(hex(sodium.crypto_auth_hmacsha256(data, key)));
        const again = new Uint8Array(plaintext.length + 16);
        seal(key, nonce, ad1, ad2, plaintext, again, 0);
        expect(hex(again)).toBe(hex(reference));
        expect(open(key, nonce, ad1, ad2, tampered)).toBeNull();
      });
    }
  });

  it('fused send and receive steps walk the chain exactly like chainStep + seal/open, growing the scratch midway', () => {
    let sendKey: Uint8Array = randomBytes(32);
    let recvKey: Uint8Array = sendKey.slice();
    const ad = randomBytes(64);
    const prefix = Uint8Array.of(1, 1);
    for (let n = 0; n < 30; n++) {
      // the last messages outgrow the scratch area: the step's outputs must survive it moving
      const plaintext = randomBytes(n < 27 ? 200 + n : (1 << 17) * (n - 26));
      const ratchetKey = randomBytes(32);
      const nonce = randomBytes(24);
      const step = withoutFastPath(() => chainStep(sendKey));
      const header = { prefix, ratchetKey, pn: 3, n, nonce };
      const expected = withoutFastPath(() => sealMessage(step.messageKey, ad, header, plaintext));
      const sent = sealNextMessage(sendKey, ad, header, plaintext);
      expect(hex(sent.ciphertext)).toBe(hex(expected));
      expect(hex(sent.chainKey)).toBe(hex(step.chainKey));

      const wrongChain = openNextMessage(randomBytes(32), ad, sent.ciphertext, prefix.length + 64);
      expect(wrongChain.plaintext).toBeNull();
      const received = openNextMessage(recvKey, ad, sent.ciphertext, prefix.length + 64);
      expect(Buffer.from(received.plaintext ?? new Uint8Array(0)).equals(Buffer.from(plaintext))).toBe(true);
      expect(hex(received.chainKey)).toBe(hex(step.chainKey));
      sendKey = sent.chainKey;
      recvKey = received.chainKey;
    }
  });

  it('handles a plaintext larger than its initial scratch area (1 MiB)', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const plaintext = randomBytes(1 << 20);
    const out = new Uint8Array(plaintext.length + 16);
    seal(key, nonce, new Uint8Array(0), randomBytes(10), plaintext, out, 0);
    const back = open(key, nonce, new Uint8Array(0), out.subarray(0, 0), out);
    expect(back).toBeNull(); // different AD
    const ad2 = randomBytes(10);
    seal(key, nonce, new Uint8Array(0), ad2, plaintext, out, 0);
    expect(Buffer.from(open(key, nonce, new Uint8Array(0), ad2, out) ?? new Uint8Array(0)).equals(Buffer.from(plaintext))).toBe(true);
  });
});
