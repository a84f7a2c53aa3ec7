// SyncEngine against a real relay (port 0, temp dir) with an in-memory core.
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../server/relay.js';
import { authDevice, envelope, makeDevice, registerDevice, startTestRelay, type TestDevice, type TestRelay } from '../../server/testkit.js';
import type { RefugeError } from '../ipc/contract.js';
import { SyncEngine, type SyncEngineOptions, type SyncEvents, type SyncState } from './engine.js';
import { FakeCore } from './testing.js';

let relay: TestRelay;
let alice: TestDevice;
let bob: TestDevice;
const engines: SyncEngine[] = [];

beforeAll(async () => {
  relay = await startTestRelay();
  alice = await makeDevice('alice');
  bob = await makeDevice('bob');
  for (const d of [alice, bob]) (await registerDevice(relay.url, d)).close();
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
  // leave bob's mailbox empty for the next test
  const core = new FakeCore('bob', bob.sign);
  await newEngine(core).drain({ failFast: false });
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});
afterAll(async () => {
  await relay.dispose();
});

function newEngine(core: FakeCore, options: Partial<SyncEngineOptions> = {}): SyncEngine {
  const engine = new SyncEngine({
    serverUrl: relay.url,
    core,
    backoff: { initialMs: 5, maxMs: 50 },
    timeoutMs: 5000,
    connectTimeoutMs: 5000,
    ...options,
  });
  engines.push(engine);
  return engine;
}

function next<K extends keyof SyncEvents>(engine: SyncEngine, event: K, match: (p: SyncEvents[K]) => boolean = () => true): Promise<SyncEvents[K]> {
  return new Promise((resolve) => {
    const off = engine.on(event, (payload) => {
      if (!match(payload)) return;
      off();
      resolve(payload);
    });
  });
}

async function sendFromAlice(count: number): Promise<string[]> {
  const client = await registerDevice(relay.url, alice);
  const envs = Array.from({ length: count }, () => envelope('bob'));
  for (let i = 0; i < envs.length; i += 500) await client.sendEnvelopes(envs.slice(i, i + 500));
  client.close();
  return envs.map((e) => e.id);
}

const bobPending = () => relay.storage.countPending({ username: 'bob', deviceId: 1 }, Date.now());

