// Sessions: PQXDH set-up, prekey consumption, the Double Ratchet's bounds, forward secrecy,
// post-compromise security, atomic (byte-for-byte unchanged) failure, and serialisation.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  acceptPrekeyMessage,
  CryptoError,
  decryptMessage,
  deserializeSession,
  initCrypto,
  initiateSession,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  messageKind,
  prekeyMessageInfo,
  serializeSession,
  sessionInfo,
  SKIPPED_KEY_TTL_MS,
  type CryptoErrorCode,
  type SessionState,
} from './index.js';
import { decrypt, encrypt, establish, makeDevice, str, text, type Device } from './test-support.js';

beforeAll(async () => {
  await initCrypto();
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function codeOf(fn: () => unknown): CryptoErrorCode | 'NO_ERROR' | 'NOT_A_CRYPTO_ERROR' {
  try {
    fn();
    return 'NO_ERROR';
  } catch (error) {
    if (!(error instanceof CryptoError)) return 'NOT_A_CRYPTO_ERROR';
    // no error message may carry key material: fixed English text only
    expect(error.message).not.toMatch(/[0-9a-f]{16,}|[A-Za-z0-9_-]{40,}/);
    return error.code;
  }
}

/** Runs a decrypt that must fail; asserts the session is byte-for-byte unchanged. */
function expectRejected(session: SessionState, ciphertext: Uint8Array, now = 1_000): CryptoErrorCode | 'NO_ERROR' | 'NOT_A_CRYPTO_ERROR' {
  const before = hex(serializeSession(session));
  const code = codeOf(() => decryptMessage(session, ciphertext, now));
  expect(hex(serializeSession(session))).toBe(before);
  return code;
}

/** Alice sends `count` messages on her current chain. */
function burst(session: SessionState, count: number, label = 'm'): { session: SessionState; messages: Uint8Array[] } {
  const messages: Uint8Array[] = [];
  let s = session;
  for (let i = 0; i < count; i++) {
    const out = encrypt(s, `${label}${i}`);
    s = out.session;
    messages.push(out.ciphertext);
  }
  return { session: s, messages };
}

describe('session set-up (PQXDH)', () => {
  it('lets Alice send prekey messages until Bob replies, then ratchet messages', () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const bundle = bob.bundle();
    let a = initiateSession(alice.identity, bundle, 1_000);
    expect(sessionInfo(a)).toEqual({ remoteIdentityKey: bob.identity.publicKey, localIdentityKey: alice.identity.publicKey, pendingPrekey: true });

    const first = encrypt(a, 'one');
    const second = encrypt(first.session, 'two');
    a = second.session;
    for (const m of [first.ciphertext, second.ciphertext]) {
      expect(messageKind(m)).toBe('prekey');
      expect(prekeyMessageInfo(m)).toEqual({
        senderIdentityKey: alice.identity.publicKey,
        baseKey: expect.any(Uint8Array),
        signedPrekeyId: bundle.signedPrekey.id,
        oneTimePrekeyId: bundle.oneTimePrekey?.id,
        kyberPrekeyId: bundle.kyberPrekey.id,
      });
    }
    expect(hex(prekeyMessageInfo(first.ciphertext).baseKey)).toBe(hex(prekeyMessageInfo(second.ciphertext).baseKey));

    // Bob gets the second one first: it sets the session up; the first is a prekey message of this session.
    const accepted = acceptPrekeyMessage(bob.keys, second.ciphertext, 1_000);
    expect(str(accepted.plaintext)).toBe('two');
    expect(accepted.consumed).toEqual({ oneTimePrekeyId: bundle.oneTimePrekey?.id, kyberPrekeyId: bundle.kyberPrekey.id });
    expect(sessionInfo(accepted.session)).toEqual({ remoteIdentityKey: alice.identity.publicKey, localIdentityKey: bob.identity.publicKey, pendingPrekey: false });
    bob.consume(accepted.consumed);
    const firstAtBob = decrypt(accepted.session, first.ciphertext);
    expect(str(firstAtBob.plaintext)).toBe('one');

    const reply = encrypt(firstAtBob.session, 'three');
    expect(messageKind(reply.ciphertext)).toBe('ratchet');
    const atAlice = decrypt(a, reply.ciphertext);
    expect(str(atAlice.plaintext)).toBe('three');
    expect(sessionInfo(atAlice.session).pendingPrekey).toBe(false);
    const next = encrypt(atAlice.session, 'four');
    expect(messageKind(next.ciphertext)).toBe('ratchet');
    expect(str(decrypt(reply.session, next.ciphertext).plaintext)).toBe('four');
  });

  it('works without a one-time prekey and with the last-resort ML-KEM key (consumed: null), which stays usable', () => {
    const bob = makeDevice('bob', 0, 0);
    for (const name of ['alice', 'carol']) {
      const sender = makeDevice(name);
      const bundle = bob.bundle();
      expect(bundle.oneTimePrekey).toBeUndefined();
      expect(bundle.kyberPrekey.lastResort).toBe(true);
      const first = encrypt(initiateSession(sender.identity, bundle, 0), `from ${name}`);
      expect(prekeyMessageInfo(first.ciphertext).oneTimePrekeyId).toBeNull();
      const accepted = acceptPrekeyMessage(bob.keys, first.ciphertext, 0);
      expect(str(accepted.plaintext)).toBe(`from ${name}`);
      expect(accepted.consumed).toEqual({ oneTimePrekeyId: null, kyberPrekeyId: null });
      bob.consume(accepted.consumed);
    }
  });

  it('uses each one-time prekey (X25519 and ML-KEM) at most once', () => {
    const bob = makeDevice('bob', 2, 2);
    const bundle = bob.bundle(); // one-time X25519 id 100 + one-time ML-KEM id 2
    const alice = makeDevice('alice');
    const first = encrypt(initiateSession(alice.identity, bundle, 0), 'first');
    const accepted = acceptPrekeyMessage(bob.keys, first.ciphertext, 0);
    expect(accepted.consumed).toEqual({ oneTimePrekeyId: 100, kyberPrekeyId: 2 });
    bob.consume(accepted.consumed);

    // a replay of the same prekey message, and a new session from the same (re-served) bundle
    expect(codeOf(() => acceptPrekeyMessage(bob.keys, first.ciphertext, 0))).toBe('UNKNOWN_PREKEY');
    const mallory = makeDevice('mallory');
    const again = encrypt(initiateSession(mallory.identity, bundle, 0), 'again');
    expect(codeOf(() => acceptPrekeyMessage(bob.keys, again.ciphertext, 0))).toBe('UNKNOWN_PREKEY');

    // only the ML-KEM one-time key reused (fresh X25519 one-time key): still refused
    const next = bob.bundle(); // one-time 101, kyber 3
    const mixed = { ...next, kyberPrekey: bundle.kyberPrekey };
    const third = encrypt(initiateSession(mallory.identity, mixed, 0), 'mixed');
    expect(codeOf(() => acceptPrekeyMessage(bob.keys, third.ciphertext, 0))).toBe('UNKNOWN_PREKEY');
    // only the X25519 one-time key reused: refused as well
    const fourth = encrypt(initiateSession(mallory.identity, { ...next, oneTimePrekey: bundle.oneTimePrekey }, 0), 'mixed');
    expect(codeOf(() => acceptPrekeyMessage(bob.keys, fourth.ciphertext, 0))).toBe('UNKNOWN_PREKEY');
    // the untouched bundle works
    const fifth = encrypt(initiateSession(mallory.identity, next, 0), 'fine');
    expect(str(acceptPrekeyMessage(bob.keys, fifth.ciphertext, 0).plaintext)).toBe('fine');
  });

  it('fails set-up on a tampered ML-KEM ciphertext, base key, identity or prekey id, consuming nothing', () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const first = encrypt(initiateSession(alice.identity, bob.bundle(), 0), 'hi');
    const offsets: [string, number][] = [
      ['ML-KEM ciphertext start', 79],
      ['ML-KEM ciphertext middle', 600],
      ['ML-KEM ciphertext end', 1166],
      ['base key', 40],
      ['sender identity', 10],
      ['signed prekey id', 69],
      ['kyber prekey id', 73],
      ['one-time prekey id', 78],
      ['ratchet key', 1170],
      ['counter', 1205],
      ['nonce', 1220],
      ['body', first.ciphertext.length - 3],
    ];
    for (const [name, offset] of offsets) {
      const tampered = first.ciphertext.slice();
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x04;
      const code = codeOf(() => acceptPrekeyMessage(bob.keys, tampered, 0));
      expect([name, ['DECRYPT_FAILED', 'UNKNOWN_PREKEY', 'BAD_KEY', 'TOO_MANY_SKIPPED'].includes(code)]).toEqual([name, true]);
    }
    const kemOnly = first.ciphertext.slice();
    kemOnly[900] = (kemOnly[900] ?? 0) ^ 0x80;
    expect(codeOf(() => acceptPrekeyMessage(bob.keys, kemOnly, 0))).toBe('DECRYPT_FAILED');
    for (let n = 0; n < first.ciphertext.length; n += 97) {
      expect(['MALFORMED', 'BAD_VERSION'].includes(codeOf(() => acceptPrekeyMessage(bob.keys, first.ciphertext.subarray(0, n), 0)))).toBe(true);
    }
    // nothing was consumed: the genuine message still sets the session up
    expect(bob.oneTime.size).toBe(3);
    expect(str(acceptPrekeyMessage(bob.keys, first.ciphertext, 0).plaintext)).toBe('hi');
  });

  it('refuses a prekey message naming a signed prekey the responder no longer has', () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const first = encrypt(initiateSession(alice.identity, bob.bundle(), 0), 'hi');
    expect(codeOf(() => acceptPrekeyMessage({ ...bob.keys, signedPrekey: () => undefined }, first.ciphertext, 0))).toBe('UNKNOWN_PREKEY');
    expect(codeOf(() => acceptPrekeyMessage({ ...bob.keys, kyberPrekey: () => undefined }, first.ciphertext, 0))).toBe('UNKNOWN_PREKEY');
    // a ratchet message is not a prekey message
    const { a } = establish(makeDevice('carol'), makeDevice('dave'));
    expect(codeOf(() => acceptPrekeyMessage(bob.keys, encrypt(a, 'x').ciphertext, 0))).toBe('MALFORMED');
    // a prekey message for somebody else does not decrypt
    const carol = makeDevice('carol');
    expect(codeOf(() => acceptPrekeyMessage(carol.keys, first.ciphertext, 0))).not.toBe('NO_ERROR');
  });
});

