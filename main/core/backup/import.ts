// Import: all or nothing, into a NEW profile. The file's header and passphrase are checked
// before anything is created. The profile is then built in a temp folder next to the target
// (new random database key, wrapped by the given protector), record by record as the stream
// is decrypted, and moved into place only after the last chunk authenticated (TAG_FINAL, no
// trailing bytes) and every count matched. Any failure removes the temp folder: the target is
// left exactly as it was.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, rmdir, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fromBase64url } from '../../../shared/encoding/base64url.js';
import { BackupBulkWriter, isConstraintError } from '../store/backup-io.js';
import { DB_FILE, openStore, type MessageStatus } from '../store/index.js';
import { createVault, KEYRING_FILE, vaultExists, type KeyProtector } from '../vault/index.js';
import { BackupError, errnoCode, ioError } from './errors.js';
import { throwIfCancelled, type BackupProgress } from './export.js';
import type { Kdf } from './format.js';
import { fsyncDir, fsyncFile, pathExists, placeNoClobber } from './fs.js';
import { COUNT_NAMES, parseChangeText, parseRecord, RECORD_ORDER, RecordSplitter, sameCounts, zeroCounts, type BackupRecord, type Counts } from './records.js';
import { BackupReader } from './stream.js';

export interface ImportOptions {
  /** the profile folder to create (it may exist, but must hold no profile) */
  profileDir: string;
  /** the backup file */
  input: string;
  /** the backup's passphrase */
  passphrase: string;
  /** protects the new profile's database key (e.g. a PassphraseKeyProtector for the new profile passphrase) */
  protector: KeyProtector;
  kdf?: Kdf;
  signal?: AbortSignal;
  onProgress?: (progress: BackupProgress & { totalBytes: number }) => void;
}

export interface ImportResult {
  username: string;
  serverUrl: string;
  messages: number;
  contacts: number;
  bytes: number;
}

/**
 * Written into every restored profile: its one-time prekeys on the relay may be stale (the old
 * device may have handed out or added some after the backup), so the first connection replaces
 * them (backup.freshPrekeys, then re-registration) and removes this file. Holds no secret.
 */
export const RESTORE_MARKER = 'restored-from-backup.json';

