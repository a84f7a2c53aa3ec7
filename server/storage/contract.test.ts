// The RelayStorage contract (types.ts), run against both adapters: the SQLite file and PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevice, type TestDevice } from '../testkit.js';
import { createTestDatabase, probeServices, type TestDatabase } from '../services-testkit.js';
import { describeWithServices } from '../describe-services.js';
import { PostgresRelayStorage } from './postgres.js';
import { SqliteRelayStorage } from './sqlite.js';
import type { NewEnvelope, RelayStorage } from './types.js';

const T0 = Date.UTC(2030, 0, 1, 12);
const HOUR = 3_600_000;
const services = await probeServices();

const env = (to: string, body = 'Ym9keQ', toDeviceId = 1): NewEnvelope => ({ id: crypto.randomUUID(), to, toDeviceId, body });

function contract(open: () => Promise<RelayStorage>, close: (s: RelayStorage) => Promise<void>) {
  let storage: RelayStorage;
  const devices = new Map<string, TestDevice>();
  const account = async (name: string, prekeys = { oneTime: 3, kyberOneTime: 3 }) => {
    const device = await makeDevice(name, prekeys);
    expect(await storage.createAccount(name, 1, device.keys, T0)).toEqual({ status: 'created' });
    devices.set(name, device);
    return device;
  };
  const from = (username: string) => ({ username, deviceId: 1 });

  beforeAll(async () => {
    storage = await open();
    for (const name of ['alice', 'bob', 'carol']) await account(name);
  });
  afterAll(async () => {
    await close(storage);
  });

  it('creates accounts once; a retry by the same key re-registers, another key is refused', async () => {
    const alice = devices.get('alice') as TestDevice;
    expect(await storage.createAccount('alice', 1, alice.keys, T0)).toEqual({ status: 'reregistered' });
    const other = await makeDevice('alice');
    expect(await storage.createAccount('alice', 1, other.keys, T0)).toEqual({ status: 'taken' });
    expect(await storage.getDevice(from('alice'))).toEqual({ username: 'alice', deviceId: 1, identityKey: alice.keys.identityKey });
    expect(await storage.getDevice({ username: 'alice', deviceId: 2 })).toBeUndefined();
  });

  it('reports what it stored exactly as pendingEnvelopes reads it back, or nothing if it does not report', async () => {
    await account('dora');
    const batch = [env('dora', 'Zmlyc3Q'), env('nobody'), env('dora', 'c2Vjb25k')];
    const result = await storage.storeEnvelopes(from('alice'), [...batch, batch[0] as NewEnvelope], T0, T0 + HOUR);
    const again = await storage.storeEnvelopes(from('carol'), [batch[2] as NewEnvelope], T0, T0 + HOUR);
    const pending = await storage.pendingEnvelopes(from('dora'), 0, T0, 10);
    await storage.deleteAccount('dora'); // the tests below count every mailbox
    if (!storage.reportsStoredEnvelopes) {
      expect(result.storedEnvelopes).toBeUndefined();
      return;
    }
    expect(result.storedEnvelopes).toEqual(pending.map((e) => ({ ...e, to: 'dora', toDeviceId: 1 })));
    expect(pending.map((e) => e.id)).toEqual([batch[0]?.id, batch[2]?.id]);
    expect(again.storedEnvelopes).toEqual([]); // a duplicate is not reported as stored
  });

  it('stores per recipient device, idempotent per id, and hands a mailbox out in order', async () => {
    const batch = [env('bob'), env('bob'), env('nobody'), env('bob', 'eA', 9)];
    const first = batch[0] as NewEnvelope;
    const result = await storage.storeEnvelopes(from('alice'), [...batch, first], T0, T0 + HOUR);
    expect(result.outcomes).toEqual(['stored', 'stored', 'unknown-recipient', 'unknown-recipient', 'duplicate']);
    expect(result.recipients).toEqual([{ username: 'bob', deviceId: 1, stored: 2 }]);
    const again = await storage.storeEnvelopes(from('carol'), [first], T0, T0 + HOUR);
    expect(again.outcomes).toEqual(['duplicate']);
    expect(again.recipients).toEqual([]);

    const later = [env('bob'), env('bob')];
    await storage.storeEnvelopes(from('carol'), later, T0 + 1, T0 + HOUR);
    const pending = await storage.pendingEnvelopes(from('bob'), 0, T0, 10);
    expect(pending.map((e) => e.id)).toEqual([batch[0]?.id, batch[1]?.id, later[0]?.id, later[1]?.id]);
    expect(pending[0]).toMatchObject({ from: 'alice', fromDeviceId: 1, body: 'Ym9keQ', receivedAt: T0 });
    expect(pending[2]).toMatchObject({ from: 'carol', receivedAt: T0 + 1 });
    // exclude skips ids already pushed; a cursor skips by seq
    expect((await storage.pendingEnvelopes(from('bob'), 0, T0, 10, [batch[0]?.id as string, later[0]?.id as string])).map((e) => e.id)).toEqual([
      batch[1]?.id,
      later[1]?.id,
    ]);
    expect((await storage.pendingEnvelopes(from('bob'), pending[1]?.seq ?? 0, T0, 10)).map((e) => e.id)).toEqual(later.map((e) => e.id));
    expect(await storage.countPending(from('bob'), T0)).toBe(4);
    expect((await storage.existingEnvelopes(from('bob'), [later[0]?.id as string, crypto.randomUUID()])).sort()).toEqual([later[0]?.id]);

    // acks touch only the acking device's own mailbox
    expect(await storage.ackEnvelopes(from('carol'), pending.map((e) => e.id))).toBe(0);
    expect(await storage.ackEnvelopes(from('bob'), pending.map((e) => e.id))).toBe(4);
    expect(await storage.countPending(from('bob'), T0)).toBe(0);
  });

  it('refuses envelopes beyond a mailbox quota (count and bytes); a waiting duplicate is still accepted', async () => {
    const quota = { maxEnvelopes: 3, maxBytes: 1000 };
    const batch = Array.from({ length: 5 }, () => env('carol'));
    const result = await storage.storeEnvelopes(from('alice'), batch, T0, T0 + HOUR, quota);
    expect(result.outcomes).toEqual(['stored', 'stored', 'stored', 'mailbox-full', 'mailbox-full']);
    expect(result.recipients).toEqual([{ username: 'carol', deviceId: 1, stored: 3 }]);
    expect((await storage.storeEnvelopes(from('alice'), [batch[0] as NewEnvelope], T0, T0 + HOUR, quota)).outcomes).toEqual(['duplicate']);
    // another mailbox is not affected
    expect((await storage.storeEnvelopes(from('alice'), [env('bob')], T0, T0 + HOUR, quota)).outcomes).toEqual(['stored']);
    // room again after an ack
    await storage.ackEnvelopes(from('carol'), [batch[0]?.id as string]);
    expect((await storage.storeEnvelopes(from('alice'), [batch[3] as NewEnvelope], T0, T0 + HOUR, quota)).outcomes).toEqual(['stored']);
    // bytes: 600 + 600 > 1000
    const big = [env('bob', 'x'.repeat(600)), env('bob', 'y'.repeat(600))];
    const bytes = await storage.storeEnvelopes(from('alice'), big, T0, T0 + HOUR, { maxEnvelopes: 100, maxBytes: 1000 });
    expect(bytes.outcomes).toEqual(['stored', 'mailbox-full']);
    for (const name of ['bob', 'carol']) {
      const left = await storage.pendingEnvelopes(from(name), 0, T0, 100);
      await storage.ackEnvelopes(from(name), left.map((e) => e.id));
    }
  });

  it('a reader keeping a cursor never skips an envelope, even with concurrent writers (seqOrderedCommits)', async () => {
    expect(storage.seqOrderedCommits).toBe(true);
    const senders = ['alice', 'bob', 'dave_w', 'erin_w', 'frank_w', 'gina_w'];
    for (const name of senders.slice(2)) await account(name);
    const stored: string[] = [];
    const seen: string[] = [];
    let cursor = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        for (const e of await storage.pendingEnvelopes(from('carol'), cursor, T0, 1000)) {
          seen.push(e.id);
          cursor = e.seq;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await Promise.all(
      senders.map(async (name) => {
        for (let i = 0; i < 25; i++) {
          const batch = Array.from({ length: 4 }, () => env('carol'));
          await storage.storeEnvelopes(from(name), batch, T0, T0 + HOUR);
          stored.push(...batch.map((e) => e.id));
        }
      }),
    );
    writing = false;
    await reader;
    for (const e of await storage.pendingEnvelopes(from('carol'), cursor, T0, 1000)) seen.push(e.id);
    expect(seen.sort()).toEqual(stored.sort());
    const left = await storage.pendingEnvelopes(from('carol'), 0, T0, 1000);
    await storage.ackEnvelopes(from('carol'), left.map((e) => e.id));
  });

  it('never returns an expired envelope; purge deletes it', async () => {
    const old = env('bob');
    const fresh = env('bob');
    await storage.storeEnvelopes(from('alice'), [old], T0, T0 + HOUR);
    await storage.storeEnvelopes(from('alice'), [fresh], T0 + HOUR, T0 + 2 * HOUR);
    expect((await storage.pendingEnvelopes(from('bob'), 0, T0 + HOUR, 10)).map((e) => e.id)).toEqual([fresh.id]);
    expect(await storage.countAllPending(T0 + HOUR)).toBe(1);
    expect(await storage.purgeExpired(T0 + HOUR)).toBe(1);
    expect(await storage.purgeExpired(T0 + 2 * HOUR)).toBe(1);
    expect(await storage.countPending(from('bob'), 0)).toBe(0);
  });

  it('hands each one-time prekey out once under concurrent fetches', async () => {
    await account('dave', { oneTime: 20, kyberOneTime: 20 });
    const results = await Promise.all(Array.from({ length: 30 }, () => storage.takeBundles('dave')));
    const otp = results.map((r) => r?.[0]?.oneTimePrekey?.id).filter((id) => id !== undefined);
    const kyber = results.map((r) => r?.[0]?.kyberPrekey).filter((k) => k && !k.lastResort);
    expect(otp).toHaveLength(20);
    expect(new Set(otp).size).toBe(20);
    expect(new Set(kyber.map((k) => k?.id)).size).toBe(20);
    expect(await storage.takeBundles('nobody_here')).toBeUndefined();
  });

  it('deletes an account with its devices, prekeys and mailbox; the name can be registered again', async () => {
    const erin = await account('erin', { oneTime: 5, kyberOneTime: 5 });
    await storage.storeEnvelopes(from('alice'), [env('erin'), env('erin')], T0, T0 + HOUR);
    expect(await storage.deleteAccount('erin')).toEqual([{ username: 'erin', deviceId: 1 }]);
    expect(await storage.deleteAccount('erin')).toBeUndefined();
    expect(await storage.getDevice(from('erin'))).toBeUndefined();
    expect(await storage.takeBundles('erin')).toBeUndefined();
    expect(await storage.countPending(from('erin'), T0)).toBe(0);
    expect(await storage.countAllPending(T0)).toBe(0);
    expect((await storage.storeEnvelopes(from('alice'), [env('erin')], T0, T0 + HOUR)).outcomes).toEqual(['unknown-recipient']);
    const again = await makeDevice('erin', { oneTime: 1, kyberOneTime: 0 });
    expect(await storage.createAccount('erin', 1, again.keys, T0)).toEqual({ status: 'created' });
    expect(await storage.prekeyCounts(from('erin'))).toEqual({ oneTimePrekeys: 1, kyberOneTimePrekeys: 0 });
    expect(erin.keys.identityKey).not.toBe(again.keys.identityKey);
  });

  it('answers ping and scrub', async () => {
    await storage.ping();
    expect(await storage.scrub()).toBe(true);
  });
}

describe('SQLite storage', () => {
  let dir = '';
  contract(
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'refuge-storage-'));
      return new SqliteRelayStorage(dir);
    },
    async (s) => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  );
});

