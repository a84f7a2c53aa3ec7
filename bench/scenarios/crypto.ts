// crypto: one 200-byte message through the Double Ratchet (encrypt on one side, decrypt on the
// other, sessions already established) against the bare AEAD it is built on: libsodium's
// XChaCha20-Poly1305 encrypt + decrypt of 200 bytes. Goal: ratio ≤ 3.
import sodium from 'libsodium-wrappers-sumo';
import {
  acceptPrekeyMessage,
  buildKeysUpload,
  decryptMessage,
  deserializeSession,
  encryptMessage,
  generateIdentityKeyPair,
  generateKyberPrekeys,
  generateOneTimePrekeys,
  generateSignedPrekey,
  initCrypto,
  initiateSession,
  serializeSession,
  type SessionState,
} from '../../main/core/crypto/index.js';
import { goals } from '../lib/results.js';
import { defineScenario } from '../lib/scenario.js';
import { median, repeat } from '../lib/stats.js';

const MESSAGE_BYTES = 200;

/** Alice and Bob with an established session (one message each way, so no prekey header). */
function establish(): { alice: SessionState; bob: SessionState } {
  const now = Date.now();
  const aliceId = generateIdentityKeyPair();
  const bobId = generateIdentityKeyPair();
  const signed = generateSignedPrekey(bobId, 1, now);
  const [lastResort] = generateKyberPrekeys(bobId, 2, 1, true);
  const oneTime = generateOneTimePrekeys(3, 1);
  if (!lastResort || !oneTime[0]) throw new Error('key generation failed');
  const keys = buildKeysUpload(bobId, signed, lastResort, oneTime, []);
  const bundle = {
    username: 'bob',
    deviceId: 1,
    identityKey: keys.identityKey,
    signedPrekey: keys.signedPrekey,
    kyberPrekey: { ...keys.kyberLastResort, lastResort: true },
    oneTimePrekey: keys.oneTimePrekeys[0],
  };
  let alice = initiateSession(aliceId, bundle, now);
  const first = encryptMessage(alice, new Uint8Array(10), now);
  alice = first.session;
  const accepted = acceptPrekeyMessage(
    { identity: bobId, signedPrekey: () => signed, oneTimePrekey: () => oneTime[0], kyberPrekey: () => lastResort },
    first.ciphertext,
    now,
  );
  const reply = encryptMessage(accepted.session, new Uint8Array(10), now);
  alice = decryptMessage(alice, reply.ciphertext, now).session;
  return { alice, bob: reply.session };
}

export default defineScenario({
  name: 'crypto',
  description: 'ratchet encrypt+decrypt of a 200-byte message vs raw XChaCha20-Poly1305 encrypt+decrypt',
  async run(ctx) {
    await initCrypto();
    const messages = ctx.size(5000, 200);
    const plaintext = sodium.randombytes_buf(MESSAGE_BYTES);
    let { alice, bob } = establish();

    // Each method runs in chunks of CHUNK messages, the methods taking turns, so a burst of load
    // from elsewhere on the machine lands on all of them alike; and what is counted is this
    // process's CPU time, not wall time, so time spent waiting for a core does not count.
    const CHUNK = 100;
    const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
    const nonce = new Uint8Array(24);
    let counter = 0;
    const raw = () => {
      for (let i = 0; i < CHUNK; i++) {
        counter++;
        nonce[0] = counter & 0xff;
        nonce[1] = (counter >>> 8) & 0xff;
        const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, null, null, nonce, key);
        sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, null, nonce, key);
      }
    };
    const ratchet = () => {
      const now = Date.now();
      for (let i = 0; i < CHUNK; i++) {
        const sent = encryptMessage(alice, plaintext, now);
        alice = sent.session;
        bob = decryptMessage(bob, sent.ciphertext, now).session;
      }
    };
    // What the core does per message besides: load and store the session record on each side.
    let aliceRecord = serializeSession(alice);
    let bobRecord = serializeSession(bob);
    const persisted = () => {
      const now = Date.now();
      for (let i = 0; i < CHUNK; i++) {
        const sent = encryptMessage(deserializeSession(aliceRecord), plaintext, now);
        aliceRecord = serializeSession(sent.session);
        bobRecord = serializeSession(decryptMessage(deserializeSession(bobRecord), sent.ciphertext, now).session);
      }
    };
    // Both directions in turn: every message is a DH ratchet step (X25519 and HKDF on each side).
    let ping = establish();
    const alternating = () => {
      const now = Date.now();
      for (let i = 0; i < CHUNK / 20; i++) {
        const a = encryptMessage(ping.alice, plaintext, now);
        ping = { alice: a.session, bob: decryptMessage(ping.bob, a.ciphertext, now).session };
        const b = encryptMessage(ping.bob, plaintext, now);
        ping = { bob: b.session, alice: decryptMessage(ping.alice, b.ciphertext, now).session };
      }
    };
    const methods = { raw, ratchet, persisted, alternating };
    const perMessage = { raw: CHUNK, ratchet: CHUNK, persisted: CHUNK, alternating: CHUNK / 10 };

    const samples = await repeat(
      ctx.reps,
      () => {
        const spent = { raw: 0, ratchet: 0, persisted: 0, alternating: 0 };
        for (let round = 0; round < messages / CHUNK; round++) {
          for (const name of Object.keys(methods) as (keyof typeof methods)[]) {
            const start = process.cpuUsage();
            methods[name]();
            const used = process.cpuUsage(start);
            spent[name] += (used.user + used.system) / 1000;
          }
        }
        const us = (name: keyof typeof methods) => (spent[name] * 1000) / ((messages / CHUNK) * perMessage[name]);
        return { raw: us('raw'), ratchet: us('ratchet'), persisted: us('persisted'), alternating: us('alternating') };
      },
      1,
    );
    const rawUs = median(samples.map((s) => s.raw));
    const baseline = { name: 'raw XChaCha20-Poly1305 encrypt+decrypt', value: rawUs };
    ctx.log(`raw ${rawUs.toFixed(2)} µs, ratchet ${median(samples.map((s) => s.ratchet)).toFixed(2)} µs`);
    return [
      ctx.row({ metric: 'ratchet_encrypt_decrypt', value: median(samples.map((s) => s.ratchet)), unit: 'µs', baseline, goal: goals.ratioAtMost(3) }),
      ctx.row({ metric: 'with_session_load_store', value: median(samples.map((s) => s.persisted)), unit: 'µs', baseline, goal: goals.info() }),
      ctx.row({ metric: 'dh_ratchet_step_each_message', value: median(samples.map((s) => s.alternating)), unit: 'µs', baseline, goal: goals.info() }),
    ];
  },
});