/** Records per write transaction while restoring. */
const BATCH_RECORDS = 2000;
/** Files a profile folder may hold that make it "not empty" for a restore. */
const PROFILE_FILES = [KEYRING_FILE, DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`];

export async function importBackup(options: ImportOptions): Promise<ImportResult> {
  const target = resolve(options.profileDir);
  const { signal } = options;
  throwIfCancelled(signal);
  await refuseExistingProfile(target);

  let handle: FileHandle;
  try {
    handle = await open(resolve(options.input), 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new BackupError('FILE_NOT_FOUND');
    throw ioError(error, 'open the backup file');
  }
  let temp: string | null = null;
  let createdParent: string | undefined;
  let writer: BackupBulkWriter | null = null;
  let key: Uint8Array | null = null;
  try {
    const totalBytes = (await handle.stat()).size;
    // Header, parameter caps and passphrase: all checked before anything is created.
    const reader = await BackupReader.open(handle, { passphrase: options.passphrase, kdf: options.kdf });
    throwIfCancelled(signal);

    const parent = dirname(target);
    createdParent = await mkdir(parent, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw ioError(error, 'create the profile folder');
    });
    temp = join(parent, `.${basename(target)}.restore-${randomBytes(6).toString('hex')}`);
    await mkdir(temp, { mode: 0o700 }).catch((error: unknown) => {
      throw ioError(error, 'create the profile folder');
    });
    key = await createVault(temp, options.protector);
    openStore(temp, key).close(); // creates and migrates the empty database
    writer = BackupBulkWriter.open(temp, key);

    const restore = new Restorer(writer);
    const splitter = new RecordSplitter((value) => restore.add(parseRecord(value)));
    for await (const chunk of reader.chunks()) {
      throwIfCancelled(signal);
      splitter.push(chunk);
      options.onProgress?.({ messages: restore.counts.messages, totalMessages: restore.totalMessages, bytes: reader.position, totalBytes });
    }
    splitter.end();
    const summary = restore.finish();
    writer.close();
    writer = null;

    // Reopen through the Store: proves the result opens, and checkpoints the WAL into refuge.db.
    openStore(temp, key).close();
    await writeFile(join(temp, RESTORE_MARKER), `${JSON.stringify({ format: 'refuge-restore', version: 1 })}\n`, { mode: 0o600 });
    for (const name of await readdir(temp)) await fsyncFile(join(temp, name));
    await fsyncDir(temp);
    throwIfCancelled(signal);
    await moveIntoPlace(temp, target);
    temp = null;
    await fsyncDir(parent);
    options.onProgress?.({ messages: summary.messages, totalMessages: summary.messages, bytes: totalBytes, totalBytes });
    return { ...summary, bytes: totalBytes };
  } catch (error) {
    try {
      writer?.close();
    } catch {
      // the temp folder is removed below anyway
    }
    if (temp) await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (createdParent) await rm(createdParent, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof BackupError) throw error;
    if (isConstraintError(error)) throw new BackupError('CORRUPT');
    throw error;
  } finally {
    key?.fill(0);
    await handle.close().catch(() => undefined);
  }
}

async function refuseExistingProfile(target: string): Promise<void> {
  if (vaultExists(target)) throw new BackupError('PROFILE_EXISTS');
  for (const name of PROFILE_FILES) if (await pathExists(join(target, name))) throw new BackupError('PROFILE_EXISTS');
}

/**
 * The commit point. A missing or empty target folder is replaced by the temp folder in one
 * rename. Otherwise (the folder holds unrelated files) the database goes in first and the
 * keyring last, with a no-clobber link: until the keyring appears there is no profile, and if
 * one appeared meanwhile, what was moved is moved back.
 */
async function moveIntoPlace(temp: string, target: string): Promise<void> {
  await refuseExistingProfile(target);
  try {
    await rename(temp, target);
    return;
  } catch (error) {
    // The target folder exists and holds other files (Windows: any existing folder): go file by file.
    if (!['ENOTEMPTY', 'EEXIST', 'EPERM', 'EACCES'].includes(errnoCode(error) ?? '')) {
      throw ioError(error, 'move the restored profile into place');
    }
  }
  const names = (await readdir(temp)).filter((name) => name !== KEYRING_FILE);
  const moved: string[] = [];
  try {
    for (const name of names) {
      await placeNoClobber(join(temp, name), join(target, name), () => new BackupError('PROFILE_EXISTS'));
      moved.push(name);
    }
    await placeNoClobber(join(temp, KEYRING_FILE), join(target, KEYRING_FILE), () => new BackupError('PROFILE_EXISTS'));
  } catch (error) {
    for (const name of moved) await rename(join(target, name), join(temp, name)).catch(() => undefined);
    throw error;
  }
  await rmdir(temp).catch(() => undefined);
  await fsyncDir(target);
}

/** Applies records in order to the bulk writer, checking order, references and counts. */
class Restorer {
  readonly counts: Counts = zeroCounts();
  totalMessages = 0;
  #stage = -1;
  #announced: Counts | null = null;
  #account: { username: string; serverUrl: string } | null = null;
  #ended = false;
  #pending = 0;

  constructor(private readonly writer: BackupBulkWriter) {
    writer.begin();
  }

  add(record: BackupRecord): void {
    if (this.#ended) throw corrupt();
    const stage = RECORD_ORDER.indexOf(record.type);
    const once = record.type === 'backup' || record.type === 'account' || record.type === 'end';
    if (stage < this.#stage || (once && stage === this.#stage)) throw corrupt();
    if (this.#stage === -1 && record.type !== 'backup') throw corrupt();
    if (stage > RECORD_ORDER.indexOf('account') && !this.#account) throw corrupt();
    this.#stage = stage;
    const w = this.writer;
    switch (record.type) {
      case 'backup':
        this.#announced = record.counts;
        this.totalMessages = record.counts.messages;
        return;
      case 'account':
        w.saveAccount({
          username: record.username,
          deviceId: record.deviceId,
          serverUrl: record.serverUrl,
          identity: bytes(record.identity),
          registered: record.registered,
          createdAt: record.createdAt,
          nextPrekeyId: record.nextPrekeyId,
        });
        this.#account = { username: record.username, serverUrl: record.serverUrl };
        break;
      case 'prekey':
        w.putPrekey({ kind: record.kind, id: record.id, record: bytes(record.record), lastResort: record.lastResort });
        this.counts.prekeys++;
        break;
      case 'contact':
        w.insertContact({ username: record.username, identityKey: bytes(record.identityKey), verified: record.verified, addedAt: record.addedAt });
        this.counts.contacts++;
        break;
      case 'conversation':
        w.insertConversation({
          id: record.id,
          kind: record.kind,
          peer: record.peer,
          createdAt: record.createdAt,
          updatedAt: record.updatedAt,
          unreadCount: record.unreadCount,
          ...(record.muted !== undefined ? { muted: record.muted } : {}),
        });
        this.counts.conversations++;
        break;
      case 'group':
        w.insertGroup({ id: record.id, conversationId: record.conversationId, name: record.name, version: record.version, member: record.member, createdAt: record.createdAt });
        this.counts.groups++;
        break;
      case 'group-member':
        w.insertGroupMember({ groupId: record.groupId, username: record.username, admin: record.admin });
        this.counts.groupMembers++;
        break;
      case 'group-change': {
        // The body is what the group service replays: it must be that very change.
        const change = parseChangeText(record.body);
        if (!change || change.id !== record.id || change.v !== record.version || change.by !== record.author) throw corrupt();
        w.insertGroupChange({ groupId: record.groupId, id: record.id, version: record.version, author: record.author, body: record.body });
        this.counts.groupChanges++;
        break;
      }
      case 'group-resend':
        w.insertGroupResend({ groupId: record.groupId, username: record.username, changeId: record.changeId });
        this.counts.groupResends++;
        break;
      case 'group-event': {
        const change = parseChangeText(record.change);
        if (!change || change.id !== record.messageId) throw corrupt();
        w.insertGroupEvent({ messageId: record.messageId, groupId: record.groupId, change: record.change });
        this.counts.groupEvents++;
        break;
      }
      case 'group-receipt':
        if (record.readAt !== null && record.deliveredAt === null) throw corrupt();
        w.insertGroupReceipt({ messageId: record.messageId, username: record.username, deliveredAt: record.deliveredAt, readAt: record.readAt });
        this.counts.groupReceipts++;
        break;
      case 'message':
        w.insertMessage({
          id: record.id,
          conversationId: record.conversationId,
          sender: record.sender,
          outgoing: record.outgoing,
          text: record.text,
          sentAt: record.sentAt,
          receivedAt: record.receivedAt,
          status: restoredStatus(record.status),
          ...(record.replyTo !== undefined ? { replyTo: record.replyTo } : {}),
          ...(record.readAt !== undefined ? { readAt: record.readAt } : {}),
        });
        this.counts.messages++;
        break;
      case 'setting':
        w.putSetting(record.values);
        this.counts.settings++;
        break;
      case 'end':
        if (!this.#announced || !sameCounts(record.counts, this.#announced) || !sameCounts(record.counts, this.counts)) throw corrupt();
        this.#ended = true;
        break;
    }
    if (++this.#pending >= BATCH_RECORDS) {
      w.commit();
      w.begin();
      this.#pending = 0;
    }
  }

  finish(): { username: string; serverUrl: string; messages: number; contacts: number } {
    if (!this.#ended || !this.#account) throw corrupt();
    this.writer.commit();
    const stored = this.writer.counts();
    if (COUNT_NAMES.some((name) => name !== 'settings' && stored[name] !== this.counts[name])) throw corrupt();
    if (this.writer.groupProblems().length > 0) throw corrupt();
    return { ...this.#account, messages: this.counts.messages, contacts: this.counts.contacts };
  }
}

/** A message still 'sending' had its envelopes in the outbox, which a backup does not carry. */
function restoredStatus(status: MessageStatus): MessageStatus {
  return status === 'sending' ? 'failed' : status;
}

function bytes(b64: string): Uint8Array {
  try {
    return fromBase64url(b64);
  } catch {
    throw corrupt();
  }
}

function corrupt(): BackupError {
  return new BackupError('CORRUPT');
}
