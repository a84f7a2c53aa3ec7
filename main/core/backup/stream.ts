// The encrypted body: crypto_secretstream_xchacha20poly1305 over fixed 64 KiB chunks.
// Writer: bytes go into one chunk buffer; a full chunk is sealed as soon as more bytes follow,
// and the last one is zero-padded and sealed with TAG_FINAL. Sealed chunks are written in
// batches with at most one write in flight, so encryption overlaps the disk.
// Reader: reads whole sealed chunks, authenticates each (the header is the first one's
// additional data), and insists on TAG_FINAL at the very end of the file.
import type { FileHandle } from 'node:fs/promises';
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

/** Sealed bytes gathered before a write is started. */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** Sealed chunks read per read() call. */
const READ_BATCH_CHUNKS = 16;

export interface WriterOptions {
  passphrase: string;
  params: Argon2idParams;
  kdf?: Kdf;
}

/**
 * Writes a backup to an open file handle (positioned at 0). Use `write`/`writeText` (sync),
 * `flush()` now and then (async: starts writing what is sealed), and `finish()` once.
 */
export class BackupWriter {
  readonly #handle: FileHandle;
  readonly #state: StreamState;
  #header: Uint8Array | null;
  readonly #chunk = new Uint8Array(CHUNK_BYTES);
  #used = 0;
  #sealed: Uint8Array[] = [];
  #sealedBytes = 0;
  #inflight: Promise<unknown> | null = null;
  #written = 0;
  #finished = false;
  readonly #encoder = new TextEncoder();

  private constructor(handle: FileHandle, state: StreamState, header: Uint8Array) {
    this.#handle = handle;
    this.#state = state;
    this.#header = header;
    this.#queue(header);
  }

  /** Derives the key (Argon2id, in a worker) and queues the header. */
  static async create(handle: FileHandle, options: WriterOptions): Promise<BackupWriter> {
    await sodium.ready;
    const salt = sodium.randombytes_buf(SALT_BYTES);
    const keys = await deriveBackupKeys(options.passphrase, salt, options.params, options.kdf);
    try {
      const { state, header: streamHeader } = sodium.crypto_secretstream_xchacha20poly1305_init_push(keys.streamKey);
      const header = encodeHeader({ version: FORMAT_VERSION, params: options.params, salt, streamHeader }, keys.checkKey);
      return new BackupWriter(handle, state, header);
    } finally {
      wipeKeys(keys);
    }
  }

  /** Bytes handed to the file so far (header included; the last batch may still be in flight). */
  get bytesWritten(): number {
    return this.#written;
  }

  /** Appends bytes to the plaintext stream. */
  write(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.#used === CHUNK_BYTES) this.#seal(sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
      const n = Math.min(CHUNK_BYTES - this.#used, bytes.length - offset);
      this.#chunk.set(bytes.subarray(offset, offset + n), this.#used);
      this.#used += n;
      offset += n;
    }
  }

  /** Appends a string as UTF-8. */
  writeText(text: string): void {
    if (text.length === 0) return;
    if (this.#used === CHUNK_BYTES) this.#seal(sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    // A UTF-16 code unit is at most 3 UTF-8 bytes: if that fits, encode in place.
    if (text.length * 3 <= CHUNK_BYTES - this.#used) {
      this.#used += this.#encoder.encodeInto(text, this.#chunk.subarray(this.#used)).written;
      return;
    }
    this.write(this.#encoder.encode(text));
  }

  /** Starts writing sealed chunks once a batch has gathered; waits for the previous write. */
  async flush(force = false): Promise<void> {
    if (this.#sealedBytes === 0 || (!force && this.#sealedBytes < WRITE_BATCH_BYTES)) return;
    const batch = this.#sealed;
    this.#sealed = [];
    this.#sealedBytes = 0;
    await this.#inflight;
    this.#inflight = this.#writeAll(batch);
  }

  /** Pads and seals the final chunk (TAG_FINAL) and writes everything (see also sync()). */
  async end(): Promise<void> {
    if (this.#finished) throw new BackupError('INVALID_ARGUMENT');
    this.#finished = true;
    this.#chunk.fill(0, this.#used);
    this.#used = CHUNK_BYTES;
    this.#seal(sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    this.#chunk.fill(0);
    await this.flush(true);
    await this.#inflight;
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

  /** Waits for a write in flight (after a failure or cancel, before the file is removed). */
  async settle(): Promise<void> {
    this.#chunk.fill(0);
    await this.#inflight?.catch(() => undefined);
  }

  #seal(tag: number): void {
    const ad = this.#header; // the header is the additional data of the first chunk only
    this.#header = null;
    this.#queue(sodium.crypto_secretstream_xchacha20poly1305_push(this.#state, this.#chunk, ad, tag));
    this.#used = 0;
  }

  #queue(bytes: Uint8Array): void {
    this.#sealed.push(bytes);
    this.#sealedBytes += bytes.length;
  }

  async #writeAll(batch: Uint8Array[]): Promise<void> {
    try {
      let bytes = 0;
      for (const b of batch) bytes += b.length;
      let done = 0;
      while (done < bytes) {
        const { bytesWritten } = await this.#handle.writev(done === 0 ? batch : remaining(batch, done));
        if (bytesWritten === 0) throw new Error('short write');
        done += bytesWritten;
      }
      this.#written += bytes;
    } catch (error) {
      throw ioError(error, 'write the backup file');
    }
  }
}

/** The part of `batch` after its first `skip` bytes (after a partial writev). */
function remaining(batch: Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let left = skip;
  for (const b of batch) {
    if (left >= b.length) {
      left -= b.length;
      continue;
    }
    out.push(left > 0 ? b.subarray(left) : b);
    left = 0;
  }
  return out;
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
