// Argon2id key derivation off the main thread. Plain ESM JavaScript so it loads in Node, in
// Electron and under vitest without a TypeScript loader.
//
// Protocol: the parent posts one message { password: Uint8Array, salt: Uint8Array,
// opslimit: number, memlimit: number, outputBytes: number } and receives either
// { ok: true, key: Uint8Array } or { ok: false, error: string }. The error string is a fixed
// description, never derived from the inputs. One derivation per worker: the parent terminates
// it afterwards, which also releases the WebAssembly memory Argon2 grew.
import { parentPort } from 'node:worker_threads';
import sodium from 'libsodium-wrappers-sumo';

if (!parentPort) throw new Error('argon2-worker must run as a worker thread');
const port = parentPort;

port.once('message', async (request) => {
  const { password, salt, opslimit, memlimit, outputBytes } = request ?? {};
  try {
    await sodium.ready;
    if (!(password instanceof Uint8Array) || !(salt instanceof Uint8Array)) throw new Error('bad request');
    const key = sodium.crypto_pwhash(outputBytes, password, salt, opslimit, memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
    sodium.memzero(password);
    port.postMessage({ ok: true, key }, [key.buffer]);
  } catch {
    if (password instanceof Uint8Array) password.fill(0);
    port.postMessage({ ok: false, error: 'argon2id derivation failed' });
  }
});
