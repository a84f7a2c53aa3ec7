// The subpoena test: what a relay operator could hand over after a delivered conversation. The
// relay's whole storage is dumped table by table (and key by key in Redis), and its raw files or
// pages are searched byte by byte: no envelope, no message text, nothing pairing sender and
// recipient, no time beyond an account's creation day, no network address. An envelope nobody
// fetched is gone the same way once the retention window has passed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../shared/encoding/base64url.js';
import type { RelayClient } from '../shared/sync/client.js';
import { type RelayHandle, startRelay } from './relay.js';
import { createTestDatabase, dumpRedis, probeServices, REDIS_URL, redisPrefix, type TestDatabase } from './services-testkit.js';
import { describeWithServices } from './describe-services.js';
import { authDevice, envelope, type Inbox, makeDevice, registerDevice, startTestRelay, type TestDevice, type TestRelay } from './testkit.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 5, 1, 9, 30);
const services = await probeServices();

type Row = Record<string, unknown>;
type Dump = Record<string, Row[]>;

interface Deployment {
  /** relay URL each user connects to (alice and bob on different nodes in a cluster) */
  urlFor(user: string): string;
  dump(): Promise<Dump>;
  /** which of `needles` appear anywhere in the storage's raw bytes */
  rawHits(needles: string[]): Promise<string[]>;
  redis?(): Promise<Map<string, string>>;
  purge(): Promise<void>;
  scrub(): Promise<void>;
  logs: string[];
}

const json = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** Accounts referenced by a row: by username, by account id (devices.account_id) or by device row id (`device`). */
function referencedAccounts(table: string, row: Row, accounts: Map<string, number>, deviceOwner: Map<number, string>): Set<string> {
  const refs = new Set<string>();
  for (const [column, value] of Object.entries(row)) {
    if (typeof value === 'string' && accounts.has(value) && column !== 'username') refs.add(value);
    if (table === 'accounts' && column === 'username' && typeof value === 'string') refs.add(value);
    const n = Number(value);
    if (column === 'account_id') for (const [name, id] of accounts) if (id === n) refs.add(name);
    if (column === 'device' || (table === 'devices' && column === 'id')) {
      const owner = deviceOwner.get(n);
      if (owner) refs.add(owner);
    }
  }
  return refs;
}

function audit(dump: Dump, users: string[]) {
  const accounts = new Map<string, number>();
  for (const row of dump.accounts ?? []) accounts.set(String(row.username), Number(row.id));
  const deviceOwner = new Map<number, string>();
  for (const row of dump.devices ?? []) {
    const owner = [...accounts].find(([, id]) => id === Number(row.account_id))?.[0];
    if (owner) deviceOwner.set(Number(row.id), owner);
  }
  const pairs: string[] = [];
  for (const [table, rows] of Object.entries(dump)) {
    for (const row of rows) {
      const refs = referencedAccounts(table, row, accounts, deviceOwner);
      const named = users.filter((u) => refs.has(u));
      if (named.length > 1) pairs.push(`${table}: ${json(row).slice(0, 200)}`);
    }
  }
  return { accounts, pairs };
}

