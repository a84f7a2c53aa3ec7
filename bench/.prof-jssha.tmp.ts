import { initCrypto } from '../main/core/crypto/index.js';
import { chainStep } from '../main/core/crypto/fast.js';
import { sodium } from '../main/core/crypto/sodium.js';
await initCrypto();
const K = new Int32Array([
0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2]);
const IV = new Int32Array([0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19]);
const W = new Int32Array(64);
// compress block (16 words in W[0..15]) into state s (Int32Array(8)), in place
function compress(s: Int32Array) {
  for (let i = 16; i < 64; i++) {
    const w15 = W[i-15]!, w2 = W[i-2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i-16]! + s0 + W[i-7]! + s1) | 0;
  }
  let a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!, e = s[4]!, f = s[5]!, g = s[6]!, h = s[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  s[0] = (s[0]! + a) | 0; s[1] = (s[1]! + b) | 0; s[2] = (s[2]! + c) | 0; s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0; s[5] = (s[5]! + f) | 0; s[6] = (s[6]! + g) | 0; s[7] = (s[7]! + h) | 0;
}
const inner = new Int32Array(8), outer = new Int32Array(8), tmp = new Int32Array(8), tmp2 = new Int32Array(8);
function keyWords(key: Uint8Array, xor: number) {
  for (let i = 0; i < 8; i++) W[i] = ((key[4*i]! << 24) | (key[4*i+1]! << 16) | (key[4*i+2]! << 8) | key[4*i+3]!) ^ xor;
  for (let i = 8; i < 16; i++) W[i] = xor;
}
function setupKey(key: Uint8Array) {
  inner.set(IV); keyWords(key, 0x36363636); compress(inner);
  outer.set(IV); keyWords(key, 0x5c5c5c5c); compress(outer);
}
// finish: s = inner state copy; message bytes m (<= 55) -> digest words into out (Int32Array 8)
function finishShort(m: Uint8Array, out: Int32Array) {
  tmp.set(inner);
  W.fill(0, 0, 16);
  for (let i = 0; i < m.length; i++) W[i >> 2]! |= m[i]! << (24 - 8 * (i & 3));
  W[m.length >> 2]! |= 0x80 << (24 - 8 * (m.length & 3));
  W[15] = (64 + m.length) * 8;
  compress(tmp);
  out.set(outer);
  for (let i = 0; i < 8; i++) W[i] = tmp[i]!;
  W[8] = 0x80000000; for (let i = 9; i < 15; i++) W[i] = 0; W[15] = (64 + 32) * 8;
  compress(out);
}
function wordsToBytes(w: Int32Array): Uint8Array { const o = new Uint8Array(32); for (let i = 0; i < 8; i++) { const v = w[i]!; o[4*i] = v >>> 24; o[4*i+1] = v >>> 16; o[4*i+2] = v >>> 8; o[4*i+3] = v; } return o; }
const one = Uint8Array.of(1), two = Uint8Array.of(2);
const label = new TextEncoder().encode('Refuge_MessageKeys\x01');
const o1 = new Int32Array(8), o2 = new Int32Array(8), o3 = new Int32Array(8);
function jsChainStep(ck: Uint8Array) {
  setupKey(ck);
  finishShort(one, o1); finishShort(two, o2);
  const seed = wordsToBytes(o1);
  setupKey(seed);
  finishShort(label, o3);
  return { chainKey: wordsToBytes(o2), messageKey: wordsToBytes(o3) };
}
let ck = new Uint8Array(32).fill(9);
const a = jsChainStep(ck), b = chainStep(ck);
console.log('equal', sodium.to_hex(a.chainKey) === sodium.to_hex(b.chainKey), sodium.to_hex(a.messageKey) === sodium.to_hex(b.messageKey));
const N = 300000;
for (let rep = 0; rep < 3; rep++) {
let t = performance.now(); let x = ck;
for (let i = 0; i < N; i++) x = chainStep(x).chainKey;
const w = (performance.now() - t) * 1000 / N;
t = performance.now(); x = ck;
for (let i = 0; i < N; i++) x = jsChainStep(x).chainKey;
const j = (performance.now() - t) * 1000 / N;
console.log('wasm', w.toFixed(3), 'js', j.toFixed(3));
}
