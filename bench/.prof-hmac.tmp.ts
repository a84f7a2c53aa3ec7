import { createHmac, hash, createHash } from 'node:crypto';
import { initCrypto } from '../main/core/crypto/index.js';
import { chainStep } from '../main/core/crypto/fast.js';
await initCrypto();
const N = 200000;
let ck = new Uint8Array(32).fill(7);
let t = performance.now();
for (let i = 0; i < N; i++) ck = chainStep(ck).chainKey;
console.log('wasm chainStep us', (performance.now() - t) * 1000 / N);
const label = new TextEncoder().encode('Refuge_MessageKeys\x01');
const one = Uint8Array.of(1), two = Uint8Array.of(2);
t = performance.now();
for (let i = 0; i < N; i++) {
  const seed = createHmac('sha256', ck).update(one).digest();
  const next = createHmac('sha256', ck).update(two).digest();
  const mk = createHmac('sha256', seed).update(label).digest();
  ck = next;
}
console.log('createHmac chainStep us', (performance.now() - t) * 1000 / N);
// HMAC via crypto.hash with precomputed pads
const ipadBuf = new Uint8Array(64 + 64); const opadBuf = new Uint8Array(64 + 32);
function hmac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  for (let j = 0; j < 64; j++) { const k = j < key.length ? key[j]! : 0; ipadBuf[j] = k ^ 0x36; opadBuf[j] = k ^ 0x5c; }
  ipadBuf.set(msg, 64);
  const inner = hash('sha256', ipadBuf.subarray(0, 64 + msg.length), 'buffer') as Buffer;
  opadBuf.set(inner, 64);
  return new Uint8Array(hash('sha256', opadBuf, 'buffer') as Buffer);
}
t = performance.now();
for (let i = 0; i < N; i++) {
  const seed = hmac(ck, one);
  const next = hmac(ck, two);
  const mk = hmac(seed, label);
  ck = next;
}
console.log('crypto.hash chainStep us', (performance.now() - t) * 1000 / N);