describe('SyncEngine', () => {
  it('connects, authenticates and drains an empty mailbox; reports states', async () => {
    const core = new FakeCore('bob', bob.sign);
    const engine = newEngine(core);
    const states: SyncState[] = [];
    engine.on('state', (s) => states.push(s));
    await engine.drain();
    expect(engine.state).toBe('online');
    await engine.stop();
    expect(states).toEqual(['connecting', 'online', 'offline']);
    expect(core.receiveCalls).toEqual([]);
  });

  it('receives a backlog batch by batch (never two at once), acks everything the core stored', async () => {
    const ids = await sendFromAlice(450);
    const core = new FakeCore('bob', bob.sign);
    const engine = newEngine(core);
    const received: string[] = [];
    engine.on('received', (results) => received.push(...results.map((r) => r.id)));
    await engine.drain();
    expect(core.receiveCalls.length).toBeGreaterThanOrEqual(3);
    expect(core.maxConcurrent).toBe(1);
    expect(received).toEqual(ids);
    expect([...core.stored.keys()]).toEqual(ids);
    expect(core.stored.get(ids[0]!)).toMatchObject({ from: 'alice', fromDeviceId: 1 });
    expect(await bobPending()).toBe(0);
  });

  it('acks only the ids the core returned; the rest are redelivered', async () => {
    const ids = await sendFromAlice(4);
    const core = new FakeCore('bob', bob.sign);
    core.select = (results) => results.filter((r) => r.id === ids[0] || r.id === ids[2]);
    const engine = newEngine(core);
    const received = next(engine, 'received');
    engine.start();
    await received;
    await engine.stop(); // waits for the batch (and its ack) to finish
    const left = await relay.storage.pendingEnvelopes({ username: 'bob', deviceId: 1 }, 0, Date.now(), 10);
    expect(left.map((e) => e.id)).toEqual([ids[1], ids[3]]);

    const core2 = new FakeCore('bob', bob.sign);
    await newEngine(core2).drain();
    expect(core2.receiveCalls).toEqual([[ids[1], ids[3]]]);
    expect(await bobPending()).toBe(0);
  });

  it('acks nothing when the core throws, reconnects and gets the batch again', async () => {
    const ids = await sendFromAlice(3);
    const core = new FakeCore('bob', bob.sign);
    core.failNext = 1;
    const engine = newEngine(core);
    const errors: RefugeError[] = [];
    engine.on('error', (e) => errors.push(e));
    await engine.drain({ failFast: false });
    expect(core.receiveCalls).toEqual([ids, ids]);
    expect([...core.stored.keys()]).toEqual(ids);
    expect(errors.map((e) => e.code)).toContain('CORE_RECEIVE_FAILED');
    expect(await bobPending()).toBe(0);
  });

  it('drain() fails fast when the core cannot store', async () => {
    await sendFromAlice(1);
    const core = new FakeCore('bob', bob.sign);
    core.failNext = 1;
    await expect(newEngine(core).drain()).rejects.toMatchObject({ code: 'CORE_RECEIVE_FAILED' });
  });

  it('flushes the outbox, marks sent only what the relay accepted, and flushes again on kick()', async () => {
    const core = new FakeCore('alice', alice.sign);
    const good = [envelope('bob'), envelope('Bob'), envelope('bob')];
    const bad = envelope('nobody_here');
    core.outbox.push(good[0]!, bad, good[1]!, good[2]!);
    const engine = newEngine(core);
    const sent: string[] = [];
    const errors: RefugeError[] = [];
    engine.on('sent', (ids) => sent.push(...ids));
    engine.on('error', (e) => errors.push(e));
    await engine.drain();
    expect(core.markedSent).toEqual(good.map((e) => e.id));
    expect(sent).toEqual(good.map((e) => e.id));
    expect(errors.map((e) => e.code)).toEqual(['UNKNOWN_RECIPIENT']);
    expect(await bobPending()).toBe(3);

    const later = envelope('bob');
    core.outbox.push(later);
    const flushed = next(engine, 'sent');
    engine.kick();
    expect(await flushed).toEqual([later.id]);
    expect(await bobPending()).toBe(4);
    // drain() flushes what was queued since, even without a kick
    const last = envelope('bob');
    core.outbox.push(last);
    await engine.drain();
    expect(core.markedSent.at(-1)).toBe(last.id);
    expect(await bobPending()).toBe(5);
    // the rejected envelope was not retried
    expect(errors).toHaveLength(1);
  });

  it('delivers live between two engines', async () => {
    const aliceCore = new FakeCore('alice', alice.sign);
    const bobCore = new FakeCore('bob', bob.sign);
    const a = newEngine(aliceCore);
    const b = newEngine(bobCore);
    await Promise.all([a.drain(), b.drain()]);
    const e = envelope('bob');
    aliceCore.outbox.push(e);
    const got = next(b, 'received');
    a.kick();
    expect((await got).map((r) => r.id)).toEqual([e.id]);
    expect(bobCore.stored.get(e.id)?.body).toBe(e.body);
  });

  it('re-authenticates after the relay restarts and keeps receiving', async () => {
    const dataDir = relay.dataDir;
    const port = relay.port;
    const core = new FakeCore('bob', bob.sign);
    const engine = newEngine(core);
    await engine.drain();
    const offline = next(engine, 'state', (s) => s === 'offline');
    await relay.close();
    await offline;
    const online = next(engine, 'state', (s) => s === 'online');
    const restarted = await startRelay({ dataDir, port, log: () => {} });
    relay = {
      ...restarted,
      dataDir,
      async dispose() {
        await restarted.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
    await online;
    const ids = await sendFromAlice(2);
    const got = next(engine, 'received');
    expect((await got).map((r) => r.id)).toEqual(ids);
  });

  it('drain() rejects fast for an unreachable relay and for an unregistered device', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const nowhere = newEngine(new FakeCore('bob', bob.sign), { serverUrl: `http://127.0.0.1:${closedPort}` });
    await expect(nowhere.drain()).rejects.toMatchObject({ code: 'RELAY_UNREACHABLE' });

    const stranger = await makeDevice('stranger');
    await expect(newEngine(new FakeCore('stranger', stranger.sign)).drain()).rejects.toMatchObject({ code: 'AUTH_FAILED' });

    const slow = newEngine(new FakeCore('bob', bob.sign), { serverUrl: `http://127.0.0.1:${closedPort}` });
    await expect(slow.drain({ failFast: false, timeoutMs: 100 })).rejects.toMatchObject({ code: 'DRAIN_TIMEOUT' });
  });

  it('stop() rejects a pending drain', async () => {
    const stranger = await makeDevice('stranger2');
    const engine = newEngine(new FakeCore('stranger2', stranger.sign));
    const drained = engine.drain({ failFast: false });
    const failed = next(engine, 'error');
    await failed;
    void engine.stop();
    await expect(drained).rejects.toMatchObject({ code: 'SYNC_STOPPED' });
  });

  it('tells the core about envelopes the relay refuses for good, and never resends them', async () => {
    const core = new FakeCore('alice', alice.sign);
    const doomed = envelope('nobody_here');
    core.outbox.push(doomed);
    const engine = newEngine(core);
    const refused = next(engine, 'error', (e) => (e as RefugeError).code === 'UNKNOWN_RECIPIENT');
    await engine.drain({ failFast: false });
    await refused;
    await expect.poll(() => core.markedFailed).toEqual([{ id: doomed.id, code: 'UNKNOWN_RECIPIENT' }]);
    expect(core.markedSent).not.toContain(doomed.id);
  });

  it('tops up one-time prekeys after auth when the core supplies them', async () => {
    const carol = await makeDevice('carol', { oneTime: 2, kyberOneTime: 1 });
    (await registerDevice(relay.url, carol)).close();
    const core = new FakeCore('carol', carol.sign);
    core.refillWith = carol.moreKeys(30, 7);
    const engine = newEngine(core);
    await engine.drain();
    await expect.poll(() => core.refillCounts.length).toBe(1);
    expect(core.refillCounts[0]).toEqual({ oneTimePrekeys: 2, kyberOneTimePrekeys: 1 });
    const { client } = await authDevice(relay.url, carol);
    try {
      await expect.poll(() => client.prekeyCount()).toEqual({ oneTimePrekeys: 32, kyberOneTimePrekeys: 8 });
    } finally {
      client.close();
    }
  });
});
