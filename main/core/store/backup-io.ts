// Bulk reads and writes for encrypted backups (main/core/backup). Each side opens its own
// connection to refuge.db with the profile's key, so neither disturbs the app's Store:
// - the snapshot reader runs in one read transaction (WAL: a consistent view of the whole
//   history while the app keeps writing) and pages through messages by rowid, so memory stays
//   flat however long the history is; message rows come out as JSON text built by SQLite;
// - the bulk writer fills a freshly created (migrated, empty) profile with rows exactly as they
//   were: conversation ids, timestamps and unread counts included. Ratchet sessions, the
//   outbox and processed-envelope ids are never read or written here.
import Database from '@signalapp/sqlcipher';
import { join } from 'node:path';
import { DB_FILE, KEY_BYTES } from './store.js';
import { StoreError } from './errors.js';
import { emojiTerms } from './search-text.js';
import type { AccountRow, ContactRow, ConversationRow, MessageRow, PrekeyKind } from './types.js';

type Row = Record<string, unknown>;
export type SettingValue = string | number | null | { b64: string };

export interface PrekeyExportRow {
  kind: PrekeyKind;
  id: number;
  record: Uint8Array;
  lastResort: boolean;
}

/** A conversation as backed up: the row plus optional columns of later schemas. */
export type ConversationExportRow = ConversationRow & { muted?: boolean };
/** A message as restored: the row plus optional columns of later schemas (undefined: the backup did not have it). */
export type MessageImportRow = MessageRow & { replyTo?: string | null; readAt?: number | null };

/** Columns added by later migrations (social.ts): copied when the schema has them. */
interface OptionalColumns {
  replyTo: boolean;
  readAt: boolean;
  muted: boolean;
  /** search-schema.ts: computed on insert here (NULL would make openStore fill it, re-indexing every row) */
  searchTerms: boolean;
}

function optionalColumns(db: Database): OptionalColumns {
  const messages = new Set(columnsOf(db, 'messages'));
  const conversations = new Set(columnsOf(db, 'conversations'));
  return {
    replyTo: messages.has('reply_to'),
    readAt: messages.has('read_at'),
    muted: conversations.has('muted'),
    searchTerms: messages.has('search_terms'),
  };
}

export interface BackupCounts {
  prekeys: number;
  contacts: number;
  conversations: number;
  messages: number;
  settings: number;
}

/** The table some later schema may add for settings; copied generically if it exists. */
const SETTINGS_TABLE = 'settings';

function openKeyed(profileDir: string, key: Uint8Array): Database {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new StoreError('INVALID_ARGUMENT', `The database key must be ${KEY_BYTES} bytes.`);
  }
  let db: Database;
  try {
    db = new Database(join(profileDir, DB_FILE), { cacheStatements: true });
  } catch {
    throw new StoreError('OPEN_FAILED', 'Could not open the database.');
  }
  try {
    const hex = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
    db.exec(`PRAGMA key = "x'${hex}'"`);
    db.exec('PRAGMA cipher_compatibility = 4');
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('PRAGMA temp_store = MEMORY');
    db.prepare('SELECT count(*) FROM sqlite_master', { pluck: true, persistent: false }).get();
    // FTS5 tables (and triggers feeding them) may use Signal's tokenizer.
    db.initTokenizer();
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError('OPEN_FAILED', 'Could not open the database (wrong key or not a Refuge database).');
  }
}