function scenario(setup: () => Promise<Deployment>, teardown: () => Promise<void>) {
  let d: Deployment;
  let alice: TestDevice;
  let bob: TestDevice;
  let carol: TestDevice;
  const bodies: string[] = [];
  const ids: string[] = [];
  const open: RelayClient[] = [];

  beforeAll(async () => {
    clock = T0;
    d = await setup();
    alice = await makeDevice('alice');
    bob = await makeDevice('bob');
    carol = await makeDevice('carol');
    for (const device of [alice, bob, carol]) (await registerDevice(d.urlFor(device.username), device)).close();
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await teardown();
  });

  const text = (i: number, who: string) => toBase64url(new TextEncoder().encode(`SUBPOENA ${who} message ${i}: meet at the usual place`));

  async function converse(from: TestDevice, to: TestDevice, count: number, inbox: Inbox, reader: RelayClient) {
    const sender = await authDevice(d.urlFor(from.username), from);
    open.push(sender.client);
    const batch = Array.from({ length: count }, (_, i) => envelope(to.username, text(i, from.username)));
    for (const e of batch) {
      bodies.push(e.body);
      ids.push(e.id);
    }
    expect((await sender.client.sendEnvelopes(batch)).every((r) => r.accepted)).toBe(true);
    let received = 0;
    while (received < count) {
      const got = await inbox.nextBatch();
      received += got.envelopes.length;
      await reader.ack(got.envelopes.map((e) => e.id));
    }
    sender.client.close();
  }

  it('after a delivered two-way conversation, the dump holds no envelope, no text, no pairing, no time, no address', async () => {
    const b = await authDevice(d.urlFor('bob'), bob);
    const a = await authDevice(d.urlFor('alice'), alice);
    open.push(a.client, b.client);
    await Promise.all([a.inbox.drained(), b.inbox.drained()]);
    await converse(alice, bob, 20, b.inbox, b.client);
    await converse(bob, alice, 20, a.inbox, a.client);
    await Promise.all([a.inbox.drained(), b.inbox.drained()]);
    a.client.close();
    b.client.close();

    const before = await d.rawHits(bodies);
    await d.scrub();
    const dump = await d.dump();
    const flat = json(dump);

    // what the relay holds: accounts (name, creation day), devices (public keys), unused prekeys
    expect(Object.keys(dump).sort()).toEqual(expect.arrayContaining(['accounts', 'devices', 'envelopes', 'kyber_prekeys', 'one_time_prekeys']));
    expect(dump.envelopes).toEqual([]);
    for (const row of dump.accounts ?? []) {
      expect(Object.keys(row).sort()).toEqual(['created_day', 'id', 'username']);
      expect(row.created_day).toBe('2030-06-01');
    }
    for (const b of bodies) expect(flat.includes(b)).toBe(false);
    for (const id of ids) expect(flat.includes(id)).toBe(false);
    expect(flat).not.toMatch(/meet at the usual place/);
    const { pairs } = audit(dump, ['alice', 'bob', 'carol']);
    expect(pairs).toEqual([]);
    // no timestamps (last connection, delivery time...): no number anywhere near the relay's clock
    const times = flat.match(/\d{13}/g)?.filter((n) => Math.abs(Number(n) - T0) < 30 * 24 * HOUR) ?? [];
    expect(times).toEqual([]);
    expect(flat).not.toMatch(/127\.0\.0\.1|::1|::ffff:/);

    // and byte by byte: the storage's files or pages hold none of the envelopes any more
    expect(await d.rawHits(bodies)).toEqual([]);
    // The check can see them: before the scrub, deleted rows were still in the files (SQLite's WAL,
    // PostgreSQL's dead tuples), which is why the relay scrubs on a schedule.
    expect(before.length).toBeGreaterThan(0);

    if (d.redis) {
      const keys = await d.redis();
      const redisText = json([...keys]);
      for (const word of ['alice', 'bob', 'carol', ...bodies.slice(0, 5), ...ids.slice(0, 5)]) expect(redisText.includes(word), word).toBe(false);
    }

    // logs: no usernames, envelope ids, bodies or addresses
    const logText = d.logs.join('\n');
    for (const word of ['alice', 'bob', '127.0.0.1', ...ids, ...bodies]) expect(logText.includes(word), word).toBe(false);
  });

  it('an envelope nobody fetched pairs sender and recipient only until the retention window ends, then it is gone', async () => {
    const sender = await authDevice(d.urlFor('alice'), alice);
    open.push(sender.client);
    const undelivered = envelope('carol', text(99, 'alice'));
    await sender.client.sendEnvelopes([undelivered]);
    sender.client.close();

    // while queued, the row is what the relay must keep to deliver it (see docs/DEPLOY.md)
    const queued = await d.dump();
    expect(queued.envelopes).toHaveLength(1);
    expect(audit(queued, ['alice', 'carol']).pairs).toHaveLength(1);

    clock += 72 * HOUR + 1;
    await d.purge();
    await d.scrub();
    const after = await d.dump();
    expect(after.envelopes).toEqual([]);
    expect(audit(after, ['alice', 'bob', 'carol']).pairs).toEqual([]);
    expect(json(after).includes(undelivered.body)).toBe(false);
    expect(await d.rawHits([undelivered.body])).toEqual([]);
  });
}

let clock = T0;

function captureLogs(lines: string[]) {
  // debug level: everything the relay could say, without --log-ip
  return pino({ level: 'debug', base: undefined }, { write: (line: string) => void lines.push(line) });
}