describe('the Double Ratchet', () => {
  it('delivers out of order within MAX_SKIP and refuses beyond it without corrupting the session', () => {
    const { a, b } = establish(makeDevice('alice'), makeDevice('bob'));
    const { session: a2, messages } = burst(a, MAX_SKIP + 2);
    const last = messages[MAX_SKIP + 1] as Uint8Array;
    expect(expectRejected(b, last)).toBe('TOO_MANY_SKIPPED');
    let bob = decrypt(b, messages[0] as Uint8Array).session;
    const accepted = decrypt(bob, last); // now exactly MAX_SKIP keys are skipped
    expect(str(accepted.plaintext)).toBe(`m${MAX_SKIP + 1}`);
    bob = accepted.session;
    expect(bob.skipped.size).toBe(MAX_SKIP);
    for (const i of [500, 1, MAX_SKIP, 2]) {
      const out = decrypt(bob, messages[i] as Uint8Array);
      expect(str(out.plaintext)).toBe(`m${i}`);
      bob = out.session;
    }
    expect(bob.skipped.size).toBe(MAX_SKIP - 4);
    // and the session carries on both ways
    const reply = encrypt(bob, 'still here');
    expect(str(decrypt(a2, reply.ciphertext).plaintext)).toBe('still here');
  });

  it('refuses a new chain whose previous chain would skip more than MAX_SKIP (PN), unchanged', () => {
    const { a, b } = establish(makeDevice('alice'), makeDevice('bob'));
    const lost = burst(a, MAX_SKIP + 5); // never delivered
    const fromBob = encrypt(b, 'ping');
    const alice = decrypt(lost.session, fromBob.ciphertext).session;
    const newChain = encrypt(alice, 'on a new chain');
    expect(expectRejected(fromBob.session, newChain.ciphertext)).toBe('TOO_MANY_SKIPPED');
    // one lost message fewer would have been fine
    const { a: a3, b: b3 } = establish(makeDevice('alice'), makeDevice('bob'));
    const fewer = burst(a3, MAX_SKIP);
    const ping = encrypt(b3, 'ping');
    const alice3 = decrypt(fewer.session, ping.ciphertext).session;
    const ok = decrypt(ping.session, encrypt(alice3, 'ok').ciphertext);
    expect(str(ok.plaintext)).toBe('ok');
    expect(ok.session.skipped.size).toBe(MAX_SKIP);
  });

  it('is forward secret: a decrypted message cannot be decrypted again from any later state', () => {
    const { a, b } = establish(makeDevice('alice'), makeDevice('bob'));
    const { messages } = burst(a, 4);
    const [m0, m1, m2, m3] = messages as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    let bob = decrypt(b, m0).session;
    expect(expectRejected(bob, m0)).toBe('REPLAY');
    bob = decrypt(bob, m2).session; // m1 skipped
    bob = decrypt(bob, m1).session; // from the skipped store: its key is deleted now
    expect(expectRejected(bob, m1)).toBe('REPLAY');
    expect(expectRejected(bob, m2)).toBe('REPLAY');
    bob = decrypt(bob, m3).session;
    // after a DH ratchet step, messages of the finished chain are refused too
    const reply = encrypt(bob, 'r');
    const alice = decrypt(a, reply.ciphertext).session;
    bob = decrypt(reply.session, encrypt(alice, 'next chain').ciphertext).session;
    for (const m of messages) expect(['REPLAY', 'DECRYPT_FAILED']).toContain(expectRejected(bob, m));
  });

  it('heals after a compromise: a copy of Alice stolen at time t cannot read Bob after one full round trip', () => {
    const { a, b } = establish(makeDevice('alice'), makeDevice('bob'));
    // Alice has already used her current ratchet key, as in any running conversation.
    const warmup = encrypt(a, 'warm-up');
    let alice = warmup.session;
    let bob = decrypt(b, warmup.ciphertext).session;
    const stolen = serializeSession(alice); // the attacker's copy at time t

    // One full round trip after t: Alice -> Bob -> Alice. Alice's answer carries a ratchet key
    // generated after t, which Bob mixes into every chain he sends on from then on.
    const aliceToBob = encrypt(alice, 'round trip, out');
    alice = aliceToBob.session;
    bob = decrypt(bob, aliceToBob.ciphertext).session;
    const bobToAlice = encrypt(bob, 'round trip, back'); // still within the attacker's reach
    bob = bobToAlice.session;
    expect(str(decrypt(deserializeSession(stolen), bobToAlice.ciphertext).plaintext)).toBe('round trip, back');
    const aliceAgain = decrypt(alice, bobToAlice.ciphertext);
    expect(str(aliceAgain.plaintext)).toBe('round trip, back');
    const healing = encrypt(aliceAgain.session, 'fresh ratchet key');
    alice = healing.session;
    bob = decrypt(bob, healing.ciphertext).session;

    // Bob's messages from now on are out of the attacker's reach.
    const later1 = encrypt(bob, 'after the round trip');
    const later2 = encrypt(later1.session, 'and later');
    const attacker = deserializeSession(stolen);
    const attackerAdvanced = decrypt(attacker, bobToAlice.ciphertext).session;
    for (const state of [attacker, attackerAdvanced]) {
      for (const m of [later1.ciphertext, later2.ciphertext]) expect(expectRejected(state, m)).toBe('DECRYPT_FAILED');
    }
    const read1 = decrypt(alice, later1.ciphertext);
    expect(str(read1.plaintext)).toBe('after the round trip');
    expect(str(decrypt(read1.session, later2.ciphertext).plaintext)).toBe('and later');
  });

  it('rejects tampered and truncated messages with typed errors, leaving the session byte-for-byte unchanged', () => {
    const { a, b } = establish(makeDevice('alice'), makeDevice('bob'));
    const sent = encrypt(a, 'the real message with some length');
    const m = sent.ciphertext;
    const codes = new Set<string>();
    for (let i = 0; i < m.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const tampered = m.slice();
        tampered[i] = (tampered[i] ?? 0) ^ bit;
        const code = expectRejected(b, tampered);
        expect(code).not.toBe('NO_ERROR');
        expect(code).not.toBe('NOT_A_CRYPTO_ERROR');
        codes.add(code);
      }
    }
    for (let n = 0; n < m.length; n++) {
      const code = expectRejected(b, m.subarray(0, n));
      expect(['MALFORMED', 'BAD_VERSION', 'DECRYPT_FAILED']).toContain(code);
    }
    expect(expectRejected(b, new Uint8Array([...m, 0]))).toBe('DECRYPT_FAILED');
    expect(codes).toContain('BAD_VERSION');
    expect(codes).toContain('DECRYPT_FAILED');
    // the untouched message still decrypts afterwards
    expect(str(decrypt(b, m).plaintext)).toBe('the real message with some length');
  });

  it('rejects messages of other sessions: WRONG_SESSION for prekey messages, DECRYPT_FAILED for ratchet ones', () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const carol = makeDevice('carol');
    const { a, b } = establish(alice, bob);
    const { b: carolsBob } = establish(carol, bob);

    // Alice starts a second session (a reinstall, or both sides initiating): new base key
    const fresh = encrypt(initiateSession(alice.identity, bob.bundle(), 0), 'new session');
    expect(expectRejected(b, fresh.ciphertext)).toBe('WRONG_SESSION');
    // a prekey message from Carol to Bob is not for Bob's session with Alice
    const fromCarol = encrypt(initiateSession(carol.identity, bob.bundle(), 0), 'carol');
    expect(expectRejected(b, fromCarol.ciphertext)).toBe('WRONG_SESSION');
    // an initiator never accepts prekey messages (e.g. her own, reflected)
    const pending = initiateSession(alice.identity, bob.bundle(), 0);
    const own = encrypt(pending, 'reflected');
    expect(expectRejected(own.session, own.ciphertext)).toBe('WRONG_SESSION');
    expect(expectRejected(a, fresh.ciphertext)).toBe('WRONG_SESSION');
    // a ratchet message of Alice's session given to Bob's session with Carol
    expect(expectRejected(carolsBob, encrypt(a, 'for bob').ciphertext)).toBe('DECRYPT_FAILED');
    // and a reflected ratchet message
    const mine = encrypt(b, 'to alice');
    expect(expectRejected(mine.session, mine.ciphertext)).toBe('DECRYPT_FAILED');
  });

  it('expires skipped keys after the TTL and caps the skipped-key store (oldest evicted)', () => {
    const { a, b } = establish(makeDevice('alice'), makeDevice('bob'));
    const t0 = 10_000;
    const { session: a1, messages } = burst(a, 3);
    let bob = decryptMessage(b, messages[2] as Uint8Array, t0).session;
    expect(bob.skipped.size).toBe(2);
    expect(str(decryptMessage(bob, messages[0] as Uint8Array, t0 + SKIPPED_KEY_TTL_MS).plaintext)).toBe('m0');
    const late = t0 + SKIPPED_KEY_TTL_MS + 1;
    expect(expectRejected(bob, messages[1] as Uint8Array, late)).toBe('DECRYPT_FAILED');
    // any later successful decrypt drops expired keys from the new state
    const next = encrypt(a1, 'later');
    bob = decryptMessage(bob, next.ciphertext, late).session;
    expect(bob.skipped.size).toBe(0);
    expect(['REPLAY', 'DECRYPT_FAILED']).toContain(expectRejected(bob, messages[1] as Uint8Array, late));

    // cap: three chains with MAX_SKIP, MAX_SKIP and 10 skipped keys
    const pair = establish(makeDevice('alice'), makeDevice('bob'));
    let alice = pair.a;
    bob = pair.b;
    const firstChain: Uint8Array[] = [];
    for (const skip of [MAX_SKIP, MAX_SKIP, 10]) {
      const out = burst(alice, skip + 1);
      if (firstChain.length === 0) firstChain.push(...out.messages);
      bob = decrypt(bob, out.messages[skip] as Uint8Array).session;
      const reply = encrypt(bob, 'ack');
      bob = reply.session;
      alice = decrypt(out.session, reply.ciphertext).session;
    }
    expect(MAX_SKIP * 2 + 10).toBeGreaterThan(MAX_SKIPPED_KEYS);
    expect(bob.skipped.size).toBe(MAX_SKIPPED_KEYS);
    // the 10 oldest (first chain, n = 0..9) are gone; n = 10 is the oldest kept
    expect(['REPLAY', 'DECRYPT_FAILED']).toContain(expectRejected(bob, firstChain[9] as Uint8Array));
    expect(str(decrypt(bob, firstChain[10] as Uint8Array).plaintext)).toBe('m10');
  });

  it('never mutates its input: the old state stays usable and identical', () => {
    const { a, b } = establish(makeDevice('alice'), makeDevice('bob'));
    const aBefore = hex(serializeSession(a));
    const bBefore = hex(serializeSession(b));
    const sent = encrypt(a, 'x');
    const received = decrypt(b, sent.ciphertext);
    expect(hex(serializeSession(a))).toBe(aBefore);
    expect(hex(serializeSession(b))).toBe(bBefore);
    expect(hex(serializeSession(received.session))).not.toBe(bBefore);
    // the old state can still decrypt the same message (the caller decides which state to keep)
    expect(str(decrypt(b, sent.ciphertext).plaintext)).toBe('x');
  });
});

