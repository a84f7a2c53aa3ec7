import { initCrypto } from '../main/core/crypto/index.js';
import { seal, open, sealMessage, openMessage, allocBytes } from '../main/core/crypto/fast.js';
import { writeU32 } from '../main/core/crypto/bytes.js';
import { randomNonce, sodium } from '../main/core/crypto/sodium.js';
await initCrypto();
const key = new Uint8Array(32).fill(3), ad = new Uint8Array(64).fill(1), prefix = Uint8Array.of(1, 1), dhk = new Uint8Array(32).fill(5), pt = new Uint8Array(200).fill(7);
function oldEnc(alloc: (n: number) => Uint8Array) {
  const headerLen = prefix.length + 64;
  const c = alloc(headerLen + pt.length + 16);
  c.set(prefix, 0); c.set(dhk, 2); writeU32(c, 34, 1); writeU32(c, 38, 2);
  const nonce = randomNonce(); c.set(nonce, 42);
  seal(key, nonce, ad, c.subarray(0, headerLen), pt, c, headerLen);
  return c;
}
function newEnc() { return sealMessage(key, ad, prefix, dhk, 1, 2, randomNonce(), pt); }
const msg = newEnc();
function oldDec() { return open(key, msg.subarray(42, 66), ad, msg.subarray(0, 66), msg.subarray(66)); }
function newDec() { return openMessage(key, ad, msg, 66); }
const variants: Record<string, () => unknown> = {
  'enc old+new Uint8Array': () => oldEnc((n) => new Uint8Array(n)),
  'enc old+allocBytes': () => oldEnc(allocBytes),
  'enc sealMessage': newEnc,
  'dec open': oldDec,
  'dec openMessage': newDec,
};
const spent: Record<string, number> = {};
for (let round = 0; round < 400; round++) for (const [k, f] of Object.entries(variants)) { const s = process.cpuUsage(); for (let i = 0; i < 500; i++) f(); const u = process.cpuUsage(s); spent[k] = (spent[k] ?? 0) + u.user + u.system; }
for (const [k, v] of Object.entries(spent)) console.log(k.padEnd(26), (v / 200000).toFixed(3), 'us');
