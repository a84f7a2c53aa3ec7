// Numbered schema migrations. Migration N takes a database at user_version N-1 to N, inside its
// own transaction (BEGIN IMMEDIATE), and bumps PRAGMA user_version in that same transaction, so
// a crash mid-migration leaves the database at N-1. Append new migrations; never edit old ones.
import type Database from '@signalapp/sqlcipher';
import { StoreError } from './errors.js';
import { searchMigration, settingsMigration } from './search-schema.js';
import { socialMigration } from './social.js';
import { groupsMigration } from './groups.js';
import { groupReceiptsMigration } from './group-receipts.js';

export interface Migration {
  version: number;
  description: string;
  up(db: Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'account, prekeys, contacts, sessions, conversations, messages, outbox, processed envelopes',
    up(db) {
      db.exec(`
        CREATE TABLE account (
          id             INTEGER PRIMARY KEY CHECK (id = 1),
          username       TEXT    NOT NULL,
          device_id      INTEGER NOT NULL,
          server_url     TEXT    NOT NULL,
          identity       BLOB    NOT NULL,
          registered     INTEGER NOT NULL CHECK (registered IN (0, 1)),
          created_at     INTEGER NOT NULL,
          next_prekey_id INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE prekeys (
          kind        TEXT    NOT NULL CHECK (kind IN ('signed', 'onetime', 'kyber')),
          id          INTEGER NOT NULL,
          record      BLOB    NOT NULL,
          last_resort INTEGER NOT NULL DEFAULT 0 CHECK (last_resort IN (0, 1)),
          PRIMARY KEY (kind, id)
        ) STRICT;

        CREATE TABLE contacts (
          username     TEXT    PRIMARY KEY,
          identity_key BLOB    NOT NULL,
          verified     INTEGER NOT NULL CHECK (verified IN (0, 1)),
          added_at     INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE sessions (
          username  TEXT    NOT NULL,
          device_id INTEGER NOT NULL,
          record    BLOB    NOT NULL,
          PRIMARY KEY (username, device_id)
        ) STRICT;

        -- kind 'group' and a nullable peer leave room for groups without rebuilding the table.
        CREATE TABLE conversations (
          id           TEXT    PRIMARY KEY,
          kind         TEXT    NOT NULL CHECK (kind IN ('direct', 'group')),
          peer         TEXT,
          created_at   INTEGER NOT NULL,
          updated_at   INTEGER NOT NULL,
          unread_count INTEGER NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
          CHECK ((kind = 'direct') = (peer IS NOT NULL))
        ) STRICT;
        CREATE UNIQUE INDEX conversations_direct_peer ON conversations (peer) WHERE kind = 'direct';
        CREATE INDEX conversations_by_activity ON conversations (updated_at, id);

        -- seq is the rowid: a stable integer key for a later FTS5 external-content index
        -- (content_rowid = 'seq') and the tie-break for messages sent in the same millisecond.
        CREATE TABLE messages (
          seq             INTEGER PRIMARY KEY,
          id              TEXT    NOT NULL UNIQUE,
          conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
          sender          TEXT    NOT NULL,
          outgoing        INTEGER NOT NULL CHECK (outgoing IN (0, 1)),
          text            TEXT    NOT NULL,
          sent_at         INTEGER NOT NULL,
          received_at     INTEGER,
          status          TEXT    NOT NULL CHECK (status IN ('sending', 'sent', 'delivered', 'failed', 'received'))
        ) STRICT;
        -- An index's last key column is always the rowid, so this orders by (sent_at, seq).
        CREATE INDEX messages_by_conversation ON messages (conversation_id, sent_at);

        CREATE TABLE outbox (
          seq                 INTEGER PRIMARY KEY,
          envelope_id         TEXT    NOT NULL UNIQUE,
          message_id          TEXT,
          recipient           TEXT    NOT NULL,
          recipient_device_id INTEGER NOT NULL,
          body                TEXT    NOT NULL,
          created_at          INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX outbox_by_message ON outbox (message_id) WHERE message_id IS NOT NULL;

        CREATE TABLE processed_envelopes (
          id           TEXT    PRIMARY KEY,
          processed_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX processed_envelopes_by_time ON processed_envelopes (processed_at);
      `);
    },
  },
  { version: 2, ...searchMigration },
  { version: 3, ...settingsMigration },
  { version: 4, ...socialMigration },
  { version: 5, ...groupsMigration },
  { version: 6, ...groupReceiptsMigration },
];

/** The schema version this build writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

MIGRATIONS.forEach((m, i) => {
  if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}; versions must be 1, 2, 3, ...`);
});

export function readUserVersion(db: Database): number {
  const v = db.pragma('user_version', { simple: true });
  return typeof v === 'number' ? v : 0;
}

export function newerSchemaError(): StoreError {
  return new StoreError(
    'NEWER_SCHEMA',
    'This profile was created by a newer version of Refuge. Update Refuge to open it; nothing was changed.',
  );
}

/**
 * Brings the database from its user_version up to `target` (default: SCHEMA_VERSION), one
 * transaction per migration. Refuses (without writing) a database newer than SCHEMA_VERSION.
 * Registers signal_tokenizer on the connection (see search-schema.ts). `migrations` is
 * replaceable for tests only.
 */
export function migrate(db: Database, target: number = SCHEMA_VERSION, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations.length;
  if (!Number.isInteger(target) || target < 0 || target > latest) {
    throw new StoreError('INVALID_ARGUMENT', `Unknown schema version ${target}.`);
  }
  if (readUserVersion(db) > latest) throw newerSchemaError();
  // The full-text index (migration 2) tokenizes with signal_tokenizer, which exists only on a
  // connection that registered it; its triggers need it on every later write too.
  db.initTokenizer();
  for (const migration of migrations) {
    if (migration.version > target) break;
    if (readUserVersion(db) >= migration.version) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const current = readUserVersion(db);
      if (current > latest) throw newerSchemaError();
      if (current < migration.version) {
        if (current !== migration.version - 1) throw new Error(`database at version ${current}, expected ${migration.version - 1}`);
        migration.up(db);
        db.exec(`PRAGMA user_version = ${migration.version}`);
      }
      db.exec('COMMIT');
    } catch (error) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // already rolled back by SQLite
      }
      if (error instanceof StoreError) throw error;
      throw new StoreError('MIGRATION_FAILED', `Could not upgrade the database to schema version ${migration.version}; it was left at the previous version.`, {
        cause: error,
      });
    }
  }
}
