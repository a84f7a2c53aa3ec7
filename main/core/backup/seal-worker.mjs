// Cuts the plaintext of a backup being exported into fixed chunks, seals them
// (crypto_secretstream_xchacha20poly1305 push) and writes them to the backup file, off the main
// thread: reading the profile, encrypting and writing overlap (stream.ts BackupWriter), and the
// sealed bytes never travel back. Plain ESM JavaScript, like vault/argon2-worker.mjs: it loads in
// Node, in Electron and under vitest without a TypeScript loader.
//
// Protocol (one stream per worker; the parent terminates it afterwards). Requests are handled in
// order; every reply after `ready` is { type: 'progress', consumed, written, final }: plaintext
// bytes taken so far, file bytes written so far, and whether the stream is complete on disk.
//   { type: 'init', key, chunkBytes, fd }  -> { type: 'ready', header }  (the secretstream header)
//   { type: 'start', header }              writes the file header at offset 0; it is also the
//                                          additional data of the first chunk
//   { type: 'write', bytes }               appends plaintext (transferred; wiped here once copied);
//                                          a full chunk is sealed (TAG_MESSAGE) once more bytes follow
//   { type: 'end' }                        zero-pads and seals the last chunk with TAG_FINAL, writes
//                                          everything
//   anything that fails                    -> { type: 'error', code }  (an errno code such as
//                                          'ENOSPC', or 'FAILED'; nothing of the input)
import { writevSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import sodium from 'libsodium-wrappers-sumo';

if (!parentPort) throw new Error('seal-worker must run as a worker thread');
const port = parentPort;
/** Sealed bytes gathered before a write. */
const WRITE_BATCH_BYTES = 1024 * 1024;

let state = null;
let fd = -1;
let ad = null;
let chunk = null;
let used = 0;
let ended = false;
let consumed = 0;
let written = 0;
let batch = [];
let batchBytes = 0;

function writeBatch() {
  let done = 0;
  while (done < batchBytes) {
    const n = writevSync(fd, done === 0 ? batch : remaining(batch, done), written + done);
    if (n === 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    done += n;
  }
  written += batchBytes;
  batch = [];
  batchBytes = 0;
}

/** The part of `list` after its first `skip` bytes (after a partial writev). */
function remaining(list, skip) {
  const out = [];
  let left = skip;
  for (const b of list) {
    if (left >= b.length) {
      left -= b.length;
      continue;
    }
    out.push(left > 0 ? b.subarray(left) : b);
    left = 0;
  }
  return out;
}

function queue(bytes) {
  batch.push(bytes);
  batchBytes += bytes.length;
  if (batchBytes >= WRITE_BATCH_BYTES) writeBatch();
}

function seal(tag) {
  queue(sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, ad, tag));
  ad = null; // the header is the additional data of the first chunk only
  used = 0;
}

function progress(final) {
  port.postMessage({ type: 'progress', consumed, written, final });
}

function handle(request) {
  const type = request?.type;
  if (type === 'init' && state === null && request.key instanceof Uint8Array && Number.isInteger(request.chunkBytes) && request.chunkBytes > 0 && Number.isInteger(request.fd)) {
    const init = sodium.crypto_secretstream_xchacha20poly1305_init_push(request.key);
    sodium.memzero(request.key);
    state = init.state;
    fd = request.fd;
    chunk = new Uint8Array(request.chunkBytes);
    port.postMessage({ type: 'ready', header: init.header });
    return;
  }
  if (state === null || ended) throw new Error('bad request');
  if (type === 'start' && request.header instanceof Uint8Array && written === 0 && batchBytes === 0) {
    ad = request.header;
    queue(request.header);
    return;
  }
  if (type === 'write' && request.bytes instanceof Uint8Array) {
    const bytes = request.bytes;
    for (let offset = 0; offset < bytes.length; ) {
      if (used === chunk.length) seal(sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
      const n = Math.min(chunk.length - used, bytes.length - offset);
      chunk.set(bytes.subarray(offset, offset + n), used);
      used += n;
      offset += n;
    }
    bytes.fill(0);
    consumed += bytes.length;
    progress(false);
    return;
  }
  if (type === 'end') {
    ended = true;
    chunk.fill(0, used);
    seal(sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    chunk.fill(0);
    writeBatch();
    progress(true);
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
      } catch (error) {
        ended = true; // any failure ends the stream: the parent removes the file
        const code = typeof error?.code === 'string' && /^E[A-Z]+$/.test(error.code) ? error.code : 'FAILED';
        port.postMessage({ type: 'error', code });
      }
    },
    () => port.postMessage({ type: 'error', code: 'FAILED' }),
  );
});
