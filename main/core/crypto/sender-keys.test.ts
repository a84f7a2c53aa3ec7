// Sender Keys: the KDF chain against an independent HMAC (node:crypto) and pinned vectors,
// round trips, and every way a member or the relay could try to cheat: tampering, forged
// signatures, replays, chains too far ahead, another group's context.
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createSenderKey,
  CryptoError,
  deserializeSenderKey,
  groupDecrypt,
  groupEncrypt,
  initCrypto,
  kdfCk,
  MAX_SENDER_KEY_SKIP,
  MAX_SENDER_KEY_SKIPPED,
  processSenderKeyDistribution,
  senderKeyDistribution,
  senderKeyMessageInfo,
  serializeSenderKey,
  SENDER_KEY_SKIPPED_TTL_MS,
  type SenderKeyState,
} from './index.js';
import { sodium } from './sodium.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);
const CTX = text('group-1\0alice\0\0\0\0\x01');
const NOW = 1_700_000_000_000;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return 'no error';
}

/** A state with a chosen chain key, so the KDF chain can be checked against fixed values. */
function fixedState(chainKey: Uint8Array): SenderKeyState {
  const own = createSenderKey();
  return { ...own, keyId: 7, iteration: 0, chainKey };
}

/** The spec, independently: node:crypto's HMAC-SHA256. */
function referenceKeys(chainKey: Uint8Array, count: number): string[] {
  const hmac = (key: Uint8Array, data: Uint8Array) => new Uint8Array(createHmac('sha256', key).update(data).digest());
  const out: string[] = [];
  let ck = chainKey;
  for (let i = 0; i < count; i++) {
    const seed = hmac(ck, Uint8Array.of(1));
    out.push(hex(hmac(seed, new Uint8Array([...text('Refuge_SenderKey_MessageKeys'), 1]))));
    ck = hmac(ck, Uint8Array.of(2));
  }
  return out;
}

beforeAll(async () => {
  await initCrypto();
});

describe('sender-key KDF chain', () => {
  const chainKey = Uint8Array.from({ length: 32 }, (_, i) => i);

  it('matches an independent HMAC-SHA256 implementation and pinned vectors', () => {
    const expected = referenceKeys(chainKey, 3);
    // Pinned: a change to the labels or the chain breaks every stored group chain.
    expect(expected).toEqual([
      '60c929ffac9db627d2d3dfd1d9320f238dd9000c36eb063dd2fa0e004d8a56fc',
      '4267486275bc23c9f34107832079f207c6012467c121b1f48fa6822770989bd0',
      'ecdee7f15d43907c4a54a8421aa3f1cd9773e7dd7d8e5d6eeeb807b74f1581f9',
    ]);
    // The implementation under test: decrypting with the key the reference derives proves
    // the chain gives the same key at each iteration.
    let state = fixedState(chainKey);
    for (let i = 0; i < 3; i++) {
      const { state: next, ciphertext } = groupEncrypt(state, text(`m${i}`), CTX);
      const key = new Uint8Array(Buffer.from(expected[i] ?? '', 'hex'));
      const n = ciphertext.length - 64;
      const ad = new Uint8Array([0, 0, 0, CTX.length, ...CTX, ...ciphertext.subarray(0, 34)]);
      const plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext.subarray(34, n), ad, ciphertext.subarray(10, 34), key);
      expect(read(plain)).toBe(`m${i}`);
      expect(senderKeyMessageInfo(ciphertext)).toEqual({ keyId: 7, iteration: i });
      state = next;
    }
  });
});

