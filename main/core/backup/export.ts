// Export: a consistent snapshot of the profile, streamed record by record into the encrypted
// writer, into a temp file next to the target that is linked into place only when complete.
// Memory stays flat: messages are read in pages sized by their length, and sealed chunks are
// written as they fill.
import { randomBytes } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { toBase64url } from '../../../shared/encoding/base64url.js';
import { BackupSnapshot } from '../store/backup-io.js';
import { ARGON2ID_PRESETS, type Argon2idParams } from '../vault/index.js';
import { BackupError, errnoCode, ioError } from './errors.js';
import type { Kdf } from './format.js';
import { sameCounts, zeroCounts } from './records.js';
import { BackupWriter } from './stream.js';
import { fsyncDir, pathExists, placeNoClobber } from './fs.js';

export interface BackupProgress {
  messages: number;
  totalMessages: number;
  /** bytes written (export) or read (import) so far */
  bytes: number;
}

export interface ExportOptions {
  profileDir: string;
  /** the open profile's database key (the caller keeps ownership) */
  key: Uint8Array;
  /** the backup file to create; never overwritten */
  out: string;
  passphrase: string;
  /** Argon2id cost; default MODERATE */
  params?: Argon2idParams;
  kdf?: Kdf;
  signal?: AbortSignal;
  onProgress?: (progress: BackupProgress) => void;
  /** called between pages; throws to stop (e.g. the profile was locked meanwhile) */
  check?: () => void;
  now?: () => number;
}

export interface ExportResult {
  path: string;
  messages: number;
  bytes: number;
  /** time spent in Argon2id */
  kdfMs: number;
  /** time spent reading, encrypting and writing (after the key derivation, before the fsync) */
  streamMs: number;
  /** time spent making it durable: fsync of the file, moving it into place, fsync of the folder */
  syncMs: number;
}

/** Message pages (rowid ranges): grown or shrunk so a page holds about PAGE_BYTES of JSON. */
const PAGE_BYTES = 2 * 1024 * 1024;
const MIN_PAGE = 16;
/** Bounds one page even if tiny messages are followed by 64 Ki-character ones (≤ ~50 MB then). */
const MAX_PAGE = 256;
const ROW_PAGE = 500;

