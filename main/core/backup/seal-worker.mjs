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
// Besides, once, the export's message count (the header record needs it before the first message,
// and on the main thread it is ~15 ms of a cold index read that this thread can do meanwhile):
//   { type: 'count', file, key, flag }     opens the profile's database (raw key, transferred and
//                                          wiped here) and starts a read transaction; then sets
//                                          flag[0] from 0 to 1 and notifies (the parent waits on it
//                                          with Atomics.wait while it holds the write lock, so this
//                                          snapshot is the parent's), unless the parent gave up
//                                          (flag[0] is not 0 any more). Then
//                                          -> { type: 'count', messages } or { type: 'count-failed' }
//                                          (never fatal to the stream: the parent counts itself).
import { writevSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import sodium from 'libsodium-wrappers-sumo';

if (!parentPort) throw new Error('seal-worker must run as a worker thread');
/** SQLCipher, for the message count only: if it cannot load here, the parent counts (see 'count'). */
let Database = null;
const sqlite = import('@signalapp/sqlcipher').then(
  (module) => {
    Database = module.default;
  },
  () => undefined,
);
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

/** The messages in the parent's snapshot (see the header); any failure leaves the count to the parent. */
function countMessages(request) {
  const flag = request.flag;
  if (!(flag instanceof Int32Array) || !(flag.buffer instanceof SharedArrayBuffer)) throw new Error('bad request');
  const key = request.key instanceof Uint8Array && request.key.length === 32 ? request.key : null;
  const file = typeof request.file === 'string' ? request.file : null;
  let db = null;
  let started = false;
  try {
    if (!key || !file || !Database) throw new Error('count unavailable');
    db = new Database(file);
    const hex = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
    db.exec(`PRAGMA key = "x'${hex}'"`);
    db.exec('PRAGMA cipher_compatibility = 4');
    db.exec('PRAGMA busy_timeout = 250');
    db.exec('PRAGMA query_only = ON');
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM account', { pluck: true, persistent: false }).get(); // fixes the snapshot
    started = Atomics.compareExchange(flag, 0, 0, 1) === 0;
    Atomics.notify(flag, 0);
    if (!started) return; // the parent stopped waiting: this snapshot may not be its own
    const messages = db.prepare('SELECT count(*) FROM messages', { pluck: true, persistent: false }).get();
    if (typeof messages !== 'number') throw new Error('bad count');
    port.postMessage({ type: 'count', messages });
  } catch {
    if (started) port.postMessage({ type: 'count-failed' });
    else {
      Atomics.compareExchange(flag, 0, 0, 2);
      Atomics.notify(flag, 0);
    }
  } finally {
    if (key) sodium.memzero(key);
    try {
      db?.close();
    } catch {
      // read-only: nothing to lose
    }
  }
}

function handle(request) {
  const type = request?.type;
  if (type === 'count') return countMessages(request);
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

const ready = Promise.all([sodium.ready, sqlite]);
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
