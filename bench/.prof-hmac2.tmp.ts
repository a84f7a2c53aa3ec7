import { initCrypto } from '../main/core/crypto/index.js';
import { sodium } from '../main/core/crypto/sodium.js';
await initCrypto();
const r = (sodium as any).libsodium;
const base = r._malloc(1024);
const N = 500000;
for (let rep = 0; rep < 3; rep++) {
let t = performance.now();
for (let i = 0; i < N; i++) r._crypto_auth_hmacsha256(base + 100, base + 200, 1, 0, base);
const hm = (performance.now() - t) * 1000 / N;
t = performance.now();
for (let i = 0; i < N; i++) r._crypto_hash_sha256(base + 100, base + 200, 1, 0);
const h1 = (performance.now() - t) * 1000 / N;
t = performance.now();
for (let i = 0; i < N; i++) r._crypto_hash_sha256(base + 100, base + 200, 64*9, 0);
const h10 = (performance.now() - t) * 1000 / N;
console.log('hmac(1 byte) us', hm.toFixed(3), 'sha256 1 block', h1.toFixed(3), 'sha256 10 blocks', h10.toFixed(3));
}
