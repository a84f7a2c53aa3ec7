// The encrypted local database: SQLCipher (@signalapp/sqlcipher) keyed with the vault's raw
// 256-bit key. Synchronous, like the driver. Every repository method is one prepared statement
// (statements are cached by the driver) or a short transaction of a few.
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { StoreError } from './errors.js';
import { migrate, newerSchemaError, readUserVersion, SCHEMA_VERSION } from './migrations.js';
import { fillSearchTerms } from './search-schema.js';
import { emojiTerms } from './search-text.js';
import {
  MESSAGE_STATUSES,
  PREKEY_KINDS,
  type AccountRow,
  type ContactRow,
  type ConversationRow,
  type ConversationSummaryRow,
  type MessagePage,
  type MessageRow,
  type MessageStatus,
  type OutboxInput,
  type OutboxRow,
  type OutgoingStatus,
  type PrekeyInput,
  type PrekeyKind,
  type PrekeyRow,
} from './types.js';

export const DB_FILE = 'refuge.db';
export const KEY_BYTES = 32;
/** The schema version that added messages.search_terms and the full-text index. */
const SEARCH_SCHEMA_VERSION = 2;
/** Largest page listMessages returns (the IPC contract allows up to 500). */
export const MAX_PAGE = 1000;

export interface OpenStoreOptions {
  /**
   * Migrate only up to this schema version (default: the latest). For migration tests, which
   * build a database at every earlier version and then reopen it normally.
   */
  migrateTo?: number;
}

/**
 * Opens (creating if needed) `profileDir/refuge.db` with `key`. The key is checked by a read
 * before anything is written: a wrong key throws StoreError WRONG_KEY and leaves the files as
 * they were; a database from a newer Refuge throws NEWER_SCHEMA, also untouched.
 */
