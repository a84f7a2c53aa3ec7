import * as NEW from '../main/core/crypto/index.js';
import * as OLD from './.tmpold/crypto/index.js';
import sodium from 'libsodium-wrappers-sumo';
await NEW.initCrypto(); await OLD.initCrypto();
function establish(C: typeof NEW) {
  const now = Date.now();
  const aliceId = C.generateIdentityKeyPair(), bobId = C.generateIdentityKeyPair();
  const signed = C.generateSignedPrekey(bobId, 1, now);
  const [lastResort] = C.generateKyberPrekeys(bobId, 2, 1, true);
  const keys = C.buildKeysUpload(bobId, signed, lastResort!, [], []);
  const bundle = { username: 'bob', deviceId: 1, identityKey: keys.identityKey, signedPrekey: keys.signedPrekey, kyberPrekey: { ...keys.kyberLastResort, lastResort: true } };
  let alice = C.initiateSession(aliceId, bundle, now);
  const first = C.encryptMessage(alice, new Uint8Array(10), now); alice = first.session;
  const acc = C.acceptPrekeyMessage({ identity: bobId, signedPrekey: () => signed, oneTimePrekey: () => undefined, kyberPrekey: () => lastResort }, first.ciphertext, now);
  const reply = C.encryptMessage(acc.session, new Uint8Array(10), now);
  alice = C.decryptMessage(alice, reply.ciphertext, now).session;
  return { alice, bob: reply.session };
}
const pt = sodium.randombytes_buf(200);
const sN = establish(NEW), sO = establish(OLD as unknown as typeof NEW);
const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen(); const nonce = new Uint8Array(24);
const variants: Record<string, () => void> = {
  raw: () => { const c = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, null, null, nonce, key); sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c, null, nonce, key); },
  old: () => { const e = OLD.encryptMessage(sO.alice as any, pt, 0); sO.alice = e.session as any; sO.bob = OLD.decryptMessage(sO.bob as any, e.ciphertext, 0).session as any; },
  new: () => { const e = NEW.encryptMessage(sN.alice, pt, 0); sN.alice = e.session; sN.bob = NEW.decryptMessage(sN.bob, e.ciphertext, 0).session; },
};
for (let rep = 0; rep < 3; rep++) {
const spent: Record<string, number> = {};
for (let round = 0; round < 100; round++) for (const [k, f] of Object.entries(variants)) { const s = process.cpuUsage(); for (let i = 0; i < 200; i++) f(); const u = process.cpuUsage(s); spent[k] = (spent[k] ?? 0) + u.user + u.system; }
const us = (k: string) => spent[k]! / 20000;
console.log(`raw ${us('raw').toFixed(2)}  old ${us('old').toFixed(2)} (x${(us('old') / us('raw')).toFixed(2)})  new ${us('new').toFixed(2)} (x${(us('new') / us('raw')).toFixed(2)})`);
}
