import { initCrypto, encryptMessage, decryptMessage } from '../main/core/crypto/index.js';
import { chainStep, seal, open } from '../main/core/crypto/fast.js';
import { randomNonce, sodium } from '../main/core/crypto/sodium.js';
import { establish } from './scenarios/crypto.js';
await initCrypto();
const N = 200000;
const key = new Uint8Array(32).fill(3), nonce = randomNonce(), ad = new Uint8Array(64), hdr = new Uint8Array(66), pt = new Uint8Array(200);
const out = new Uint8Array(66 + 216);
seal(key, nonce, ad, hdr, pt, out, 66);
const body = out.subarray(66);
function time(name: string, fn: () => void) { const t = performance.now(); for (let i = 0; i < N; i++) fn(); return [name, ((performance.now() - t) * 1000 / N).toFixed(3)]; }
let { alice, bob } = establish();
let last: Uint8Array = new Uint8Array(0);
for (let rep = 0; rep < 3; rep++) {
  const rows = [
    time('chainStep', () => chainStep(key)),
    time('seal', () => seal(key, nonce, ad, hdr, pt, out, 66)),
    time('open', () => open(key, nonce, ad, hdr, body)),
    time('nonce', () => randomNonce()),
    time('encrypt', () => { const s = encryptMessage(alice, pt, 0); last = s.ciphertext; }),
    time('enc+dec', () => { const s = encryptMessage(alice, pt, 0); alice = s.session; bob = decryptMessage(bob, s.ciphertext, 0).session; }),
    time('raw', () => { const c = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, null, null, nonce, key); sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c, null, nonce, key); }),
    time('memzero', () => sodium.memzero(key.slice())),
    time('slice32', () => key.slice()),
  ];
  console.log(rows.map((r) => r.join(' ')).join(' | '));
}