export async function exportBackup(options: ExportOptions): Promise<ExportResult> {
  const out = resolve(options.out);
  const signal = options.signal;
  throwIfCancelled(signal);
  if (await pathExists(out)) throw new BackupError('FILE_EXISTS');
  const temp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.partial`);
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new BackupError('IO', 'The folder for the backup file does not exist.');
    throw ioError(error, 'create the backup file');
  }
  let writer: BackupWriter | null = null;
  let snapshot: BackupSnapshot | null = null;
  try {
    const kdfStart = performance.now();
    writer = await BackupWriter.create(handle, { passphrase: options.passphrase, params: options.params ?? ARGON2ID_PRESETS.moderate, kdf: options.kdf });
    const streamStart = performance.now();
    throwIfCancelled(signal);
    options.check?.();
    snapshot = BackupSnapshot.open(options.profileDir, options.key);
    const messages = await writeRecords(snapshot, writer, options);
    snapshot.close();
    snapshot = null;
    await writer.end();
    const syncStart = performance.now();
    await writer.sync();
    await handle.close();
    throwIfCancelled(signal);
    await placeNoClobber(temp, out, () => new BackupError('FILE_EXISTS')); // fails if the file appeared meanwhile
    await fsyncDir(dirname(out));
    const done = performance.now();
    const bytes = writer.bytesWritten;
    options.onProgress?.({ messages, totalMessages: messages, bytes });
    return { path: out, messages, bytes, kdfMs: streamStart - kdfStart, streamMs: syncStart - streamStart, syncMs: done - syncStart };
  } catch (error) {
    snapshot?.close();
    await writer?.settle();
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

async function writeRecords(snapshot: BackupSnapshot, writer: BackupWriter, options: ExportOptions): Promise<number> {
  const { signal } = options;
  const line = (record: object) => writer.writeText(`${JSON.stringify(record)}\n`);
  const counts = snapshot.counts();
  const account = snapshot.account();
  if (!account) throw new BackupError('INVALID_ARGUMENT', 'There is no account in this profile to back up.');
  const now = options.now ?? Date.now;
  line({ type: 'backup', app: 'refuge', createdAt: now(), counts });
  line({
    type: 'account',
    username: account.username,
    deviceId: account.deviceId,
    serverUrl: account.serverUrl,
    identity: toBase64url(account.identity),
    registered: account.registered,
    createdAt: account.createdAt,
    nextPrekeyId: account.nextPrekeyId,
  });
  const written = zeroCounts();
  for (const row of snapshot.prekeys()) {
    line({ type: 'prekey', kind: row.kind, id: row.id, record: toBase64url(row.record), lastResort: row.lastResort });
    written.prekeys++;
  }
  for (let after: string | null = null; ; ) {
    const page = snapshot.contacts(after, ROW_PAGE);
    for (const c of page) {
      line({ type: 'contact', username: c.username, identityKey: toBase64url(c.identityKey), verified: c.verified, addedAt: c.addedAt });
    }
    written.contacts += page.length;
    const last = page.at(-1);
    if (!last || page.length < ROW_PAGE) break;
    after = last.username;
  }
  for (let after: string | null = null; ; ) {
    const page = snapshot.conversations(after, ROW_PAGE);
    for (const c of page) line({ type: 'conversation', ...c });
    written.conversations += page.length;
    const last = page.at(-1);
    if (!last || page.length < ROW_PAGE) break;
    after = last.id;
    await writer.flush();
  }
  // Groups: their rows, members and membership logs (never a sender key: see records.ts).
  for (const g of snapshot.groups()) {
    line({ type: 'group', id: g.id, conversationId: g.conversationId, name: g.name, version: g.version, member: g.member, createdAt: g.createdAt });
    written.groups++;
  }
  for (const m of snapshot.groupMembers()) {
    line({ type: 'group-member', groupId: m.groupId, username: m.username, admin: m.admin });
    written.groupMembers++;
  }
  for (const c of snapshot.groupChanges()) {
    line({ type: 'group-change', groupId: c.groupId, id: c.id, version: c.version, author: c.author, body: c.body });
    written.groupChanges++;
  }
  for (const r of snapshot.groupResends()) {
    line({ type: 'group-resend', groupId: r.groupId, username: r.username, changeId: r.changeId });
    written.groupResends++;
  }
  await writer.flush();

  // Messages: SQLite builds the records (UTF-8 bytes), a rowid range at a time. The hot path.
  const total = counts.messages;
  const lastSeq = snapshot.maxMessageSeq();
  let span = 64;
  for (let from = 1; from <= lastSeq; ) {
    throwIfCancelled(signal);
    options.check?.();
    const to = from + span;
    const page = snapshot.messageRecords(from, to);
    const bytes = page.bytes.length;
    writer.writeOwned(page.bytes); // the page's buffer goes to the sealing worker as is
    written.messages += page.count;
    await writer.flush();
    options.onProgress?.({ messages: written.messages, totalMessages: total, bytes: writer.bytesWritten });
    from = to;
    // about PAGE_BYTES per range, whatever the message sizes (and gaps left by deleted rows)
    span = Math.max(MIN_PAGE, Math.min(MAX_PAGE, Math.floor((span * PAGE_BYTES) / Math.max(bytes, 1))));
  }

  for (const e of snapshot.groupEvents()) {
    line({ type: 'group-event', messageId: e.messageId, groupId: e.groupId, change: e.change });
    written.groupEvents++;
  }
  for (const r of snapshot.groupReceipts()) {
    line({ type: 'group-receipt', messageId: r.messageId, username: r.username, deliveredAt: r.deliveredAt, readAt: r.readAt });
    written.groupReceipts++;
  }
  for (const values of snapshot.settings()) {
    line({ type: 'setting', values });
    written.settings++;
  }
  if (!sameCounts(written, counts)) {
    throw new BackupError('IO', 'The profile changed in an unexpected way while it was being read.');
  }
  line({ type: 'end', counts: written });
  return written.messages;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BackupError('CANCELLED');
}