function num(row: Row, name: string): number {
  const v = row[name];
  if (typeof v !== 'number') throw new TypeError(`backup-io: column ${name} is not a number`);
  return v;
}
function text(row: Row, name: string): string {
  const v = row[name];
  if (typeof v !== 'string') throw new TypeError(`backup-io: column ${name} is not text`);
  return v;
}
function blobOf(row: Row, name: string): Uint8Array {
  const v = row[name];
  if (!(v instanceof Uint8Array)) throw new TypeError(`backup-io: column ${name} is not a blob`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}
function toArrayBufferBytes(value: Uint8Array): Uint8Array<ArrayBuffer> {
  return value.buffer instanceof ArrayBuffer ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
}

function hasTable(db: Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", { pluck: true }).get([name]) !== undefined;
}

function columnsOf(db: Database, table: string): string[] {
  return db
    .prepare(`SELECT name FROM pragma_table_info(?)`, { pluck: true })
    .all([table])
    .filter((v): v is string => typeof v === 'string');
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A consistent, read-only view of a profile's history for export. Call close() when done. */
export class BackupSnapshot {
  #db: Database | null;
  readonly #optional: OptionalColumns;

  private constructor(db: Database) {
    this.#db = db;
    this.#optional = optionalColumns(db);
  }

  /** Opens a second connection and starts a read transaction (the snapshot). */
  static open(profileDir: string, key: Uint8Array): BackupSnapshot {
    const db = openKeyed(profileDir, key);
    try {
      db.exec('PRAGMA query_only = ON');
      db.exec('BEGIN');
      // The first read fixes the snapshot.
      db.prepare('SELECT count(*) FROM account', { pluck: true, persistent: false }).get();
      return new BackupSnapshot(db);
    } catch {
      db.close();
      throw new StoreError('OPEN_FAILED', 'Could not read the database for the backup.');
    }
  }

  close(): void {
    const db = this.#db;
    if (!db) return;
    this.#db = null;
    try {
      db.exec('COMMIT');
    } catch {
      // nothing was written; the transaction ends with the connection anyway
    }
    db.close();
  }

  counts(): BackupCounts {
    const db = this.#conn();
    const count = (sql: string) => Number(db.prepare(sql, { pluck: true }).get() ?? 0);
    return {
      prekeys: count('SELECT count(*) FROM prekeys'),
      contacts: count('SELECT count(*) FROM contacts'),
      conversations: count('SELECT count(*) FROM conversations'),
      messages: count('SELECT count(*) FROM messages'),
      settings: hasTable(db, SETTINGS_TABLE) ? count(`SELECT count(*) FROM ${quoteIdent(SETTINGS_TABLE)}`) : 0,
    };
  }

  account(): AccountRow | undefined {
    const row = this.#conn()
      .prepare('SELECT username, device_id, server_url, identity, registered, created_at, next_prekey_id FROM account WHERE id = 1')
      .get();
    if (!row) return undefined;
    return {
      username: text(row, 'username'),
      deviceId: num(row, 'device_id'),
      serverUrl: text(row, 'server_url'),
      identity: blobOf(row, 'identity'),
      registered: num(row, 'registered') === 1,
      createdAt: num(row, 'created_at'),
      nextPrekeyId: num(row, 'next_prekey_id'),
    };
  }

  /** Private prekeys of every kind (a few hundred at most). */
  prekeys(): PrekeyExportRow[] {
    return this.#conn()
      .prepare('SELECT kind, id, record, last_resort FROM prekeys ORDER BY kind, id')
      .all()
      .map((row) => ({
        kind: text(row, 'kind') as PrekeyKind,
        id: num(row, 'id'),
        record: blobOf(row, 'record'),
        lastResort: num(row, 'last_resort') === 1,
      }));
  }

  /** Contacts after `after` (by username), up to `limit`. */
  contacts(after: string | null, limit: number): ContactRow[] {
    return this.#conn()
      .prepare('SELECT username, identity_key, verified, added_at FROM contacts WHERE username > ? ORDER BY username LIMIT ?')
      .all([after ?? '', limit])
      .map((row) => ({
        username: text(row, 'username'),
        identityKey: blobOf(row, 'identity_key'),
        verified: num(row, 'verified') === 1,
        addedAt: num(row, 'added_at'),
      }));
  }

  /** Conversations after `after` (by id), up to `limit`. Only direct ones exist so far. */
  conversations(after: string | null, limit: number): ConversationExportRow[] {
    const muted = this.#optional.muted ? ', muted' : '';
    return this.#conn()
      .prepare(`SELECT id, kind, peer, created_at, updated_at, unread_count${muted} FROM conversations WHERE id > ? ORDER BY id LIMIT ?`)
      .all([after ?? '', limit])
      .map((row) => {
        const kind = text(row, 'kind');
        if (kind !== 'direct') throw new StoreError('INVALID_ARGUMENT', `Conversations of kind ${kind} cannot be backed up by this build.`);
        const out: ConversationExportRow = {
          id: text(row, 'id'),
          kind,
          peer: text(row, 'peer'),
          createdAt: num(row, 'created_at'),
          updatedAt: num(row, 'updated_at'),
          unreadCount: num(row, 'unread_count'),
        };
        if (this.#optional.muted) out.muted = num(row, 'muted') === 1;
        return out;
      });
  }

  /** The largest message rowid (0 without messages): the end of messageRecords' ranges. */
  maxMessageSeq(): number {
    const max = this.#conn().prepare('SELECT coalesce(max(seq), 0) FROM messages', { pluck: true }).get();
    return typeof max === 'number' ? max : 0;
  }

  /**
   * The messages with rowid in [fromSeq, toSeq), in insertion order, as the backup's message
   * records: one line of UTF-8 JSON each ({"type":"message", ...MessageImportRow} and "\n"),
   * built and concatenated by SQLite and returned as one byte array with the row count. The
   * export's hot path: no row becomes a JS string (decoded from UTF-8 only to be encoded again)
   * or a JS object.
   */
  messageRecords(fromSeq: number, toSeq: number): { bytes: Uint8Array; count: number } {
    const extra = `${this.#optional.replyTo ? ", 'replyTo', reply_to" : ''}${this.#optional.readAt ? ", 'readAt', read_at" : ''}`;
    const row = this.#conn()
      .prepare(
        `SELECT count(*) AS n, CAST(group_concat(json_object('type', 'message',
           'id', id, 'conversationId', conversation_id, 'sender', sender,
           'outgoing', json(CASE outgoing WHEN 1 THEN 'true' ELSE 'false' END),
           'text', text, 'sentAt', sent_at, 'receivedAt', received_at, 'status', status${extra}) || char(10), '' ORDER BY seq) AS BLOB) AS j
         FROM messages WHERE seq >= ? AND seq < ?`,
      )
      .get([fromSeq, toSeq]);
    const count = row ? num(row, 'n') : 0;
    if (count === 0) return { bytes: new Uint8Array(0), count: 0 };
    return { bytes: blobOf(row ?? {}, 'j'), count };
  }

  /** Rows of the settings table, if this schema has one (blobs as base64 in { b64 }). */
  settings(): Record<string, SettingValue>[] {
    const db = this.#conn();
    if (!hasTable(db, SETTINGS_TABLE)) return [];
    return db
      .prepare(`SELECT * FROM ${quoteIdent(SETTINGS_TABLE)}`)
      .all()
      .map((row) => {
        const out: Record<string, SettingValue> = {};
        for (const [name, value] of Object.entries(row)) {
          if (value instanceof Uint8Array) out[name] = { b64: Buffer.from(value).toString('base64url') };
          else if (typeof value === 'string' || typeof value === 'number' || value === null) out[name] = value;
        }
        return out;
      });
  }

  #conn(): Database {
    if (!this.#db) throw new StoreError('CLOSED', 'The backup snapshot is closed.');
    return this.#db;
  }
}

/**
 * Writes restored rows into a NEW profile's database (created and migrated by openStore, still
 * empty). Durability comes from the caller: it closes this writer, fsyncs, and renames the
 * finished profile into place, so synchronous = OFF is safe here.
 */
export class BackupBulkWriter {
  #db: Database | null;
  #inTransaction = false;
  readonly #settingsColumns: Set<string> | null;
  readonly #optional: OptionalColumns;

  private constructor(db: Database) {
    this.#db = db;
    this.#optional = optionalColumns(db);
    this.#settingsColumns = hasTable(db, SETTINGS_TABLE) ? new Set(columnsOf(db, SETTINGS_TABLE)) : null;
  }

  static open(profileDir: string, key: Uint8Array): BackupBulkWriter {
    const db = openKeyed(profileDir, key);
    try {
      const empty = db.prepare('SELECT (SELECT count(*) FROM account) + (SELECT count(*) FROM messages)', { pluck: true }).get();
      if (empty !== 0) throw new StoreError('INVALID_ARGUMENT', 'Backups are restored into an empty profile only.');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec('PRAGMA synchronous = OFF');
      return new BackupBulkWriter(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  begin(): void {
    if (this.#inTransaction) return;
    this.#conn().exec('BEGIN IMMEDIATE');
    this.#inTransaction = true;
  }

  commit(): void {
    if (!this.#inTransaction) return;
    this.#conn().exec('COMMIT');
    this.#inTransaction = false;
  }

  /** Closes the connection (rolling back anything uncommitted) and checkpoints the WAL into refuge.db. */
  close(): void {
    const db = this.#db;
    if (!db) return;
    this.#db = null;
    try {
      if (this.#inTransaction) db.exec('ROLLBACK');
      else db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
  }

  saveAccount(row: AccountRow): void {
    this.#conn()
      .prepare(
        `INSERT INTO account (id, username, device_id, server_url, identity, registered, created_at, next_prekey_id)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run([row.username, row.deviceId, row.serverUrl, toArrayBufferBytes(row.identity), row.registered ? 1 : 0, row.createdAt, row.nextPrekeyId]);
  }

  putPrekey(row: PrekeyExportRow): void {
    this.#conn()
      .prepare('INSERT INTO prekeys (kind, id, record, last_resort) VALUES (?, ?, ?, ?)')
      .run([row.kind, row.id, toArrayBufferBytes(row.record), row.lastResort ? 1 : 0]);
  }

  insertContact(row: ContactRow): void {
    this.#conn()
      .prepare('INSERT INTO contacts (username, identity_key, verified, added_at) VALUES (?, ?, ?, ?)')
      .run([row.username, toArrayBufferBytes(row.identityKey), row.verified ? 1 : 0, row.addedAt]);
  }

  insertConversation(row: ConversationExportRow): void {
    const values = [row.id, row.kind, row.peer, row.createdAt, row.updatedAt, row.unreadCount];
    if (this.#optional.muted) {
      this.#conn()
        .prepare('INSERT INTO conversations (id, kind, peer, created_at, updated_at, unread_count, muted) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run([...values, row.muted === true ? 1 : 0]);
      return;
    }
    this.#conn().prepare('INSERT INTO conversations (id, kind, peer, created_at, updated_at, unread_count) VALUES (?, ?, ?, ?, ?, ?)').run(values);
  }

  /**
   * Inserts a message as it was (the conversation's counters are restored from its own row).
   * An incoming message whose backup carries no read time counts as read, as the migration that
   * added read_at decided for older rows: a restore must not send read receipts for old history.
   */
  insertMessage(row: MessageImportRow): void {
    const o = this.#optional;
    const readAt = row.readAt !== undefined ? row.readAt : row.outgoing ? null : (row.receivedAt ?? row.sentAt);
    this.#conn()
      .prepare(
        `INSERT INTO messages (id, conversation_id, sender, outgoing, text, sent_at, received_at, status${o.replyTo ? ', reply_to' : ''}${o.readAt ? ', read_at' : ''}${o.searchTerms ? ', search_terms' : ''})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?${o.replyTo ? ', ?' : ''}${o.readAt ? ', ?' : ''}${o.searchTerms ? ', ?' : ''})`,
      )
      .run([
        row.id,
        row.conversationId,
        row.sender,
        row.outgoing ? 1 : 0,
        row.text,
        row.sentAt,
        row.receivedAt,
        row.status,
        ...(o.replyTo ? [row.replyTo ?? null] : []),
        ...(o.readAt ? [readAt] : []),
        ...(o.searchTerms ? [emojiTerms(row.text)] : []),
      ]);
  }

  /** Restores one settings row; columns this schema does not have are dropped. Returns false if there is no settings table. */
  putSetting(values: Record<string, SettingValue>): boolean {
    if (!this.#settingsColumns) return false;
    const entries = Object.entries(values).filter(([name]) => this.#settingsColumns?.has(name));
    if (entries.length === 0) return true;
    const names = entries.map(([name]) => quoteIdent(name)).join(', ');
    const marks = entries.map(() => '?').join(', ');
    this.#conn()
      .prepare(`INSERT OR REPLACE INTO ${quoteIdent(SETTINGS_TABLE)} (${names}) VALUES (${marks})`, { persistent: false })
      .run(entries.map(([, v]) => (v !== null && typeof v === 'object' ? toArrayBufferBytes(Buffer.from(v.b64, 'base64url')) : v)));
    return true;
  }

  /** Counts as stored, to check against what the backup announced. */
  counts(): Omit<BackupCounts, 'settings'> {
    const db = this.#conn();
    const count = (sql: string) => Number(db.prepare(sql, { pluck: true }).get() ?? 0);
    return {
      prekeys: count('SELECT count(*) FROM prekeys'),
      contacts: count('SELECT count(*) FROM contacts'),
      conversations: count('SELECT count(*) FROM conversations'),
      messages: count('SELECT count(*) FROM messages'),
    };
  }

  #conn(): Database {
    if (!this.#db) throw new StoreError('CLOSED', 'The restore writer is closed.');
    return this.#db;
  }
}

/** Whether a driver error is a constraint violation (duplicate id, unknown conversation, bad value). */
export function isConstraintError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_CONSTRAINT');
}
