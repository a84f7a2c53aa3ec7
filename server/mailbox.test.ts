import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_BATCH } from '../shared/protocol/events.js';
import {
  authDevice,
  emitAck,
  envelope,
  makeDevice,
  rawSocket,
  registerDevice,
  startTestRelay,
  type TestDevice,
  type TestRelay,
} from './testkit.js';

const HOUR = 3_600_000;
let clock = Date.UTC(2030, 0, 1);
let relay: TestRelay;
let alice: TestDevice;
let bob: TestDevice;
let mallory: TestDevice;

beforeAll(async () => {
  relay = await startTestRelay({ now: () => clock });
  alice = await makeDevice('alice');
  bob = await makeDevice('bob');
  mallory = await makeDevice('mallory');
  for (const d of [alice, bob, mallory]) (await registerDevice(relay.url, d)).close();
});
afterAll(async () => {
  await relay.dispose();
});

/** Acks everything pending for `device` so each test starts from an empty mailbox. */
async function emptyMailbox(device: TestDevice): Promise<void> {
  const { client, inbox } = await authDevice(relay.url, device);
  const pending = await relay.storage.pendingEnvelopes(device, 0, clock, 100_000);
  if (pending.length > 0) await client.ack(pending.map((e) => e.id));
  await inbox.drained();
  client.close();
}