describeWithServices(services, 'PostgreSQL storage', () => {
  let db: TestDatabase;
  contract(
    async () => {
      db = await createTestDatabase();
      // two nodes starting at once: the migration runs once, both open
      const [a, b] = await Promise.all([
        PostgresRelayStorage.open({ connectionString: db.url, schema: 'relay_a' }),
        PostgresRelayStorage.open({ connectionString: db.url, schema: 'relay_a' }),
      ]);
      await b.close();
      return a;
    },
    async (s) => {
      // the per-mailbox counters the quota reads agree with the mailboxes themselves, after all of the above
      const waiting = [env('bob', 'abc'), env('bob', 'defg'), env('carol', 'hi')];
      await s.storeEnvelopes({ username: 'alice', deviceId: 1 }, waiting, T0, T0 + HOUR);
      await s.ackEnvelopes({ username: 'bob', deviceId: 1 }, [waiting[0]?.id as string]);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows: bob } = await client.query(
          "SELECT m.envelopes, m.bytes FROM relay_a.mailboxes m JOIN relay_a.devices d ON d.id = m.device JOIN relay_a.accounts a ON a.id = d.account_id WHERE a.username = 'bob'",
        );
        expect(bob).toEqual([{ envelopes: '1', bytes: '4' }]);
        const { rows } = await client.query(
          `SELECT m.envelopes AS counted, coalesce(e.n, 0) AS actual, m.bytes AS counted_bytes, coalesce(e.b, 0) AS actual_bytes
           FROM relay_a.mailboxes m
           LEFT JOIN (SELECT device, count(*) AS n, sum(size) AS b FROM relay_a.envelopes GROUP BY device) e ON e.device = m.device`,
        );
        const { rows: uncounted } = await client.query(
          'SELECT DISTINCT device FROM relay_a.envelopes WHERE device NOT IN (SELECT device FROM relay_a.mailboxes)',
        );
        expect(rows.filter((r) => String(r.counted) !== String(r.actual) || String(r.counted_bytes) !== String(r.actual_bytes))).toEqual([]);
        expect(uncounted).toEqual([]);
      } finally {
        await client.end();
        await s.close();
        await db.drop();
      }
    },
  );
});

