// Cuts the plaintext of a backup being exported into fixed chunks and seals them
// (crypto_secretstream_xchacha20poly1305 push) off the main thread, so reading the profile and
// encrypting overlap (stream.ts BackupWriter). Plain ESM JavaScript, like vault/argon2-worker.mjs:
// it loads in Node, in Electron and under vitest without a TypeScript loader.
//
// Protocol (one stream per worker; the parent terminates it afterwards). Requests are handled in
// order; every reply after `ready` is { type: 'sealed', sealed: Uint8Array[], consumed, final }.
//   { type: 'init', key, chunkBytes }  -> { type: 'ready', header }   (the secretstream header)
//   { type: 'start', ad }              the additional data of the first chunk (the file header)
//   { type: 'write', bytes }           appends plaintext (transferred; wiped here once copied);
//                                      a full chunk is sealed (TAG_MESSAGE) once more bytes follow
//   { type: 'end' }                    zero-pads and seals the last chunk with TAG_FINAL
//   anything that fails                -> { type: 'error' }  (a fixed text, nothing of the input)
import { parentPort } from 'node:worker_threads';
import sodium from 'libsodium-wrappers-sumo';

if (!parentPort) throw new Error('seal-worker must run as a worker thread');
const port = parentPort;

let state = null;
let ad = null;
let chunk = null;
let used = 0;
let ended = false;

function seal(tag, out) {
  out.push(sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, ad, tag));
  ad = null; // the header is the additional data of the first chunk only
  used = 0;
}

function reply(out, consumed, final) {
  port.postMessage({ type: 'sealed', sealed: out, consumed, final }, out.map((s) => s.buffer));
}

function handle(request) {
  const type = request?.type;
  if (type === 'init' && state === null && request.key instanceof Uint8Array && Number.isInteger(request.chunkBytes) && request.chunkBytes > 0) {
    const init = sodium.crypto_secretstream_xchacha20poly1305_init_push(request.key);
    sodium.memzero(request.key);
    state = init.state;
    chunk = new Uint8Array(request.chunkBytes);
    port.postMessage({ type: 'ready', header: init.header });
    return;
  }
  if (state === null || ended) throw new Error('bad request');
  if (type === 'start' && request.ad instanceof Uint8Array) {
    ad = request.ad;
    return;
  }
  if (type === 'write' && request.bytes instanceof Uint8Array) {
    const bytes = request.bytes;
    const out = [];
    for (let offset = 0; offset < bytes.length; ) {
      if (used === chunk.length) seal(sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE, out);
      const n = Math.min(chunk.length - used, bytes.length - offset);
      chunk.set(bytes.subarray(offset, offset + n), used);
      used += n;
      offset += n;
    }
    bytes.fill(0);
    reply(out, bytes.length, false);
    return;
  }
  if (type === 'end') {
    ended = true;
    chunk.fill(0, used);
    const out = [];
    seal(sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL, out);
    chunk.fill(0);
    reply(out, 0, true);
    return;
  }
  throw new Error('bad request');
}

const ready = sodium.ready;
port.on('message', (request) => {
  ready.then(
    () => {
      try {
        handle(request);
      } catch {
        port.postMessage({ type: 'error' });
      }
    },
    () => port.postMessage({ type: 'error' }),
  );
});
