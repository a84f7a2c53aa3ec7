import sodium from 'libsodium-wrappers-sumo';
import { initCrypto, encryptMessage, decryptMessage } from '../main/core/crypto/index.js';
import { establish } from './scenarios/crypto.js';
await initCrypto();
let { alice, bob } = establish();
const pt = sodium.randombytes_buf(200);
const N = 400000;
const t0 = performance.now();
for (let i = 0; i < N; i++) { const s = encryptMessage(alice, pt, 0); alice = s.session; bob = decryptMessage(bob, s.ciphertext, 0).session; }
console.log('ratchet us', (performance.now() - t0) * 1000 / N);
const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen(); const nonce = new Uint8Array(24);
const t1 = performance.now();
for (let i = 0; i < N; i++) { nonce[0] = i; const c = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, null, null, nonce, key); sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c, null, nonce, key); }
console.log('raw us', (performance.now() - t1) * 1000 / N);