describe('subpoena: embedded SQLite relay', () => {
  let relay: TestRelay;
  const logs: string[] = [];
  scenario(
    async () => {
      relay = await startTestRelay({ now: () => clock, logger: captureLogs(logs), scrubIntervalMs: 0, purgeIntervalMs: 3_600_000 });
      const path = join(relay.dataDir, 'relay.sqlite');
      return {
        urlFor: () => relay.url,
        logs,
        async dump() {
          // a second connection, as someone copying the file from the running server would see it
          const db = new Database(path);
          try {
            const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Row[];
            const out: Dump = {};
            for (const t of tables) out[String(t.name)] = db.prepare(`SELECT * FROM "${String(t.name)}"`).all() as Row[];
            return out;
          } finally {
            db.close();
          }
        },
        async rawHits(needles) {
          const files = readdirSync(relay.dataDir).map((f) => readFileSync(join(relay.dataDir, f)));
          return needles.filter((n) => files.some((bytes) => bytes.includes(Buffer.from(n))));
        },
        purge: async () => void (await relay.purgeExpired()),
        scrub: async () => void (await relay.scrub()),
      };
    },
    async () => {
      await relay.dispose();
    },
  );
});

describeWithServices(services, 'subpoena: cluster of two relays on PostgreSQL and Redis', () => {
  let db: TestDatabase;
  let redis: ReturnType<typeof redisPrefix>;
  const relays: RelayHandle[] = [];
  const logs: string[] = [];
  const schema = 'refuge';
  let client: pg.Client;
  scenario(
    async () => {
      db = await createTestDatabase();
      redis = redisPrefix();
      for (let i = 0; i < 2; i++) {
        relays.push(
          await startRelay({
            postgres: { connectionString: db.url, schema },
            redis: { url: REDIS_URL, prefix: redis.prefix },
            now: () => clock,
            logger: captureLogs(logs),
            scrubIntervalMs: 0,
            purgeIntervalMs: 3_600_000,
          }),
        );
      }
      const [nodeA, nodeB] = relays as [RelayHandle, RelayHandle];
      // dates as text ('2030-06-01'), the way a dump shows them
      const types = { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 1082 ? (v: string) => v : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser };
      client = new pg.Client({ connectionString: db.url, types });
      client.on('error', () => {});
      await client.connect();
      await client.query('CREATE EXTENSION IF NOT EXISTS pageinspect');
      return {
        urlFor: (user) => (user === 'bob' ? nodeB.url : nodeA.url),
        logs,
        async dump() {
          const { rows: tables } = await client.query<{ table_name: string }>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
            [schema],
          );
          const out: Dump = {};
          for (const t of tables) out[t.table_name] = (await client.query(`SELECT * FROM "${schema}"."${t.table_name}"`)).rows as Row[];
          return out;
        },
        async rawHits(needles) {
          // every page of every table, TOAST table and index of the schema, read raw (dead tuples and free space included)
          const { rows: rels } = await client.query<{ oid: string }>(
            `SELECT c.oid::regclass::text AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = $1 AND c.relkind IN ('r', 'i', 't')
             UNION SELECT t.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = c.reltoastrelid
               WHERE n.nspname = $1
             UNION SELECT i.indexrelid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index i ON i.indrelid = c.reltoastrelid
               WHERE n.nspname = $1`,
            [schema],
          );
          const hits = new Set<string>();
          for (const { oid } of rels) {
            const { rows } = await client.query<{ blocks: string }>('SELECT pg_relation_size($1::regclass) / 8192 AS blocks', [oid]);
            for (let block = 0; block < Number(rows[0]?.blocks ?? 0); block++) {
              const page = (await client.query<{ p: Buffer }>('SELECT get_raw_page($1, $2) AS p', [oid, block])).rows[0]?.p;
              if (!page) continue;
              for (const n of needles) if (page.includes(Buffer.from(n))) hits.add(n);
            }
          }
          await client.query('CHECKPOINT');
          return needles.filter((n) => hits.has(n));
        },
        redis: () => dumpRedis(redis.prefix),
        purge: async () => void (await nodeA.purgeExpired()),
        async scrub() {
          expect(await nodeB.scrub()).toBe(true);
        },
      };
    },
    async () => {
      await client?.end().catch(() => {});
      for (const r of relays) await r.close();
      await db.drop();
      await redis.cleanup();
    },
  );
});
