import { initCrypto } from '../main/core/crypto/index.js';
import { establish } from './scenarios/crypto.js';
import { randomNonce } from '../main/core/crypto/sodium.js';
import { allocBytes } from '../main/core/crypto/fast.js';
await initCrypto();
const { alice } = establish();
const N = 300_000;
function t(name: string, fn: () => unknown) { const s = process.cpuUsage(); for (let i = 0; i < N; i++) fn(); const u = process.cpuUsage(s); console.log(name.padEnd(20), ((u.user + u.system) / N).toFixed(3), 'us'); }
let x: any;
for (let r = 0; r < 2; r++) {
t('spread', () => { x = { ...alice, send: { key: alice.rootKey, n: 1 } }; });
t('nonce', () => { x = randomNonce(); });
t('allocBytes 282', () => { x = allocBytes(282); });
const a = allocBytes(282); const p = new Uint8Array(32);
t('set 32', () => { a.set(p, 10); });
t('subarray', () => { x = a.subarray(0, 66); });
}
import { chainStep, seal, open } from '../main/core/crypto/fast.js';
import { encryptMessage, decryptMessage } from '../main/core/crypto/index.js';
import sodium from 'libsodium-wrappers-sumo';
const key = new Uint8Array(32).fill(3), nonce = randomNonce(), ad = new Uint8Array(64), hdr = new Uint8Array(66), pt = new Uint8Array(200);
const out = new Uint8Array(66 + 216);
seal(key, nonce, ad, hdr, pt, out, 66);
const body = out.subarray(66);
let s = establish();
const cts: Uint8Array[] = [];
for (let r = 0; r < 2; r++) {
  t('chainStep', () => chainStep(key));
  t('seal', () => seal(key, nonce, ad, hdr, pt, out, 66));
  t('open', () => open(key, nonce, ad, hdr, body));
  t('encrypt', () => { x = encryptMessage(s.alice, pt, 0); });
  let a = s.alice; cts.length = 0;
  const M = N;
  { const st = process.cpuUsage(); for (let i = 0; i < M; i++) { const e = encryptMessage(a, pt, 0); a = e.session; cts.push(e.ciphertext); } const u = process.cpuUsage(st); console.log('encrypt chain'.padEnd(20), ((u.user + u.system) / M).toFixed(3)); }
  let b = s.bob;
  { const st = process.cpuUsage(); for (let i = 0; i < M; i++) { b = decryptMessage(b, cts[i]!, 0).session; } const u = process.cpuUsage(st); console.log('decrypt chain'.padEnd(20), ((u.user + u.system) / M).toFixed(3)); }
  s = { alice: a, bob: b };
  t('raw enc+dec', () => { const c = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, null, null, nonce, key); sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c, null, nonce, key); });
}