describe('SQLite schema v1 -> v2', () => {
  // The schema the first relay release wrote (user_version 1).
  const V1 = `
CREATE TABLE accounts (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE devices (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), device_id INTEGER NOT NULL,
  identity_key TEXT NOT NULL, signed_prekey_id INTEGER NOT NULL, signed_prekey TEXT NOT NULL, signed_prekey_sig TEXT NOT NULL,
  kyber_lr_id INTEGER NOT NULL, kyber_lr TEXT NOT NULL, kyber_lr_sig TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (account_id, device_id));
CREATE TABLE one_time_prekeys (device INTEGER NOT NULL REFERENCES devices(id), key_id INTEGER NOT NULL, public_key TEXT NOT NULL, PRIMARY KEY (device, key_id)) WITHOUT ROWID;
CREATE TABLE kyber_prekeys (device INTEGER NOT NULL REFERENCES devices(id), key_id INTEGER NOT NULL, public_key TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (device, key_id)) WITHOUT ROWID;
CREATE TABLE envelopes (seq INTEGER PRIMARY KEY AUTOINCREMENT, device INTEGER NOT NULL, id TEXT NOT NULL, sender TEXT NOT NULL, sender_device INTEGER NOT NULL,
  body TEXT NOT NULL, received_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, UNIQUE (device, id));
CREATE INDEX envelopes_by_device ON envelopes (device, seq);
CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);
INSERT INTO accounts VALUES (1, 'alice', ${T0}), (2, 'bob', ${T0 + 5 * HOUR});
INSERT INTO devices VALUES (1, 1, 1, 'ik-a', 7, 'spk-a', 'sig-a', 8, 'lr-a', 'lrsig-a', ${T0}), (2, 2, 1, 'ik-b', 7, 'spk-b', 'sig-b', 8, 'lr-b', 'lrsig-b', ${T0 + 5 * HOUR});
INSERT INTO one_time_prekeys VALUES (2, 100, 'otp-b');
INSERT INTO kyber_prekeys VALUES (2, 200, 'kpk-b', 'ksig-b');
INSERT INTO envelopes (device, id, sender, sender_device, body, received_at, expires_at) VALUES
  (2, 'e1', 'alice', 1, 'Ym9keTE', ${T0 + 6 * HOUR}, ${T0 + 78 * HOUR}), (2, 'e2', 'alice', 1, 'Ym9keTI', ${T0 + 6 * HOUR}, ${T0 + 78 * HOUR});
DELETE FROM envelopes WHERE id = 'e1';
PRAGMA user_version = 1;
`;

  it('keeps accounts, keys and waiting envelopes; drops every timestamp but the creation day', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refuge-migrate-'));
    try {
      const { default: Database } = await import('@signalapp/sqlcipher');
      const old = new Database(join(dir, 'relay.sqlite'));
      old.exec(V1);
      old.close();

      const storage = new SqliteRelayStorage(dir);
      const bob = { username: 'bob', deviceId: 1 };
      expect(await storage.getDevice(bob)).toEqual({ ...bob, identityKey: 'ik-b' });
      expect((await storage.pendingEnvelopes(bob, 0, T0, 10)).map((e) => [e.id, e.from, e.body])).toEqual([['e2', 'alice', 'Ym9keTI']]);
      const [bundle] = (await storage.takeBundles('bob')) ?? [];
      expect(bundle?.oneTimePrekey).toEqual({ id: 100, publicKey: 'otp-b' });
      // new envelopes queue after the migrated ones
      await storage.storeEnvelopes({ username: 'alice', deviceId: 1 }, [{ id: 'e3', to: 'bob', toDeviceId: 1, body: 'Ym9keTM' }], T0, T0 + HOUR);
      expect((await storage.pendingEnvelopes(bob, 0, T0, 10)).map((e) => e.id)).toEqual(['e2', 'e3']);
      expect(await storage.deleteAccount('bob')).toEqual([bob]); // cascades now
      await storage.close();

      const db = new Database(join(dir, 'relay.sqlite'));
      try {
        expect(db.pragma('user_version', { simple: true })).toBe(2);
        expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
        expect(db.prepare('SELECT username, created_day FROM accounts').all()).toEqual([{ username: 'alice', created_day: '2030-01-01' }]);
        const columns = (table: string) => (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as Array<{ name: string }>).map((c) => c.name);
        expect(columns('devices')).not.toContain('created_at');
        expect(columns('accounts')).not.toContain('created_at');
        // the lifetime envelope counter of AUTOINCREMENT is gone (table dropped, or at least empty)
        const counter = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'sqlite_sequence'").get();
        if (Number(counter?.n) > 0) expect(db.prepare('SELECT COUNT(*) AS n FROM sqlite_sequence').get()).toEqual({ n: 0 });
        expect(db.prepare('SELECT COUNT(*) AS n FROM envelopes').get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithServices(services, 'PostgreSQL schema v1 -> v2', () => {
  it('adds the mailbox counters, filled from the envelopes already waiting', async () => {
    const db = await createTestDatabase();
    try {
      const first = await PostgresRelayStorage.open({ connectionString: db.url, schema: 'relay_m' });
      const bob = await makeDevice('bob');
      await first.createAccount('bob', 1, bob.keys, T0);
      await first.storeEnvelopes({ username: 'alice', deviceId: 1 }, [env('bob', 'abc'), env('bob', 'de')], T0, T0 + HOUR);
      await first.close();
      // back to what a v1 relay left behind
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query("DROP TABLE relay_m.mailboxes; UPDATE relay_m.meta SET value = '1' WHERE key = 'schema_version'");
        const again = await PostgresRelayStorage.open({ connectionString: db.url, schema: 'relay_m' });
        await again.close();
        expect((await client.query('SELECT envelopes, bytes FROM relay_m.mailboxes')).rows).toEqual([{ envelopes: '2', bytes: '5' }]);
        expect((await client.query("SELECT value FROM relay_m.meta WHERE key = 'schema_version'")).rows).toEqual([{ value: '2' }]);
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
    }
  });
});
