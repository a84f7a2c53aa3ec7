// The export's header announces how many messages follow, and the sealing worker counts them on
// its own connection while the main thread reads. These tests hold that count to the export's
// own snapshot: no commit can land between the two snapshots, a message written during an export
// is neither announced nor restored, and a worker that cannot count leaves it to the export.
import Database from '@signalapp/sqlcipher';
import { rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, DB_FILE } from '../store/index.js';
import { BackupSnapshot } from '../store/backup-io.js';
import { exportBackup, importBackup } from './index.js';
import { BackupWriter } from './stream.js';
import { makeSourceProfile, protector, tempRoot, TEST_PARAMS, type SourceProfile } from './test-support.js';

const PASS = 'snapshot test passphrase';
let root: string;
let source: SourceProfile;
let n = 0;

beforeAll(async () => {
  root = tempRoot('snapshot');
  source = await makeSourceProfile(join(root, 'source'), { messages: 40 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A second connection to the profile that never waits for a lock (busy at once). */
function impatientConnection(): Database {
  const db = new Database(join(source.dir, DB_FILE));
  db.exec(`PRAGMA key = "x'${Buffer.from(source.key).toString('hex')}'"`);
  db.exec('PRAGMA cipher_compatibility = 4');
  db.exec('PRAGMA busy_timeout = 0');
  return db;
}

function messageCount(): number {
  const store = openStore(source.dir, source.key);
  try {
    return Number(store.connection().prepare('SELECT count(*) FROM messages', { pluck: true }).get());
  } finally {
    store.close();
  }
}

describe('the message count in the header', () => {
  it('no writer can commit while the twin snapshot starts, and can again right after', () => {
    const writer = impatientConnection();
    try {
      let blocked: unknown = null;
      const { snapshot, twin } = BackupSnapshot.openWithTwin(source.dir, source.key, () => {
        try {
          writer.exec('BEGIN IMMEDIATE');
          writer.exec('ROLLBACK');
        } catch (error) {
          blocked = error;
        }
        return 'started';
      });
      snapshot.close();
      expect(twin).toBe('started');
      expect(String(blocked)).toMatch(/SQLITE_BUSY|locked/i);
      writer.exec('BEGIN IMMEDIATE');
      writer.exec('ROLLBACK');
    } finally {
      writer.close();
    }
  });

  it('a message stored while the export runs is neither announced nor restored', async () => {
    const before = messageCount();
    const out = join(root, `during-${++n}.refuge-backup`);
    let calls = 0;
    const result = await exportBackup({
      profileDir: source.dir,
      key: source.key,
      out,
      passphrase: PASS,
      params: TEST_PARAMS,
      check: () => {
        // The first call comes before the snapshot, the next ones between message pages.
        if (++calls !== 2) return;
        const store = openStore(source.dir, source.key);
        try {
          const conversationId = source.conversationIds[0] ?? '';
          store.insertMessage({ id: `late-${n}`, conversationId, sender: 'alice', outgoing: true, text: 'written during the export', sentAt: Date.now(), receivedAt: null, status: 'sent' });
        } finally {
          store.close();
        }
      },
    });
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(messageCount()).toBe(before + 1);
    expect(result.messages).toBe(before);
    const restored = await importBackup({ profileDir: join(root, `restored-${n}`), input: out, passphrase: PASS, protector: protector('restored') });
    expect(restored.messages).toBe(before);
  });

  it('the worker counts the snapshot it was given, and with a wrong key leaves the count to the export', async () => {
    const handle = await open(join(root, `count-${++n}.refuge-backup`), 'wx');
    try {
      const writer = await BackupWriter.create(handle, { passphrase: PASS, params: TEST_PARAMS });
      try {
        const wrongKey = new Uint8Array(32).fill(7);
        expect(writer.startMessageCount(join(source.dir, DB_FILE), wrongKey)).toBeNull();
        const counted = writer.startMessageCount(join(source.dir, DB_FILE), source.key);
        expect(counted).not.toBeNull();
        expect(await counted).toBe(messageCount());
      } finally {
        await writer.settle();
      }
    } finally {
      await handle.close();
    }
  });
});