describe('envelopes', () => {
  it('pushes live to the recipient, stamped with the authenticated sender', async () => {
    const bobSide = await authDevice(relay.url, bob);
    await bobSide.inbox.drained();
    const a = await registerDevice(relay.url, alice);
    const e = envelope('BOB');
    // a spoofed `from` in the payload is ignored (stripped by the schema)
    const reply = await a.request('envelopes.send', { envelopes: [{ ...e, from: 'mallory', fromDeviceId: 9 } as typeof e] });
    expect(reply.results).toEqual([{ id: e.id, accepted: true }]);
    const batch = await bobSide.inbox.nextBatch();
    expect(batch).toEqual({
      envelopes: [{ id: e.id, from: 'alice', fromDeviceId: 1, body: e.body, receivedAt: clock }],
      remaining: 0,
    });
    expect(await bobSide.client.ack([e.id])).toBe(1);
    await bobSide.inbox.drained();
    a.close();
    bobSide.client.close();
  });

  it('rejects per envelope: unknown recipient or device; accepts the rest', async () => {
    const a = await registerDevice(relay.url, alice);
    const good = envelope('bob');
    const noUser = envelope('nobody_at_all');
    const noDevice = envelope('bob', 'AAAA', 7);
    const invalidName = envelope('not a name!');
    const results = await a.sendEnvelopes([good, noUser, noDevice, invalidName]);
    expect(results).toEqual([
      { id: good.id, accepted: true },
      { id: noUser.id, accepted: false, error: { code: 'UNKNOWN_RECIPIENT', message: expect.any(String) } },
      { id: noDevice.id, accepted: false, error: { code: 'UNKNOWN_RECIPIENT', message: expect.any(String) } },
      { id: invalidName.id, accepted: false, error: { code: 'UNKNOWN_RECIPIENT', message: expect.any(String) } },
    ]);
    a.close();
    await emptyMailbox(bob);
  });

  it('the same envelope id sent twice is stored and delivered once', async () => {
    const a = await registerDevice(relay.url, alice);
    const e = envelope('bob');
    expect(await a.sendEnvelopes([e, e])).toEqual([
      { id: e.id, accepted: true },
      { id: e.id, accepted: true },
    ]);
    expect(await a.sendEnvelopes([e])).toEqual([{ id: e.id, accepted: true }]);
    a.close();
    expect(await relay.storage.countPending({ username: 'bob', deviceId: 1 }, clock)).toBe(1);
    const { client, inbox } = await authDevice(relay.url, bob);
    const batch = await inbox.nextBatch();
    expect(batch.envelopes.map((x) => x.id)).toEqual([e.id]);
    await client.ack([e.id]);
    await inbox.drained();
    expect(inbox.ids()).toEqual([e.id]);
    client.close();
  });

  it('keeps envelopes until acked: redelivered after reconnect, gone after ack', async () => {
    const a = await registerDevice(relay.url, alice);
    const sent = [envelope('bob'), envelope('bob'), envelope('bob')];
    await a.sendEnvelopes(sent);
    a.close();

    // first connection: receives all three, acks only the first
    let side = await authDevice(relay.url, bob);
    const first = await side.inbox.nextBatch();
    expect(first.envelopes.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    expect(await side.client.ack([sent[0]!.id])).toBe(1);
    side.client.close();

    // second connection: the two unacked come again, in order
    side = await authDevice(relay.url, bob);
    const second = await side.inbox.nextBatch();
    expect(second.envelopes.map((e) => e.id)).toEqual([sent[1]!.id, sent[2]!.id]);
    expect(await side.client.ack(second.envelopes.map((e) => e.id))).toBe(2);
    await side.inbox.drained();
    side.client.close();

    // third connection: nothing left
    side = await authDevice(relay.url, bob);
    await side.inbox.drained();
    expect(side.inbox.batches).toHaveLength(0);
    side.client.close();
    expect(await relay.storage.countPending({ username: 'bob', deviceId: 1 }, clock)).toBe(0);
  });

  it('a device can neither read nor ack another device\'s mailbox', async () => {
    const a = await registerDevice(relay.url, alice);
    const forBob = envelope('bob');
    await a.sendEnvelopes([forBob]);
    a.close();

    const m = await authDevice(relay.url, mallory);
    await m.inbox.drained(); // mallory's mailbox is empty: bob's envelope is not delivered to her
    expect(m.inbox.batches).toHaveLength(0);
    expect(await m.client.ack([forBob.id])).toBe(0); // acking bob's id deletes nothing
    m.client.close();

    // an unauthenticated socket cannot ack at all
    const raw = await rawSocket(relay.url);
    expect(await emitAck(raw, 'envelopes.ack', { ids: [forBob.id] })).toMatchObject({ ok: false, error: { code: 'NOT_AUTHENTICATED' } });
    raw.close();

    const b = await authDevice(relay.url, bob);
    const batch = await b.inbox.nextBatch();
    expect(batch.envelopes.map((e) => e.id)).toEqual([forBob.id]);
    expect(await b.client.ack([forBob.id])).toBe(1);
    b.client.close();
  });

  it('delivers a backlog in batches with a remaining count, then signals drained', async () => {
    const total = DELIVERY_BATCH * 2 + 57;
    const a = await registerDevice(relay.url, alice);
    const sent = Array.from({ length: total }, () => envelope('bob'));
    for (let i = 0; i < total; i += 500) await a.sendEnvelopes(sent.slice(i, i + 500));
    a.close();

    const { client, inbox } = await authDevice(relay.url, bob);
    const sizes: number[] = [];
    const remaining: number[] = [];
    let drained = false;
    const drainedAt = inbox.drained().then(() => (drained = true));
    while (sizes.reduce((x, y) => x + y, 0) < total) {
      const batch = await inbox.nextBatch();
      sizes.push(batch.envelopes.length);
      remaining.push(batch.remaining);
      expect(drained).toBe(false);
      await client.ack(batch.envelopes.map((e) => e.id));
    }
    await drainedAt;
    expect(sizes).toEqual([DELIVERY_BATCH, DELIVERY_BATCH, 57]);
    expect(remaining[0]).toBe(total - DELIVERY_BATCH);
    expect(remaining.at(-1)).toBe(0);
    expect(inbox.ids()).toEqual(sent.map((e) => e.id));
    client.close();
  });

  it('expires envelopes after the retention window: never delivered, then purged', async () => {
    const a = await registerDevice(relay.url, alice);
    const old = envelope('bob');
    await a.sendEnvelopes([old]);
    clock += 71 * HOUR;
    const fresh = envelope('bob');
    await a.sendEnvelopes([fresh]);
    a.close();
    clock += 2 * HOUR; // old is now 73 h old, fresh 2 h

    const { client, inbox } = await authDevice(relay.url, bob);
    const batch = await inbox.nextBatch();
    expect(batch.envelopes.map((e) => e.id)).toEqual([fresh.id]);
    client.close();

    expect(await relay.purgeExpired()).toBe(1);
    clock += 71 * HOUR;
    expect(await relay.purgeExpired()).toBe(1);
    expect(await relay.storage.countPending({ username: 'bob', deviceId: 1 }, clock - 1000 * HOUR)).toBe(0);
  });

  it('survives a relay restart: pending envelopes are on disk', async () => {
    const dataDir = relay.dataDir;
    const a = await registerDevice(relay.url, alice);
    const e = envelope('bob', 'c3VydmljZXM');
    await a.sendEnvelopes([e]);
    a.close();
    await relay.close();
    const files = readdirSync(dataDir);
    expect(files).toContain('relay.sqlite');

    const { startRelay } = await import('./relay.js');
    const again = await startRelay({ dataDir, now: () => clock, log: () => {} });
    try {
      const { client, inbox } = await authDevice(again.url, bob);
      const batch = await inbox.nextBatch();
      expect(batch.envelopes.map((x) => x.id)).toEqual([e.id]);
      await client.ack([e.id]);
      await inbox.drained();
      client.close();
    } finally {
      await again.close();
    }
    // after ack and close, the ciphertext is not left in the relay's files (secure_delete + checkpoint)
    for (const f of readdirSync(dataDir)) {
      expect(readFileSync(join(dataDir, f)).includes(Buffer.from(e.body)), f).toBe(false);
    }
    relay = await startTestRelay({ dataDir, now: () => clock });
  });
});