describe('session serialisation', () => {
  function roundTrip(s: SessionState): SessionState {
    const bytes = serializeSession(s);
    const back = deserializeSession(bytes);
    expect(hex(serializeSession(back))).toBe(hex(bytes));
    return back;
  }

  it('round-trips at every stage and the restored sessions carry on', () => {
    const alice = makeDevice('alice');
    const bob: Device = makeDevice('bob');
    let a = roundTrip(initiateSession(alice.identity, bob.bundle(), 0));
    expect(sessionInfo(a).pendingPrekey).toBe(true);
    const { session: a1, messages } = burst(a, 5);
    a = roundTrip(a1);
    const accepted = acceptPrekeyMessage(bob.keys, messages[4] as Uint8Array, 0);
    let b = roundTrip(accepted.session);
    expect(b.skipped.size).toBe(4);
    b = roundTrip(decrypt(b, messages[1] as Uint8Array).session);
    const reply = encrypt(b, 'reply');
    b = roundTrip(reply.session);
    a = roundTrip(decrypt(a, reply.ciphertext).session);
    expect(sessionInfo(a).pendingPrekey).toBe(false);
    expect(str(decrypt(b, messages[3] as Uint8Array).plaintext)).toBe('m3');
    const more = encrypt(a, 'more');
    expect(str(decrypt(b, more.ciphertext).plaintext)).toBe('more');
  });

  it('refuses unknown versions (BAD_VERSION) and garbage (MALFORMED)', () => {
    const { a } = establish(makeDevice('alice'), makeDevice('bob'));
    const bytes = serializeSession(a);
    for (const version of [0, 2, 255]) {
      const other = bytes.slice();
      other[0] = version;
      expect(codeOf(() => deserializeSession(other))).toBe('BAD_VERSION');
    }
    expect(codeOf(() => deserializeSession(new Uint8Array(0)))).toBe('MALFORMED');
    expect(codeOf(() => deserializeSession(bytes.subarray(0, bytes.length - 1)))).toBe('MALFORMED');
    expect(codeOf(() => deserializeSession(new Uint8Array([...bytes, 1])))).toBe('MALFORMED');
    const wrongTag = bytes.slice();
    wrongTag[1] = 0x49;
    expect(codeOf(() => deserializeSession(wrongTag))).toBe('MALFORMED');
    for (let n = 2; n < bytes.length; n += 13) expect(codeOf(() => deserializeSession(bytes.subarray(0, n)))).toBe('MALFORMED');
  });

  it('messageKind and prekeyMessageInfo classify and refuse garbage with typed errors', () => {
    expect(codeOf(() => messageKind(new Uint8Array(0)))).toBe('MALFORMED');
    expect(codeOf(() => messageKind(new Uint8Array([2, 1])))).toBe('BAD_VERSION');
    expect(codeOf(() => messageKind(new Uint8Array([1, 9])))).toBe('MALFORMED');
    expect(messageKind(new Uint8Array([1, 1]))).toBe('ratchet');
    expect(messageKind(new Uint8Array([1, 2]))).toBe('prekey');
    expect(codeOf(() => prekeyMessageInfo(new Uint8Array([1, 2, 3])))).toBe('MALFORMED');
    const { a } = establish(makeDevice('alice'), makeDevice('bob'));
    expect(codeOf(() => prekeyMessageInfo(encrypt(a, 'x').ciphertext))).toBe('MALFORMED');
    expect(text('x')).toHaveLength(1);
  });
});