describe('sender keys', () => {
  it('lets every member holding the distribution read, from the distribution point on', () => {
    let alice = createSenderKey();
    const early = groupEncrypt(alice, text('before bob joined'), CTX);
    alice = early.state;
    const dist = senderKeyDistribution(alice);
    let bob = processSenderKeyDistribution(dist);
    let carol = processSenderKeyDistribution(dist);
    expect(bob.signingPrivateKey).toBeNull();

    for (const words of ['hello group', '안녕하세요 여러분', 'third']) {
      const sent = groupEncrypt(alice, text(words), CTX);
      alice = sent.state;
      const b = groupDecrypt(bob, sent.ciphertext, CTX, NOW);
      const c = groupDecrypt(carol, sent.ciphertext, CTX, NOW);
      expect(read(b.plaintext)).toBe(words);
      expect(read(c.plaintext)).toBe(words);
      bob = b.state;
      carol = c.state;
    }
    // The message from before the distribution is not readable with it.
    expect(codeOf(() => groupDecrypt(processSenderKeyDistribution(dist), early.ciphertext, CTX, NOW))).toBe('REPLAY');
  });

  it('does not let a rotated chain be read with the old distribution', () => {
    const old = createSenderKey();
    const holder = processSenderKeyDistribution(senderKeyDistribution(old));
    const rotated = createSenderKey();
    expect(rotated.keyId).not.toBe(old.keyId);
    const sent = groupEncrypt(rotated, text('after the removal'), CTX);
    expect(codeOf(() => groupDecrypt(holder, sent.ciphertext, CTX, NOW))).toBe('WRONG_SESSION');
    // Even pretending the key id matched, the chain key is unrelated.
    expect(codeOf(() => groupDecrypt({ ...holder, keyId: rotated.keyId, signingPublicKey: rotated.signingPublicKey }, sent.ciphertext, CTX, NOW))).toBe(
      'DECRYPT_FAILED',
    );
  });

  it('rejects tampering anywhere, a forged signature, and another context, leaving the state unchanged', () => {
    const alice = createSenderKey();
    const bob = processSenderKeyDistribution(senderKeyDistribution(alice));
    const before = hex(serializeSenderKey(bob));
    const { ciphertext } = groupEncrypt(alice, text('pay 10 euros'), CTX);
    for (const at of [2, 6, 12, 40, ciphertext.length - 70, ciphertext.length - 1]) {
      const bad = ciphertext.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      const code = codeOf(() => groupDecrypt(bob, bad, CTX, NOW));
      expect(['BAD_SIGNATURE', 'WRONG_SESSION']).toContain(code);
    }
    expect(codeOf(() => groupDecrypt(bob, ciphertext, text('group-2\0alice\0\0\0\0\x01'), NOW))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => groupDecrypt(bob, ciphertext.subarray(0, 40), CTX, NOW))).toBe('MALFORMED');

    // Mallory holds Alice's chain key (she is a member) but not her signing key: her forgery fails.
    const mallory = { ...processSenderKeyDistribution(senderKeyDistribution(alice)), signingPrivateKey: createSenderKey().signingPrivateKey };
    const forged = groupEncrypt(mallory, text('pay 1000 euros'), CTX);
    expect(codeOf(() => groupDecrypt(bob, forged.ciphertext, CTX, NOW))).toBe('BAD_SIGNATURE');
    // Re-signed correctly but with a modified body: the AEAD still refuses it.
    const body = ciphertext.slice(0, ciphertext.length - 64);
    body[40] = (body[40] ?? 0) ^ 1;
    const resigned = new Uint8Array([
      ...body,
      ...sodium.crypto_sign_detached(
        new Uint8Array([...text('Refuge_SenderKey_Sig'), 0, 0, 0, 0, CTX.length, ...CTX, ...body]),
        alice.signingPrivateKey ?? new Uint8Array(64),
      ),
    ]);
    expect(codeOf(() => groupDecrypt(bob, resigned, CTX, NOW))).toBe('DECRYPT_FAILED');

    expect(hex(serializeSenderKey(bob))).toBe(before);
    expect(read(groupDecrypt(bob, ciphertext, CTX, NOW).plaintext)).toBe('pay 10 euros');
  });

  it('rejects replays, keeps skipped keys for out-of-order delivery, and bounds the skip', () => {
    let alice = createSenderKey();
    let bob = processSenderKeyDistribution(senderKeyDistribution(alice));
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) {
      const out = groupEncrypt(alice, text(`#${i}`), CTX);
      alice = out.state;
      sent.push(out.ciphertext);
    }
    const at = (i: number) => sent[i] ?? new Uint8Array();
    bob = groupDecrypt(bob, at(3), CTX, NOW).state;
    expect(bob.skipped.size).toBe(3);
    expect(codeOf(() => groupDecrypt(bob, at(3), CTX, NOW))).toBe('REPLAY');
    const late = groupDecrypt(bob, at(1), CTX, NOW);
    expect(read(late.plaintext)).toBe('#1');
    bob = late.state;
    expect(codeOf(() => groupDecrypt(bob, at(1), CTX, NOW))).toBe('REPLAY');
    // A kept key expires.
    expect(codeOf(() => groupDecrypt(bob, at(0), CTX, NOW + SENDER_KEY_SKIPPED_TTL_MS + 1))).toBe('DECRYPT_FAILED');
    bob = groupDecrypt(bob, at(4), CTX, NOW).state;
    expect(read(groupDecrypt(bob, at(2), CTX, NOW).plaintext)).toBe('#2');

    // Too far ahead: refused before any work is kept.
    const far = { ...alice, iteration: alice.iteration + MAX_SENDER_KEY_SKIP + 1 };
    expect(codeOf(() => groupDecrypt(bob, groupEncrypt(far, text('x'), CTX).ciphertext, CTX, NOW))).toBe('TOO_MANY_SKIPPED');
    // Exactly MAX_SENDER_KEY_SKIP ahead (the chain walked forward for real): accepted.
    let ck = alice.chainKey;
    for (let i = 0; i < MAX_SENDER_KEY_SKIP; i++) ck = kdfCk(ck).chainKey;
    const edge = { ...alice, chainKey: ck, iteration: alice.iteration + MAX_SENDER_KEY_SKIP };
    const ok = groupDecrypt(bob, groupEncrypt(edge, text('edge'), CTX).ciphertext, CTX, NOW);
    expect(read(ok.plaintext)).toBe('edge');
    expect(ok.state.skipped.size).toBeLessThanOrEqual(MAX_SENDER_KEY_SKIPPED);
  });

  it('only encrypts with our own state', () => {
    const bob = processSenderKeyDistribution(senderKeyDistribution(createSenderKey()));
    expect(codeOf(() => groupEncrypt(bob, text('x'), CTX))).toBe('INVALID_ARGUMENT');
  });

  it('serialises states with a version and refuses unknown versions and bad distributions', () => {
    let alice = createSenderKey();
    let bob = processSenderKeyDistribution(senderKeyDistribution(alice));
    const skippedOne = groupEncrypt(alice, text('a'), CTX);
    alice = skippedOne.state;
    const second = groupEncrypt(alice, text('b'), CTX);
    alice = second.state;
    bob = groupDecrypt(bob, second.ciphertext, CTX, NOW).state;

    const aliceCopy = deserializeSenderKey(serializeSenderKey(alice));
    expect(hex(serializeSenderKey(aliceCopy))).toBe(hex(serializeSenderKey(alice)));
    const bobCopy = deserializeSenderKey(serializeSenderKey(bob));
    expect(bobCopy.signingPrivateKey).toBeNull();
    expect(read(groupDecrypt(bobCopy, skippedOne.ciphertext, CTX, NOW).plaintext)).toBe('a');
    const next = groupEncrypt(aliceCopy, text('c'), CTX);
    expect(read(groupDecrypt(bobCopy, next.ciphertext, CTX, NOW).plaintext)).toBe('c');

    const record = serializeSenderKey(bob);
    expect(codeOf(() => deserializeSenderKey(new Uint8Array([9, ...record.subarray(1)])))).toBe('BAD_VERSION');
    expect(codeOf(() => deserializeSenderKey(record.subarray(0, record.length - 1)))).toBe('MALFORMED');
    expect(codeOf(() => deserializeSenderKey(new Uint8Array([...record, 0])))).toBe('MALFORMED');

    const dist = senderKeyDistribution(alice);
    expect(codeOf(() => processSenderKeyDistribution(new Uint8Array([9, ...dist.subarray(1)])))).toBe('BAD_VERSION');
    expect(codeOf(() => processSenderKeyDistribution(dist.subarray(0, 70)))).toBe('MALFORMED');
    const badPoint = dist.slice();
    badPoint.fill(0xff, 42);
    expect(codeOf(() => processSenderKeyDistribution(badPoint))).toBe('BAD_KEY');
    const message = groupEncrypt(alice, text('v'), CTX).ciphertext;
    expect(codeOf(() => groupDecrypt(bob, new Uint8Array([2, ...message.subarray(1)]), CTX, NOW))).toBe('BAD_VERSION');
  });
});
