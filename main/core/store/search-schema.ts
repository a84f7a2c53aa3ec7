// Schema of issue 5: the full-text index of messages (migration 2) and the settings table
// (migration 3). Appended to MIGRATIONS in migrations.ts; never edit a shipped migration.
import type Database from '@signalapp/sqlcipher';
import type { Migration } from './migrations.js';
import { emojiTerms } from './search-text.js';

/**
 * The FTS `meta` column of a message row (`r` is `new`, `old` or a table alias): the
 * conversation term and the emoji terms. search-text.ts conversationTerm() must agree.
 */
function metaOf(r: string): string {
  return `'c' || hex(substr(${r}.conversation_id, 1, 8)) || ' ' || coalesce(${r}.search_terms, '')`;
}

/**
 * Migration 2. messages_fts is an external-content FTS5 table over the view
 * messages_search_source: the text is stored once (in messages), the index holds only terms.
 * - tokenize signal_tokenizer: Unicode word segmentation, case folding, no diacritics, CJK per
 *   character (Korean stays whole words, so prefix queries find words with particles).
 * - prefix '2 3 4 5 6': prefix indexes, so what a user has typed so far does not expand to
 *   thousands of terms at query time. The tokenizer decomposes Hangul into jamo, so a Korean
 *   syllable is 2-3 characters: these lengths cover 1-2 syllables (up to 3 without final
 *   consonants) and English prefixes up to 6 letters. Measured on 1,000,000 messages: Korean
 *   prefix queries 5-10x faster for about twice the index size (bench/scenarios/search.ts).
 * - secure-delete: a deleted message's terms are removed from the index pages, not just
 *   marked deleted.
 * Triggers keep the index in the same transaction as every write to messages, whoever
 * writes it. search_terms (emoji) is computed in JS: NULL means "not yet" and is filled in by
 * fillSearchTerms (here for existing rows, and by openStore for rows bulk-written since).
 */
export const searchMigration: Omit<Migration, 'version'> = {
  description: 'full-text search: messages.search_terms, messages_fts (FTS5, signal_tokenizer) and its triggers',
  up(db) {
    db.exec(`
      ALTER TABLE messages ADD COLUMN search_terms TEXT;
      CREATE INDEX messages_search_terms_pending ON messages (seq) WHERE search_terms IS NULL;
    `);
    fillSearchTerms(db);
    db.exec(`
      CREATE VIEW messages_search_source AS
        SELECT m.seq AS seq, m.text AS text, ${metaOf('m')} AS meta FROM messages m;

      CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, meta,
        content = 'messages_search_source', content_rowid = 'seq',
        tokenize = 'signal_tokenizer', prefix = '2 3 4 5 6'
      );
      INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);

      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text, meta) VALUES (new.seq, new.text, ${metaOf('new')});
      END;
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text, meta) VALUES ('delete', old.seq, old.text, ${metaOf('old')});
      END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, conversation_id, search_terms ON messages
        WHEN old.text IS NOT new.text OR old.conversation_id IS NOT new.conversation_id
          OR coalesce(old.search_terms, '') IS NOT coalesce(new.search_terms, '')
      BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text, meta) VALUES ('delete', old.seq, old.text, ${metaOf('old')});
        INSERT INTO messages_fts (rowid, text, meta) VALUES (new.seq, new.text, ${metaOf('new')});
      END;

      INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
    `);
  },
};

/** Migration 3: user settings (service/settings.ts), one JSON value per key. */
export const settingsMigration: Omit<Migration, 'version'> = {
  description: 'settings',
  up(db) {
    db.exec(`
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};

const FILL_BATCH = 2000;

/**
 * Computes messages.search_terms where it is NULL (rows from before migration 2, or written by
 * a bulk writer that does not know the column). Call inside a transaction, or accept that it
 * commits per statement. Returns how many rows were filled.
 */
export function fillSearchTerms(db: Database): number {
  const select = db.prepare('SELECT seq, text FROM messages WHERE search_terms IS NULL ORDER BY seq LIMIT ?', { persistent: false });
  const update = db.prepare('UPDATE messages SET search_terms = ? WHERE seq = ?', { persistent: false });
  let filled = 0;
  try {
    for (;;) {
      const rows = select.all([FILL_BATCH]);
      if (rows.length === 0) return filled;
      for (const row of rows) {
        const text = row['text'];
        const seq = row['seq'];
        if (typeof seq !== 'number') throw new TypeError('store: messages.seq is not an integer');
        update.run([emojiTerms(typeof text === 'string' ? text : ''), seq]);
      }
      filled += rows.length;
    }
  } finally {
    select.close();
    update.close();
  }
}