export function openStore(profileDir: string, key: Uint8Array, options: OpenStoreOptions = {}): Store {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new StoreError('INVALID_ARGUMENT', `The database key must be ${KEY_BYTES} bytes.`);
  }
  try {
    mkdirSync(profileDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StoreError('OPEN_FAILED', 'Could not create the profile folder.', { cause: error });
  }
  const path = join(profileDir, DB_FILE);
  probeKey(path, key);
  let db: Database;
  try {
    db = new Database(path, { cacheStatements: true });
  } catch (error) {
    throw new StoreError('OPEN_FAILED', `Could not open the database (${errorCode(error)}).`, { cause: error });
  }
  try {
    applyKey(db, key);
    db.exec('PRAGMA busy_timeout = 5000'); // another process (app + CLI) may hold the lock briefly
    // probeKey has checked the key; this read checks again on the real connection (page 1 is
    // decrypted here) before anything is written.
    try {
      db.prepare('SELECT count(*) FROM sqlite_master', { pluck: true, persistent: false }).get();
    } catch (error) {
      const code = errorCode(error);
      if (code === 'SQLITE_NOTADB') throw wrongKey();
      throw new StoreError('OPEN_FAILED', `Could not read the database (${code}).`);
    }
    if (readUserVersion(db) > SCHEMA_VERSION) throw newerSchemaError();
    // Connection settings; journal_mode = WAL is the first statement that may write.
    db.exec('PRAGMA temp_store = MEMORY'); // no plaintext temp files
    db.exec('PRAGMA secure_delete = ON');
    db.exec('PRAGMA foreign_keys = ON');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError('OPEN_FAILED', 'Could not switch the database to WAL mode.');
    // FULL: a commit is durable before we return, so the relay may delete what we acked.
    db.exec('PRAGMA synchronous = FULL');
    migrate(db, options.migrateTo);
    // Rows bulk-written without their emoji search terms (a restored backup): fill them in.
    const pending = () => db.prepare('SELECT 1 FROM messages WHERE search_terms IS NULL LIMIT 1', { pluck: true, persistent: false }).get();
    if (readUserVersion(db) >= SEARCH_SCHEMA_VERSION && pending() !== undefined) {
      db.exec('BEGIN IMMEDIATE');
      try {
        fillSearchTerms(db);
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    }
    return new Store(db);
  } catch (error) {
    try {
      db.close();
    } catch {
      // closing a half-opened connection: nothing more to do
    }
    if (error instanceof StoreError) throw error;
    throw new StoreError('OPEN_FAILED', `Could not open the database (${errorCode(error)}).`, { cause: error });
  }
}

/** SQLCipher's page size (cipher_compatibility 4): page 1 is the first this many bytes. */
const CIPHER_PAGE_BYTES = 4096;

/**
 * Checks the key against a copy of page 1 before the real database is opened. Why a copy: if a
 * crash left a WAL next to refuge.db, SQLite opens that WAL before it can tell the key is wrong,
 * and closing the connection then checkpoints it into refuge.db and deletes it -- the files
 * would change on a failed unlock. The copy holds only ciphertext (page 1 as it is on disk), in
 * a private temp folder removed right after. SQLCipher reports a page-1 HMAC failure as
 * SQLITE_NOTADB; anything else means page 1 decrypted, i.e. the key is right.
 */
function probeKey(dbPath: string, key: Uint8Array): void {
  let head: Buffer;
  try {
    const fd = openSync(dbPath, 'r');
    try {
      const buffer = Buffer.alloc(CIPHER_PAGE_BYTES);
      head = buffer.subarray(0, readSync(fd, buffer, 0, CIPHER_PAGE_BYTES, 0));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return; // a new profile: nothing to check yet
    throw new StoreError('OPEN_FAILED', `Could not read the database (${errorCode(error)}).`, { cause: error });
  }
  if (head.length === 0) return; // created but never written
  const dir = mkdtempSync(join(tmpdir(), 'refuge-keycheck-'));
  try {
    const copy = join(dir, 'page1.db');
    writeFileSync(copy, head, { mode: 0o600 });
    const probe = new Database(copy);
    try {
      applyKey(probe, key);
      try {
        probe.prepare('SELECT count(*) FROM sqlite_master', { pluck: true, persistent: false }).get();
      } catch (error) {
        if (errorCode(error) === 'SQLITE_NOTADB') throw wrongKey();
        // e.g. SQLITE_CORRUPT: page 1 decrypted but the rest of the copy is missing. Key is right.
      }
    } finally {
      probe.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function wrongKey(): StoreError {
  return new StoreError('WRONG_KEY', 'The database key is wrong, or refuge.db is not a Refuge database.');
}

/**
 * Keys the connection and pins SQLCipher 4's format (so a future library default cannot change
 * how existing profiles are read). The hex form of the key exists only in this statement.
 */
function applyKey(db: Database, key: Uint8Array): void {
  const hex = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
  try {
    db.exec(`PRAGMA key = "x'${hex}'"`);
    db.exec('PRAGMA cipher_compatibility = 4');
  } catch (error) {
    // Don't chain the driver's error: keep anything derived from the statement out of reach.
    throw new StoreError('OPEN_FAILED', `Could not key the database (${errorCode(error)}).`);
  }
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'error';
}

// ---- row helpers --------------------------------------------------------------------------

type Row = Record<string, unknown>;

function col(row: Row, name: string): unknown {
  if (!(name in row)) throw new TypeError(`store: missing column ${name}`);
  return row[name];
}
function str(row: Row, name: string): string {
  const v = col(row, name);
  if (typeof v !== 'string') throw new TypeError(`store: column ${name} is not text`);
  return v;
}
function int(row: Row, name: string): number {
  const v = col(row, name);
  if (typeof v !== 'number') throw new TypeError(`store: column ${name} is not an integer`);
  return v;
}
function intOrNull(row: Row, name: string): number | null {
  const v = col(row, name);
  return v === null ? null : int(row, name);
}
function bool(row: Row, name: string): boolean {
  return int(row, name) === 1;
}
function bytes(row: Row, name: string): Uint8Array {
  const v = col(row, name);
  if (!(v instanceof Uint8Array)) throw new TypeError(`store: column ${name} is not a blob`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength); // a plain Uint8Array view, not a Buffer
}
/** The driver wants Uint8Array<ArrayBuffer>; copy only if the input sits on a SharedArrayBuffer. */
function blob(value: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!(value instanceof Uint8Array)) throw new StoreError('INVALID_ARGUMENT', 'Expected bytes.');
  const buffer = value.buffer;
  return buffer instanceof ArrayBuffer ? new Uint8Array(buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
}
function flag(value: boolean): number {
  return value ? 1 : 0;
}

const MESSAGE_COLUMNS = 'id, conversation_id, sender, outgoing, text, sent_at, received_at, status';
const CONVERSATION_COLUMNS = 'id, kind, peer, created_at, updated_at, unread_count';

function toMessage(row: Row, prefix = ''): MessageRow {
  const status = str(row, `${prefix}status`);
  if (!isMessageStatus(status)) throw new TypeError('store: unknown message status');
  return {
    id: str(row, `${prefix}id`),
    conversationId: str(row, `${prefix}conversation_id`),
    sender: str(row, `${prefix}sender`),
    outgoing: bool(row, `${prefix}outgoing`),
    text: str(row, `${prefix}text`),
    sentAt: int(row, `${prefix}sent_at`),
    receivedAt: intOrNull(row, `${prefix}received_at`),
    status,
  };
}

function toConversation(row: Row, prefix = ''): ConversationRow {
  const kind = str(row, `${prefix}kind`);
  if (kind !== 'direct' && kind !== 'group') throw new TypeError(`store: conversation kind ${kind} is not supported by this build`);
  return {
    id: str(row, `${prefix}id`),
    kind,
    // A group conversation has no peer (NULL): '' here; its group is in store/groups.ts.
    peer: kind === 'group' ? '' : str(row, `${prefix}peer`),
    createdAt: int(row, `${prefix}created_at`),
    updatedAt: int(row, `${prefix}updated_at`),
    unreadCount: int(row, `${prefix}unread_count`),
  };
}

function isMessageStatus(value: string): value is MessageStatus {
  return (MESSAGE_STATUSES as readonly string[]).includes(value);
}

function checkKind(kind: PrekeyKind): void {
  if (!PREKEY_KINDS.includes(kind)) throw new StoreError('INVALID_ARGUMENT', 'Unknown prekey kind.');
}

/** For each target status, the statuses an outgoing message may move from. Never backwards. */
const STATUS_FROM: Record<OutgoingStatus, readonly MessageStatus[]> = {
  sending: ['failed'], // retry
  sent: ['sending', 'failed'],
  delivered: ['sending', 'sent', 'failed'],
  failed: ['sending'],
};

// ---- the store ----------------------------------------------------------------------------

export class Store {
  #db: Database | null;
  #depth = 0;
  /**
   * The nesting depth at which a multi-statement write that joined the caller's transaction
   * failed part-way (see #completeOrAbort), until a rollback covering it undoes its half.
   */
  #halfWrittenAt: number | null = null;

  /** Use openStore(). */
  constructor(db: Database) {
    this.#db = db;
  }

  /** The schema version of the open database. */
  get schemaVersion(): number {
    return readUserVersion(this.#conn());
  }

  /** Closes the database (checkpointing the WAL). Safe to call twice. */
  close(): void {
    const db = this.#db;
    if (!db) return;
    this.#db = null;
    db.close();
  }

  /**
   * The open connection, for repositories kept in their own files (social.ts) that compose with
   * this store's transaction(). Throws CLOSED when locked.
   */
  connection(): Database {
    return this.#conn();
  }

  get closed(): boolean {
    return this.#db === null;
  }

  /**
   * Runs `fn` in a transaction (BEGIN IMMEDIATE) and commits, or rolls back if it throws.
   * Nested calls join the outer transaction as a savepoint: if the inner `fn` throws, only its
   * writes are undone (and the error propagates; if the outer `fn` lets it through, everything
   * rolls back). `fn` must be synchronous; a returned Promise is refused and rolled back.
   */
  transaction<T>(fn: () => T): T {
    const db = this.#conn();
    const depth = this.#depth;
    const savepoint = `refuge_sp_${depth}`;
    db.exec(depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT ${savepoint}`);
    this.#depth = depth + 1;
    try {
      const result = fn();
      if (isThenable(result)) {
        throw new StoreError('INVALID_ARGUMENT', 'Store.transaction callbacks must be synchronous.');
      }
      // A joined write failed part-way inside this transaction and `fn` caught the error: its
      // half must not commit, so this whole transaction (or savepoint) rolls back instead.
      if (this.#halfWrittenAt !== null && this.#halfWrittenAt > depth) {
        throw new StoreError('WRITE_FAILED', 'A write in this transaction failed part-way; none of the transaction was saved.');
      }
      db.exec(depth === 0 ? 'COMMIT' : `RELEASE ${savepoint}`);
      return result;
    } catch (error) {
      try {
        db.exec(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
      } catch {
        // SQLite may already have rolled back (e.g. after SQLITE_FULL)
      }
      if (this.#halfWrittenAt !== null && this.#halfWrittenAt > depth) this.#halfWrittenAt = null; // undone with the rest
      throw error;
    } finally {
      this.#depth = depth;
    }
  }

  /**
   * Runs the remaining statements of a write that joined the caller's transaction without a
   * savepoint of its own, after its first statement. Should one of them throw, the enclosing
   * transaction can no longer commit (see transaction()), so the half-done write never does.
   *
   * Why no savepoint: every SAVEPOINT makes FTS5 flush its pending index into a new segment,
   * so one per received message made a batch write (and later merge) hundreds of tiny segments.
   */
  #completeOrAbort<T>(rest: () => T): T {
    try {
      return rest();
    } catch (error) {
      this.#halfWrittenAt ??= this.#depth;
      throw error;
    }
  }

  /** The connection's safety settings, for audits and tests. */
  connectionSettings(): { journalMode: string; tempStore: number; secureDelete: number; foreignKeys: number; synchronous: number } {
    const db = this.#conn();
    const get = (name: string) => db.pragma(name, { simple: true });
    return {
      journalMode: String(get('journal_mode')),
      tempStore: Number(get('temp_store')),
      secureDelete: Number(get('secure_delete')),
      foreignKeys: Number(get('foreign_keys')),
      synchronous: Number(get('synchronous')),
    };
  }

  /** Moves everything from the WAL into refuge.db and truncates the WAL (e.g. before a lock). */
  checkpoint(): void {
    this.#conn().pragma('wal_checkpoint(TRUNCATE)');
  }

  // ---- account ----------------------------------------------------------------------------

  getAccount(): AccountRow | undefined {
    const row = this.#conn()
      .prepare('SELECT username, device_id, server_url, identity, registered, created_at, next_prekey_id FROM account WHERE id = 1')
      .get();
    if (!row) return undefined;
    return {
      username: str(row, 'username'),
      deviceId: int(row, 'device_id'),
      serverUrl: str(row, 'server_url'),
      identity: bytes(row, 'identity'),
      registered: bool(row, 'registered'),
      createdAt: int(row, 'created_at'),
      nextPrekeyId: int(row, 'next_prekey_id'),
    };
  }

  saveAccount(row: AccountRow): void {
    this.#conn()
      .prepare(
        `INSERT INTO account (id, username, device_id, server_url, identity, registered, created_at, next_prekey_id)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET
           username = excluded.username, device_id = excluded.device_id, server_url = excluded.server_url,
           identity = excluded.identity, registered = excluded.registered, created_at = excluded.created_at,
           next_prekey_id = excluded.next_prekey_id`,
      )
      .run([row.username, row.deviceId, row.serverUrl, blob(row.identity), flag(row.registered), row.createdAt, row.nextPrekeyId]);
  }

  // ---- prekeys (private halves) -----------------------------------------------------------

  /** Inserts or replaces prekeys of one kind, in one transaction. */
  putPrekeys(kind: PrekeyKind, rows: readonly PrekeyInput[]): void {
    checkKind(kind);
    const stmt = this.#conn().prepare(
      `INSERT INTO prekeys (kind, id, record, last_resort) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind, id) DO UPDATE SET record = excluded.record, last_resort = excluded.last_resort`,
    );
    this.transaction(() => {
      for (const row of rows) stmt.run([kind, row.id, blob(row.record), flag(row.lastResort === true)]);
    });
  }

  getPrekey(kind: PrekeyKind, id: number): Uint8Array | undefined {
    return this.getPrekeyRow(kind, id)?.record;
  }

  /** Like getPrekey, with the last-resort flag. */
  getPrekeyRow(kind: PrekeyKind, id: number): PrekeyRow | undefined {
    checkKind(kind);
    const row = this.#conn().prepare('SELECT id, record, last_resort FROM prekeys WHERE kind = ? AND id = ?').get([kind, id]);
    return row ? { id: int(row, 'id'), record: bytes(row, 'record'), lastResort: bool(row, 'last_resort') } : undefined;
  }

  /**
   * Deletes a consumed prekey. A last-resort prekey is never consumed, so it is kept unless
   * `includeLastResort` is set (for rotation).
   */
  deletePrekey(kind: PrekeyKind, id: number, options: { includeLastResort?: boolean } = {}): void {
    checkKind(kind);
    this.#conn()
      .prepare('DELETE FROM prekeys WHERE kind = ? AND id = ? AND (last_resort = 0 OR ? = 1)')
      .run([kind, id, flag(options.includeLastResort === true)]);
  }

  /** Number of stored prekeys of a kind, last-resort ones included. */
  countPrekeys(kind: PrekeyKind): number {
    checkKind(kind);
    const n = this.#conn().prepare('SELECT count(*) FROM prekeys WHERE kind = ?', { pluck: true }).get([kind]);
    return typeof n === 'number' ? n : 0;
  }

  /** Ids of the stored prekeys of a kind, ascending. */
  listPrekeyIds(kind: PrekeyKind): number[] {
    checkKind(kind);
    return this.#conn()
      .prepare('SELECT id FROM prekeys WHERE kind = ? ORDER BY id', { pluck: true })
      .all([kind])
      .filter((v): v is number => typeof v === 'number');
  }

  // ---- contacts ---------------------------------------------------------------------------

  /** Inserts a contact, or updates its identity key and verified flag (keeping addedAt). */
  upsertContact(row: ContactRow): void {
    this.#conn()
      .prepare(
        `INSERT INTO contacts (username, identity_key, verified, added_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (username) DO UPDATE SET identity_key = excluded.identity_key, verified = excluded.verified`,
      )
      .run([row.username, blob(row.identityKey), flag(row.verified), row.addedAt]);
  }

  getContact(username: string): ContactRow | undefined {
    const row = this.#conn().prepare('SELECT username, identity_key, verified, added_at FROM contacts WHERE username = ?').get([username]);
    return row ? toContact(row) : undefined;
  }

  /** All contacts, by username. */
  listContacts(): ContactRow[] {
    return this.#conn().prepare('SELECT username, identity_key, verified, added_at FROM contacts ORDER BY username').all().map(toContact);
  }

  // ---- ratchet sessions -------------------------------------------------------------------

  getSession(username: string, deviceId: number): Uint8Array | undefined {
    const row = this.#conn().prepare('SELECT record FROM sessions WHERE username = ? AND device_id = ?').get([username, deviceId]);
    return row ? bytes(row, 'record') : undefined;
  }

  putSession(username: string, deviceId: number, record: Uint8Array): void {
    this.#conn()
      .prepare(
        `INSERT INTO sessions (username, device_id, record) VALUES (?, ?, ?)
         ON CONFLICT (username, device_id) DO UPDATE SET record = excluded.record`,
      )
      .run([username, deviceId, blob(record)]);
  }

  deleteSession(username: string, deviceId: number): void {
    this.#conn().prepare('DELETE FROM sessions WHERE username = ? AND device_id = ?').run([username, deviceId]);
  }

  /** Device ids we hold a session with for `username`, ascending. */
  listSessionDevices(username: string): number[] {
    return this.#conn()
      .prepare('SELECT device_id FROM sessions WHERE username = ? ORDER BY device_id', { pluck: true })
      .all([username])
      .filter((v): v is number => typeof v === 'number');
  }

  // ---- conversations ----------------------------------------------------------------------

  /** The direct conversation with `peer`, created (with a random id) if there is none. */
  getOrCreateDirectConversation(peer: string, now: number): ConversationRow {
    // Read-then-insert needs a transaction against another connection inserting in between; inside
    // the caller's it is one write statement, atomic on its own (no savepoint: see #completeOrAbort).
    if (this.#depth === 0) return this.transaction(() => this.getOrCreateDirectConversation(peer, now));
    const db = this.#conn();
    const existing = db.prepare(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE kind = 'direct' AND peer = ?`).get([peer]);
    if (existing) return toConversation(existing);
    const created = db
      .prepare(
        `INSERT INTO conversations (id, kind, peer, created_at, updated_at, unread_count) VALUES (?, 'direct', ?, ?, ?, 0)
         RETURNING ${CONVERSATION_COLUMNS}`,
      )
      .get([randomUUID(), peer, now, now]);
    if (!created) throw new Error('store: INSERT ... RETURNING returned no row');
    return toConversation(created);
  }

  getConversation(id: string): ConversationRow | undefined {
    const row = this.#conn().prepare(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = ?`).get([id]);
    return row ? toConversation(row) : undefined;
  }

  /** Every conversation with its newest message, most recent activity first. */
  listConversationSummaries(): ConversationSummaryRow[] {
    const rows = this.#conn()
      .prepare(
        `SELECT c.id AS c_id, c.kind AS c_kind, c.peer AS c_peer, c.created_at AS c_created_at,
                c.updated_at AS c_updated_at, c.unread_count AS c_unread_count,
                m.id AS m_id, m.conversation_id AS m_conversation_id, m.sender AS m_sender, m.outgoing AS m_outgoing,
                m.text AS m_text, m.sent_at AS m_sent_at, m.received_at AS m_received_at, m.status AS m_status
         FROM conversations c
         LEFT JOIN messages m ON m.seq = (
           SELECT seq FROM messages WHERE conversation_id = c.id ORDER BY sent_at DESC, seq DESC LIMIT 1
         )
         ORDER BY c.updated_at DESC, c.id DESC`,
      )
      .all();
    return rows.map((row) => ({
      conversation: toConversation(row, 'c_'),
      lastMessage: row['m_id'] === null ? null : toMessage(row, 'm_'),
    }));
  }

  markConversationRead(id: string): void {
    this.#conn().prepare('UPDATE conversations SET unread_count = 0 WHERE id = ?').run([id]);
  }

  // ---- messages ---------------------------------------------------------------------------

  /**
   * Stores a message. Returns false (and changes nothing) if a message with this id exists.
   * Bumps the conversation's updatedAt to the message's time (receivedAt ?? sentAt) if later,
   * and its unread count for incoming messages. Throws NOT_FOUND for an unknown conversation.
   */
  insertMessage(row: MessageRow): boolean {
    if (!isMessageStatus(row.status)) throw new StoreError('INVALID_ARGUMENT', 'Unknown message status.');
    // Two statements: inside the caller's transaction they join it (no savepoint, see #completeOrAbort).
    if (this.#depth === 0) return this.transaction(() => this.insertMessage(row));
    const db = this.#conn();
    let changes: number;
    try {
      changes = db
        .prepare(
          `INSERT INTO messages (${MESSAGE_COLUMNS}, search_terms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
        )
        .run([row.id, row.conversationId, row.sender, flag(row.outgoing), row.text, row.sentAt, row.receivedAt, row.status, emojiTerms(row.text)])
        .changes;
    } catch (error) {
      if (errorCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new StoreError('NOT_FOUND', 'That conversation does not exist.');
      }
      throw error;
    }
    if (changes === 0) return false;
    this.#completeOrAbort(() =>
      db.prepare('UPDATE conversations SET updated_at = max(updated_at, ?), unread_count = unread_count + ? WHERE id = ?').run([
        row.receivedAt ?? row.sentAt,
        row.outgoing ? 0 : 1,
        row.conversationId,
      ]),
    );
    return true;
  }

  /**
   * Moves outgoing messages forward: sending -> sent -> delivered, sending -> failed -> sending
   * (retry) / sent / delivered. Never backwards (delivered stays delivered); incoming messages
   * and unknown ids are ignored.
   */
  updateMessageStatus(ids: readonly string[], status: OutgoingStatus): void {
    const from = (STATUS_FROM as Record<string, readonly MessageStatus[] | undefined>)[status];
    if (!from) throw new StoreError('INVALID_ARGUMENT', 'Only outgoing message statuses can be set.');
    if (ids.length === 0) return;
    this.#conn()
      .prepare(
        `UPDATE messages SET status = ?
         WHERE id IN (SELECT value FROM json_each(?)) AND outgoing = 1 AND status IN (SELECT value FROM json_each(?))`,
      )
      .run([status, JSON.stringify(ids), JSON.stringify(from)]);
  }

  getMessage(id: string): MessageRow | undefined {
    const row = this.#conn().prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`).get([id]);
    return row ? toMessage(row) : undefined;
  }

  /**
   * A page of a conversation, oldest first: the newest `limit` messages, the `limit` just
   * before message `before`, or the `limit` just after message `after` (both exclusive; not
   * both). Ordered by (sentAt, insertion order). `hasMore` tells whether more messages remain
   * in the paging direction: older ones (newest page, `before`) or newer ones (`after`).
   * Throws NOT_FOUND if the anchor is not in this conversation.
   */
  listMessages(conversationId: string, opts: { before?: string | undefined; after?: string | undefined; limit: number }): MessagePage {
    const { before, after, limit } = opts;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new StoreError('INVALID_ARGUMENT', `The page size must be 1..${MAX_PAGE}.`);
    }
    if (before !== undefined && after !== undefined) throw new StoreError('INVALID_ARGUMENT', 'Page from `before` or from `after`, not both.');
    const db = this.#conn();
    const anchorOf = (id: string) => {
      const anchor = db.prepare('SELECT sent_at, seq FROM messages WHERE id = ? AND conversation_id = ?').get([id, conversationId]);
      if (!anchor) throw new StoreError('NOT_FOUND', 'That message is not in this conversation.');
      return [int(anchor, 'sent_at'), int(anchor, 'seq')] as const;
    };
    let rows: Row[];
    if (after !== undefined) {
      const [sentAt, seq] = anchorOf(after);
      rows = db
        .prepare(
          `SELECT ${MESSAGE_COLUMNS} FROM messages
           WHERE conversation_id = ? AND (sent_at, seq) > (?, ?)
           ORDER BY sent_at ASC, seq ASC LIMIT ?`,
        )
        .all([conversationId, sentAt, seq, limit + 1]);
      return { messages: rows.slice(0, limit).map((row) => toMessage(row)), hasMore: rows.length > limit };
    }
    if (before === undefined) {
      rows = db
        .prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY sent_at DESC, seq DESC LIMIT ?`)
        .all([conversationId, limit + 1]);
    } else {
      const [sentAt, seq] = anchorOf(before);
      rows = db
        .prepare(
          `SELECT ${MESSAGE_COLUMNS} FROM messages
           WHERE conversation_id = ? AND (sent_at, seq) < (?, ?)
           ORDER BY sent_at DESC, seq DESC LIMIT ?`,
        )
        .all([conversationId, sentAt, seq, limit + 1]);
    }
    const hasMore = rows.length > limit;
    const messages = rows.slice(0, limit).map((row) => toMessage(row));
    messages.reverse();
    return { messages, hasMore };
  }

  // ---- outbox -----------------------------------------------------------------------------

  enqueueOutbox(rows: readonly OutboxInput[]): void {
    const stmt = this.#conn().prepare(
      'INSERT INTO outbox (envelope_id, message_id, recipient, recipient_device_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insertAll = () => {
      for (const row of rows) stmt.run([row.envelopeId, row.messageId, row.to, row.toDeviceId, row.body, row.createdAt]);
    };
    // Inside the caller's transaction: joined, no savepoint (see #completeOrAbort).
    if (this.#depth === 0) this.transaction(insertAll);
    else this.#completeOrAbort(insertAll);
  }

  /** Up to `limit` queued envelopes, oldest (first enqueued) first. */
  listOutbox(limit: number): OutboxRow[] {
    if (!Number.isInteger(limit) || limit < 1) throw new StoreError('INVALID_ARGUMENT', 'The limit must be a positive integer.');
    return this.#conn()
      .prepare('SELECT envelope_id, message_id, recipient, recipient_device_id, body, created_at FROM outbox ORDER BY seq LIMIT ?')
      .all([limit])
      .map((row) => ({
        envelopeId: str(row, 'envelope_id'),
        messageId: row['message_id'] === null ? null : str(row, 'message_id'),
        to: str(row, 'recipient'),
        toDeviceId: int(row, 'recipient_device_id'),
        body: str(row, 'body'),
        createdAt: int(row, 'created_at'),
      }));
  }

  /**
   * Drops envelopes the relay refused for good and returns the ids of the messages they carried
   * (every such message failed for at least one recipient device).
   */
  failOutbox(envelopeIds: readonly string[]): string[] {
    if (envelopeIds.length === 0) return [];
    return this.transaction(() =>
      this.#conn()
        .prepare('DELETE FROM outbox WHERE envelope_id IN (SELECT value FROM json_each(?)) RETURNING message_id', { pluck: true })
        .all([JSON.stringify(envelopeIds)])
        .filter((v): v is string => typeof v === 'string'),
    );
  }

  /**
   * Removes envelopes the relay accepted. Returns the ids of the messages whose LAST queued
   * envelope was among them, i.e. messages now sent to every recipient device (so the caller
   * can mark exactly those 'sent'). Unknown envelope ids are ignored.
   */
  removeOutbox(envelopeIds: readonly string[]): string[] {
    if (envelopeIds.length === 0) return [];
    return this.transaction(() => {
      const db = this.#conn();
      const touched = db
        .prepare('DELETE FROM outbox WHERE envelope_id IN (SELECT value FROM json_each(?)) RETURNING message_id', { pluck: true })
        .all([JSON.stringify(envelopeIds)])
        .filter((v): v is string => typeof v === 'string');
      if (touched.length === 0) return [];
      return db
        .prepare(
          `SELECT DISTINCT j.value FROM json_each(?) AS j
           WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = j.value)`,
          { pluck: true },
        )
        .all([JSON.stringify([...new Set(touched)])])
        .filter((v): v is string => typeof v === 'string');
    });
  }

  // ---- incoming dedupe --------------------------------------------------------------------

  hasProcessedEnvelope(id: string): boolean {
    return this.#conn().prepare('SELECT 1 FROM processed_envelopes WHERE id = ?', { pluck: true }).get([id]) !== undefined;
  }

  /** Which of `ids` were processed already: one query for a whole delivered batch. */
  processedEnvelopeIds(ids: readonly string[]): Set<string> {
    if (ids.length === 0) return new Set();
    const found = this.#conn()
      .prepare('SELECT p.id FROM json_each(?) AS j JOIN processed_envelopes p ON p.id = j.value', { pluck: true })
      .all([JSON.stringify(ids)]);
    return new Set(found.filter((v): v is string => typeof v === 'string'));
  }

  markEnvelopeProcessed(id: string, at: number): void {
    this.#conn().prepare('INSERT INTO processed_envelopes (id, processed_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING').run([id, at]);
  }

  /**
   * Forgets processed-envelope ids older than `before` (ms). Safe once the relay can no longer
   * redeliver them: after its retention window (at most 7 days). Returns how many were removed.
   */
  pruneProcessedEnvelopes(before: number): number {
    return this.#conn().prepare('DELETE FROM processed_envelopes WHERE processed_at < ?').run([before]).changes;
  }

  // ---- internals --------------------------------------------------------------------------

  #conn(): Database {
    if (!this.#db) throw new StoreError('CLOSED', 'The database is locked.');
    return this.#db;
  }
}

function toContact(row: Row): ContactRow {
  return {
    username: str(row, 'username'),
    identityKey: bytes(row, 'identity_key'),
    verified: bool(row, 'verified'),
    addedAt: int(row, 'added_at'),
  };
}

function isThenable(value: unknown): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
