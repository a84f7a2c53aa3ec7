// The encrypted body: crypto_secretstream_xchacha20poly1305 over fixed 64 KiB chunks.
// Writer: bytes go into one chunk buffer; a full chunk is sealed as soon as more bytes follow,
// and the last one is zero-padded and sealed with TAG_FINAL. Cutting, sealing and writing the
// file run in a worker thread (seal-worker.mjs), so reading the profile overlaps encryption and
// the disk; the sealed bytes never come back to this thread.
// Reader: reads whole sealed chunks, authenticates each (the header is the first one's
// additional data), and insists on TAG_FINAL at the very end of the file.
import type { FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import sodium from 'libsodium-wrappers-sumo';
import { BackupError, ioError } from './errors.js';
import {
  CHUNK_BYTES,
  deriveBackupKeys,
  encodeHeader,
  FORMAT_VERSION,
  HEADER_BYTES,
  keyCheckMatches,
  parseHeader,
  SALT_BYTES,
  SEALED_CHUNK_BYTES,
  wipeKeys,
  type Kdf,
  type ParsedHeader,
} from './format.js';
import type { Argon2idParams } from '../vault/index.js';

type StreamState = ReturnType<typeof sodium.crypto_secretstream_xchacha20poly1305_init_pull>;

/** Plaintext handed to the sealing worker and not sealed yet, at most, once flush() returns. */
const MAX_PENDING_BYTES = 3 * 1024 * 1024;
/** Small writes (record lines) are gathered into one message to the worker of about this size. */
const STAGE_BYTES = 256 * 1024;
const SEAL_WORKER_URL = new URL('./seal-worker.mjs', import.meta.url);
/** Sealed chunks read per read() call. */
const READ_BATCH_CHUNKS = 16;

export interface WriterOptions {
  passphrase: string;
  params: Argon2idParams;
  kdf?: Kdf;
}

/** What the sealing worker has done so far. */
interface SealProgress {
  /** plaintext bytes taken */
  consumed: number;
  /** file bytes written (header included) */
  written: number;
  /** the final chunk is written */
  final: boolean;
}

/**
 * The sealing worker of one export (seal-worker.mjs): plaintext goes in (transferred) in order;
 * the worker seals it and writes it to the file descriptor, and reports its progress.
 */
class StreamSealer {
  readonly #worker: Worker;
  #ready: ((header: Uint8Array) => void) | null = null;
  #progress: SealProgress = { consumed: 0, written: 0, final: false };
  #posted = 0;
  #failure: BackupError | null = null;
  readonly #failed: Promise<never>;
  #rejectFailed: (error: BackupError) => void = () => undefined;
  #wake: (() => void) | null = null;
  #closed = false;

  /** Starts the worker (it loads libsodium while the caller derives the key). */
  constructor() {
    this.#failed = new Promise<never>((_, reject) => {
      this.#rejectFailed = reject;
    });
    this.#failed.catch(() => undefined); // observed through init(), drain() and end()
    this.#worker = new Worker(SEAL_WORKER_URL);
    this.#worker.on('message', (reply: unknown) => this.#receive(reply));
    // The worker's own error could describe its inputs in theory; keep it out of ours.
    this.#worker.on('error', () => this.#fail('FAILED'));
    this.#worker.on('exit', () => this.#fail('FAILED'));
  }

  get written(): number {
    return this.#progress.written;
  }

  /** Hands the stream key (a copy; the caller wipes its own) and the file to the worker; returns the secretstream header. */
  init(streamKey: Uint8Array, fd: number): Promise<Uint8Array> {
    const key = new Uint8Array(streamKey);
    const header = new Promise<Uint8Array>((resolve) => {
      this.#ready = resolve;
    });
    this.#worker.postMessage({ type: 'init', key, chunkBytes: CHUNK_BYTES, fd }, [key.buffer]);
    return Promise.race([header, this.#failed]);
  }

  /** The file header: written at offset 0, and the additional data of the first chunk. */
  start(header: Uint8Array): void {
    this.#worker.postMessage({ type: 'start', header });
  }

  /** Appends plaintext. `bytes` is transferred: the caller must not use it again. */
  write(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.#failure) throw this.#failure;
    this.#posted += bytes.length;
    this.#worker.postMessage({ type: 'write', bytes }, [bytes.buffer]);
  }

  /** Waits until at most `max` plaintext bytes wait in the worker; throws if it failed. */
  async drain(max: number): Promise<void> {
    while (this.#posted - this.#progress.consumed > max && !this.#failure) await this.#next();
    if (this.#failure) throw this.#failure;
  }

  /** Seals the final chunk; resolves once the whole stream is written. */
  async end(): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.#worker.postMessage({ type: 'end' });
    while (!this.#progress.final && !this.#failure) await this.#next();
    if (this.#failure) throw this.#failure;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#worker.terminate();
  }

  #next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }

  #receive(reply: unknown): void {
    if (typeof reply !== 'object' || reply === null) return this.#fail('FAILED');
    const r = reply as { type?: unknown; header?: unknown; consumed?: unknown; written?: unknown; final?: unknown; code?: unknown };
    if (r.type === 'ready' && r.header instanceof Uint8Array && this.#ready) {
      this.#ready(r.header);
      this.#ready = null;
      return;
    }
    if (r.type === 'progress' && typeof r.consumed === 'number' && typeof r.written === 'number' && typeof r.final === 'boolean') {
      this.#progress = { consumed: r.consumed, written: r.written, final: r.final };
      this.#wakeUp();
      return;
    }
    this.#fail(r.type === 'error' && typeof r.code === 'string' ? r.code : 'FAILED');
  }

  #fail(code: string): void {
    if (this.#closed || this.#failure) return;
    this.#failure =
      code === 'FAILED'
        ? new BackupError('IO', 'The backup could not be encrypted (the encryption worker stopped).')
        : new BackupError('IO', `Could not write the backup file (${code}).`);
    this.#rejectFailed(this.#failure);
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/**
 * Writes a backup to an open file handle (positioned at 0). Use `write`/`writeText`/`writeOwned`
 * (sync), `flush()` now and then (async: lets the sealing worker catch up), `end()` once, then
 * `sync()`; `settle()` after a failure.
 */
export class BackupWriter {
  readonly #handle: FileHandle;
  readonly #sealer: StreamSealer;
  #stage: Uint8Array<ArrayBuffer> = new Uint8Array(STAGE_BYTES);
  #staged = 0;
  #finished = false;
  readonly #encoder = new TextEncoder();

  private constructor(handle: FileHandle, sealer: StreamSealer, header: Uint8Array) {
    this.#handle = handle;
    this.#sealer = sealer;
    sealer.start(header);
  }

  /** Starts the sealing worker, derives the key (Argon2id, in another worker) meanwhile, and queues the header. */
  static async create(handle: FileHandle, options: WriterOptions): Promise<BackupWriter> {
    await sodium.ready;
    const sealer = new StreamSealer();
    try {
      const salt = sodium.randombytes_buf(SALT_BYTES);
      const keys = await deriveBackupKeys(options.passphrase, salt, options.params, options.kdf);
      try {
        const streamHeader = await sealer.init(keys.streamKey, handle.fd);
        const header = encodeHeader({ version: FORMAT_VERSION, params: options.params, salt, streamHeader }, keys.checkKey);
        return new BackupWriter(handle, sealer, header);
      } finally {
        wipeKeys(keys);
      }
    } catch (error) {
      await sealer.close();
      throw error;
    }
  }

  /** Bytes written to the file so far (header included). */
  get bytesWritten(): number {
    return this.#sealer.written;
  }

  /** Appends bytes to the plaintext stream (copied). */
  write(bytes: Uint8Array): void {
    if (bytes.length > STAGE_BYTES / 2) {
      this.writeOwned(new Uint8Array(bytes));
      return;
    }
    if (this.#staged + bytes.length > STAGE_BYTES) this.#post();
    this.#stage.set(bytes, this.#staged);
    this.#staged += bytes.length;
  }

  /** Appends bytes the caller gives up (handed to the worker without a copy when they fill their buffer). */
  writeOwned(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#post();
    const buffer = bytes.buffer;
    const whole = buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength;
    this.#sealer.write(whole ? new Uint8Array(buffer) : new Uint8Array(bytes));
  }

  /** Appends a string as UTF-8. */
  writeText(text: string): void {
    if (text.length === 0) return;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: if that fits, encode in place.
    if (text.length * 3 > STAGE_BYTES - this.#staged) this.#post();
    if (text.length * 3 <= STAGE_BYTES) {
      this.#staged += this.#encoder.encodeInto(text, this.#stage.subarray(this.#staged)).written;
      return;
    }
    this.writeOwned(this.#encoder.encode(text));
  }

  /** Hands what is staged to the worker and lets it catch up (`force`: until it has sealed everything so far). */
  async flush(force = false): Promise<void> {
    this.#post();
    await this.#sealer.drain(force ? 0 : MAX_PENDING_BYTES);
  }

  /** Pads and seals the final chunk (TAG_FINAL), writes everything and stops the worker (see also sync()). */
  async end(): Promise<void> {
    if (this.#finished) throw new BackupError('INVALID_ARGUMENT');
    this.#finished = true;
    this.#post();
    await this.#sealer.end();
    await this.#sealer.close();
  }

  /** fsync: the file is on disk before it is moved into place. */
  async sync(): Promise<void> {
    try {
      await this.#handle.sync();
    } catch (error) {
      throw ioError(error, 'write the backup file');
    }
  }

  /** end() then sync(). */
  async finish(): Promise<void> {
    await this.end();
    await this.sync();
  }

  /** Stops the worker (after a failure or cancel, before the file is removed). */
  async settle(): Promise<void> {
    this.#stage.fill(0);
    await this.#sealer.close();
  }

  /** Hands the staged bytes to the worker (the stage buffer goes with them; a new one replaces it). */
  #post(): void {
    if (this.#staged === 0) return;
    const full = this.#staged === STAGE_BYTES;
    const bytes = full ? this.#stage : this.#stage.slice(0, this.#staged);
    if (full) this.#stage = new Uint8Array(STAGE_BYTES);
    else this.#stage.fill(0, 0, this.#staged);
    this.#staged = 0;
    this.#sealer.write(bytes);
  }
}

export interface ReaderOptions {
  passphrase: string;
  kdf?: Kdf;
}

/**
 * Opens a backup for reading: parses and checks the header (before any hashing), derives the
 * key, checks it against the header's key check (WRONG_PASSPHRASE), then `chunks()` yields
 * each chunk's authenticated plaintext in order.
 */
export class BackupReader {
  readonly #handle: FileHandle;
  readonly #state: StreamState;
  readonly #header: ParsedHeader;
  #position = HEADER_BYTES;

  private constructor(handle: FileHandle, state: StreamState, header: ParsedHeader) {
    this.#handle = handle;
    this.#state = state;
    this.#header = header;
  }

  static async open(handle: FileHandle, options: ReaderOptions): Promise<BackupReader> {
    await sodium.ready;
    const head = new Uint8Array(HEADER_BYTES);
    const got = await readFully(handle, head, 0);
    const header = parseHeader(head.subarray(0, got));
    const keys = await deriveBackupKeys(options.passphrase, header.salt, header.params, options.kdf);
    try {
      if (!keyCheckMatches(header, keys.checkKey)) throw new BackupError('WRONG_PASSPHRASE');
      const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header.streamHeader, keys.streamKey);
      return new BackupReader(handle, state, header);
    } finally {
      wipeKeys(keys);
    }
  }

  get params(): Argon2idParams {
    return this.#header.params;
  }

  /** Bytes of the file consumed so far. */
  get position(): number {
    return this.#position;
  }

  /**
   * Each chunk's plaintext (CHUNK_BYTES; the final one includes its zero padding). Throws
   * TRUNCATED (a short chunk, or the file ends without TAG_FINAL), CORRUPT (a chunk fails
   * authentication or carries an unexpected tag), TRAILING_DATA (bytes after TAG_FINAL).
   * The yielded array is reused: copy what you keep.
   */
  async *chunks(): AsyncGenerator<Uint8Array> {
    const batch = new Uint8Array(SEALED_CHUNK_BYTES * READ_BATCH_CHUNKS);
    let first = true;
    for (;;) {
      const got = await readFully(this.#handle, batch, this.#position);
      if (got === 0) throw new BackupError('TRUNCATED'); // ended without TAG_FINAL
      for (let offset = 0; offset < got; offset += SEALED_CHUNK_BYTES) {
        if (got - offset < SEALED_CHUNK_BYTES) throw new BackupError('TRUNCATED'); // a chunk cut short
        const sealed = batch.subarray(offset, offset + SEALED_CHUNK_BYTES);
        const opened = sodium.crypto_secretstream_xchacha20poly1305_pull(this.#state, sealed, first ? this.#header.bytes : null);
        first = false;
        if (!opened) throw new BackupError('CORRUPT');
        this.#position += SEALED_CHUNK_BYTES;
        if (opened.tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
          if (offset + SEALED_CHUNK_BYTES < got) throw new BackupError('TRAILING_DATA');
          const probe = new Uint8Array(1);
          if ((await readFully(this.#handle, probe, this.#position)) > 0) throw new BackupError('TRAILING_DATA');
          yield opened.message;
          return;
        }
        if (opened.tag !== sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) throw new BackupError('CORRUPT');
        yield opened.message;
      }
    }
  }
}

/** Reads up to buffer.length bytes at `position`; fewer only at the end of the file. */
async function readFully(handle: FileHandle, buffer: Uint8Array, position: number): Promise<number> {
  let total = 0;
  try {
    while (total < buffer.length) {
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, position + total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
  } catch (error) {
    throw ioError(error, 'read the backup file');
  }
  return total;
}
