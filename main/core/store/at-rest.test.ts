// What is on disk: encrypted pages only; a wrong key or a newer schema leaves the files as they were.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE, openStore, SCHEMA_VERSION, StoreError, type Store } from './index.js';
import { plaintextHits, randomKey, readAll, snapshot, tempProfile } from './test-helpers.js';

let profile: ReturnType<typeof tempProfile>;
beforeEach(() => {
  profile = tempProfile();
});
afterEach(() => profile.cleanup());

const TEXT = '안녕하세요 Bob 👋 unique-marker-123';
const REPLY = 'Hi Alice, this reply is also secret-marker-456';
const SESSION_BYTES = new Uint8Array(Buffer.from('SESSION-STATE-marker-789-with-more-bytes', 'utf8'));

function fill(store: Store): void {
  store.saveAccount({
    username: 'alice_account',
    deviceId: 1,
    serverUrl: 'http://relay.example:8787',
    identity: new Uint8Array(Buffer.from('IDENTITY-PRIVATE-KEY-marker-000', 'utf8')),
    registered: true,
    createdAt: 1,
    nextPrekeyId: 1,
  });
  store.upsertContact({ username: 'bob_the_contact', identityKey: new Uint8Array(32).fill(7), verified: false, addedAt: 1 });
  store.putSession('bob_the_contact', 1, SESSION_BYTES);
  const conv = store.getOrCreateDirectConversation('bob_the_contact', 1);
  store.insertMessage({ id: 'm1', conversationId: conv.id, sender: 'me', outgoing: true, text: TEXT, sentAt: 2, receivedAt: null, status: 'sending' });
  store.insertMessage({ id: 'm2', conversationId: conv.id, sender: 'bob_the_contact', outgoing: false, text: REPLY, sentAt: 3, receivedAt: 4, status: 'received' });
  store.enqueueOutbox([{ envelopeId: 'e1', messageId: 'm1', to: 'bob_the_contact', toDeviceId: 1, body: 'ENVELOPE-BODY-marker-321', createdAt: 2 }]);
}

const SECRETS = [TEXT, REPLY, 'SESSION-STATE-marker-789', 'IDENTITY-PRIVATE-KEY-marker-000', 'bob_the_contact', 'alice_account', 'ENVELOPE-BODY-marker-321', 'relay.example'];

function expectNoPlaintext(dir: string): void {
  const files = readAll(dir);
  expect(files.length).toBeGreaterThan(0);
  const hits = SECRETS.flatMap((secret) => plaintextHits(files, secret));
  expect(hits).toEqual([]);
}

function expectStoreError(fn: () => unknown, code: string): StoreError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StoreError);
  expect((caught as StoreError).code).toBe(code);
  return caught as StoreError;
}

describe('at rest', () => {
  it('opens in WAL mode with in-memory temp storage, secure delete and foreign keys', () => {
    const store = openStore(profile.dir, randomKey());
    expect(store.connectionSettings()).toEqual({ journalMode: 'wal', tempStore: 2, secureDelete: 1, foreignKeys: 1, synchronous: 2 });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.close();
  });

  it('no 8-byte run of any message, key or name appears in the db, WAL or any other file', () => {
    const store = openStore(profile.dir, randomKey());
    fill(store);
    // while open: the data sits in the WAL
    expect(readdirSync(profile.dir).sort()).toEqual([DB_FILE, `${DB_FILE}-shm`, `${DB_FILE}-wal`]);
    expectNoPlaintext(profile.dir);
    store.checkpoint();
    expectNoPlaintext(profile.dir);
    store.close();
    expectNoPlaintext(profile.dir);
    // sanity check of the detector: it does find the text in a plaintext file
    expect(plaintextHits([{ path: 'x', bytes: Buffer.from(`..${TEXT}..`) }], TEXT).length).toBeGreaterThan(0);
  });

  it('reopens with the right key and finds everything', () => {
    const key = randomKey();
    const store = openStore(profile.dir, key);
    fill(store);
    store.close();
    const again = openStore(profile.dir, key);
    expect(again.getMessage('m1')?.text).toBe(TEXT);
    expect(again.getSession('bob_the_contact', 1)).toEqual(SESSION_BYTES);
    again.close();
  });
});

describe('wrong key', () => {
  it('WRONG_KEY, files byte-for-byte unchanged, no key material in the error', () => {
    const key = randomKey();
    const store = openStore(profile.dir, key);
    fill(store);
    store.close();
    const before = snapshot(profile.dir);
    const wrong = randomKey();
    const error = expectStoreError(() => openStore(profile.dir, wrong), 'WRONG_KEY');
    expect(snapshot(profile.dir)).toEqual(before);
    const everything = `${error.message} ${String(error.cause)} ${error.stack ?? ''} ${JSON.stringify(error)}`;
    for (const k of [key, wrong]) {
      expect(everything).not.toContain(Buffer.from(k).toString('hex'));
      expect(everything.toLowerCase()).not.toContain(Buffer.from(k).toString('hex').slice(0, 16));
    }
    // and the right key still works afterwards
    openStore(profile.dir, key).close();
  });

  it('WRONG_KEY leaves a crashed profile (hot WAL) untouched, and the right key then recovers it', () => {
    const key = randomKey();
    const store = openStore(profile.dir, key);
    fill(store);
    // "crash": copy the files while the connection is open and the WAL holds the data
    const crashed = join(profile.dir, 'crashed');
    mkdirSync(crashed);
    for (const name of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]) copyFileSync(join(profile.dir, name), join(crashed, name));
    store.close();
    const before = snapshot(crashed);
    expectStoreError(() => openStore(crashed, randomKey()), 'WRONG_KEY');
    expect(snapshot(crashed)).toEqual(before);
    const recovered = openStore(crashed, key);
    expect(recovered.getMessage('m2')?.text).toBe(REPLY);
    recovered.close();
  });

  it('a file that is not a database at all: WRONG_KEY, untouched', () => {
    const db = new Database(join(profile.dir, DB_FILE)); // plain, unencrypted SQLite
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    db.close();
    const before = snapshot(profile.dir);
    expectStoreError(() => openStore(profile.dir, randomKey()), 'WRONG_KEY');
    expect(snapshot(profile.dir)).toEqual(before);
  });

  it('refuses a key of the wrong length', () => {
    expectStoreError(() => openStore(profile.dir, new Uint8Array(16)), 'INVALID_ARGUMENT');
    expect(readdirSync(profile.dir)).toEqual([]);
  });
});

describe('newer schema', () => {
  it('NEWER_SCHEMA with a clear message, database not modified', () => {
    const key = randomKey();
    const store = openStore(profile.dir, key);
    fill(store);
    store.close();
    const raw = new Database(join(profile.dir, DB_FILE));
    raw.exec(`PRAGMA key = "x'${Buffer.from(key).toString('hex')}'"`);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const before = snapshot(profile.dir);
    const error = expectStoreError(() => openStore(profile.dir, key), 'NEWER_SCHEMA');
    expect(error.message).toMatch(/^This profile was created by a newer version of Refuge/);
    expect(snapshot(profile.dir)).toEqual(before);
  });
});
