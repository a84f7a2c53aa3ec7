// The cluster test: two relay PROCESSES on one PostgreSQL and one Redis. Alice's client talks to
// node A, Bob's to node B; they exchange 2,000 messages while node A is killed with SIGKILL in the
// middle of the burst and started again on the same port. Every message arrives exactly once (the
// receiving core deduplicates by envelope id, as the real one does), in order per sender.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RefugeError } from '../shared/ipc/contract.js';
import { SyncEngine } from '../shared/sync/engine.js';
import { FakeCore } from '../shared/sync/testing.js';
import {
  createTestDatabase,
  freePort,
  metric,
  probeServices,
  REDIS_URL,
  type RelayProcess,
  redisPrefix,
  spawnRelay,
  type TestDatabase,
} from './services-testkit.js';
import { describeWithServices } from './describe-services.js';
import { envelope, makeDevice, registerDevice, type TestDevice } from './testkit.js';

const services = await probeServices();
const PER_SENDER = 1000;

describeWithServices(services, 'cluster: two relay processes, one PostgreSQL, one Redis', () => {
  let db: TestDatabase;
  let redis: ReturnType<typeof redisPrefix>;
  let args: string[];
  let portA: number;
  let nodeA: RelayProcess;
  let nodeB: RelayProcess;
  let alice: TestDevice;
  let bob: TestDevice;
  const engines: SyncEngine[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = redisPrefix();
    portA = await freePort();
    args = ['--postgres', db.url, '--redis', REDIS_URL, '--redis-prefix', redis.prefix, '--log-level', 'warn'];
    [nodeA, nodeB] = await Promise.all([spawnRelay([...args, '--port', String(portA)]), spawnRelay([...args, '--port', '0'])]);
    alice = await makeDevice('alice');
    bob = await makeDevice('bob');
    (await registerDevice(nodeA.url, alice)).close();
    (await registerDevice(nodeB.url, bob)).close();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await Promise.all([nodeA?.kill('SIGTERM'), nodeB?.kill('SIGTERM')]);
    await db?.drop();
    await redis?.cleanup();
  });

  it('delivers 2,000 messages exactly once and in order per sender while node A is SIGKILLed and restarted', async () => {
    const aliceCore = new FakeCore('alice', alice.sign);
    const bobCore = new FakeCore('bob', bob.sign);
    aliceCore.outbox.push(...Array.from({ length: PER_SENDER }, () => envelope('bob')));
    bobCore.outbox.push(...Array.from({ length: PER_SENDER }, () => envelope('alice')));
    const errors: RefugeError[] = [];
    const engine = (core: FakeCore, url: string) => {
      // small outbox batches make the burst long enough to be cut in the middle
      const e = new SyncEngine({ serverUrl: url, core, outboxBatch: 10, backoff: { initialMs: 50, maxMs: 250 }, timeoutMs: 5000 });
      e.on('error', (error) => errors.push(error));
      engines.push(e);
      e.start();
      return e;
    };
    engine(aliceCore, nodeA.url);
    engine(bobCore, nodeB.url);

    // mid-burst: both directions under way
    await expect.poll(() => bobCore.stored.size >= 250 && aliceCore.stored.size >= 100, { timeout: 30_000, interval: 5 }).toBe(true);
    const killedAt = { aliceSent: aliceCore.markedSent.length, bobReceived: bobCore.stored.size, aliceReceived: aliceCore.stored.size };
    nodeA.child.kill('SIGKILL');
    expect(await nodeA.exited).toBe(null); // killed by the signal, no exit code
    expect(nodeA.child.signalCode).toBe('SIGKILL');
    expect(killedAt.aliceSent).toBeLessThan(PER_SENDER);

    // while A is down, Bob keeps sending through B: his envelopes wait in PostgreSQL
    const bobSentBefore = bobCore.markedSent.length;
    if (bobSentBefore < PER_SENDER) await expect.poll(() => bobCore.markedSent.length > bobSentBefore, { timeout: 10_000 }).toBe(true);
    nodeA = await spawnRelay([...args, '--port', String(portA)]);

    await expect
      .poll(() => aliceCore.stored.size === PER_SENDER && bobCore.stored.size === PER_SENDER, { timeout: 45_000, interval: 20 })
      .toBe(true);

    // exactly once (each id stored once; nothing unknown), in the order each sender wrote them.
    // Compared as positions in the sender's outbox, so a failure shows where the order broke.
    const positions = (receiver: FakeCore, sender: FakeCore) => {
      const pos = new Map(sender.outbox.map((e, i) => [e.id, i]));
      return [...receiver.stored.keys()].map((id) => pos.get(id) ?? -1);
    };
    const inOrder = Array.from({ length: PER_SENDER }, (_, i) => i);
    expect(positions(bobCore, aliceCore), `A killed at ${JSON.stringify(killedAt)}`).toEqual(inOrder);
    expect(positions(aliceCore, bobCore), `A killed at ${JSON.stringify(killedAt)}`).toEqual(inOrder);
    expect([...bobCore.stored.values()].every((e) => e.from === 'alice')).toBe(true);
    expect([...aliceCore.stored.values()].every((e) => e.from === 'bob')).toBe(true);
    await expect.poll(() => aliceCore.markedSent.length >= PER_SENDER && bobCore.markedSent.length >= PER_SENDER).toBe(true);
    expect(new Set(aliceCore.markedSent).size).toBe(PER_SENDER);

    const redelivered = (core: FakeCore) => core.receiveCalls.flat().length - PER_SENDER;
    console.log(
      `cluster: A killed after alice had ${killedAt.aliceSent} accepted and bob ${killedAt.bobReceived} received; ` +
        `redelivered duplicates (deduplicated by the core): to bob ${redelivered(bobCore)}, to alice ${redelivered(aliceCore)}; ` +
        `client errors seen: ${[...new Set(errors.map((e) => e.code))].join(', ') || 'none'}`,
    );

    // both nodes report healthy, and the mailboxes are empty
    for (const node of [nodeA, nodeB]) {
      expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
    }
    await expect.poll(() => metric(nodeB.url, 'refuge_envelopes_queued'), { timeout: 10_000 }).toBe(0);
  }, 120_000);
});
