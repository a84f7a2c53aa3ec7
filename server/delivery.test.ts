// Live delivery to an online recipient: the relay pushes fresh envelopes from what the store just
// committed (no read back) while the recipient keeps up, and falls back to reading its mailbox
// when it does not. What a user would notice if that went wrong: a message missing, twice, out of
// order, delivered after it expired, or stuck after a failed ack.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutgoingEnvelope } from '../shared/protocol/envelope.js';
import { DEFAULT_RETENTION_MS } from './relay.js';
import { SqliteRelayStorage } from './storage/sqlite.js';
import { authDevice, envelope, makeDevice, registerDevice, startTestRelay, type TestDevice, type TestRelay } from './testkit.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function relayWith(options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const relay = await startTestRelay(options);
  cleanups.push(() => relay.dispose());
  return relay;
}

async function accounts(url: string, ...names: string[]): Promise<TestDevice[]> {
  const devices: TestDevice[] = [];
  for (const name of names) {
    const device = await makeDevice(name);
    (await registerDevice(url, device)).close();
    devices.push(device);
  }
  return devices;
}

/** bob connected with an empty mailbox, and alice connected to send to him. */
async function bobOnlineAliceSending(relay: TestRelay) {
  const [bob, alice] = await accounts(relay.url, 'bob', 'alice');
  const { client, inbox } = await authDevice(relay.url, bob as TestDevice);
  cleanups.push(() => client.close());
  await inbox.drained();
  const sender = await authDevice(relay.url, alice as TestDevice);
  cleanups.push(() => sender.client.close());
  return { client, inbox, alice: sender };
}

describe('live delivery', () => {
  it('senders outrunning an online recipient: every envelope arrives once, in each sender\'s order', async () => {
    const relay = await relayWith();
    const [bob, ...senders] = await accounts(relay.url, 'bob', 'alice', 'carol', 'dave');
    const { client, inbox } = await authDevice(relay.url, bob as TestDevice);
    cleanups.push(() => client.close());
    await inbox.drained();
    // bob acks each batch only after a pause, so what the senders store piles up far beyond what
    // the relay keeps in memory per socket, and the pump must go back to the mailbox for it
    let acking = Promise.resolve();
    client.onEnvelopes((batch) => {
      acking = acking
        .then(() => new Promise((resolve) => setTimeout(resolve, 5)))
        .then(() => client.ack(batch.envelopes.map((e) => e.id)))
        .then(() => undefined);
    });
    const sent = new Map<string, OutgoingEnvelope[]>();
    await Promise.all(
      senders.map(async (sender) => {
        const c = await authDevice(relay.url, sender);
        const mine: OutgoingEnvelope[] = [];
        sent.set(sender.username, mine);
        for (let k = 0; k < 24; k++) {
          const batch = Array.from({ length: 100 }, () => envelope('bob'));
          mine.push(...batch);
          expect((await c.client.sendEnvelopes(batch)).every((r) => r.accepted)).toBe(true);
        }
        c.client.close();
      }),
    );
    const total = [...sent.values()].reduce((n, list) => n + list.length, 0);
    while (inbox.ids().length < total) await inbox.nextBatch();
    await acking;
    await inbox.drained();

    const received = inbox.batches.flatMap((b) => b.envelopes);
    expect(new Set(received.map((e) => e.id)).size).toBe(total);
    expect(received.length).toBe(total);
    for (const [name, list] of sent) {
      expect(received.filter((e) => e.from === name).map((e) => e.id)).toEqual(list.map((e) => e.id));
    }
    expect(await relay.storage.countPending({ username: 'bob', deviceId: 1 }, Date.now())).toBe(0);
  });

  it('an envelope that expires while the recipient\'s window is full is never pushed', async () => {
    let clock = Date.UTC(2030, 0, 1);
    const relay = await relayWith({ now: () => clock, deliveryBatch: 2, maxInflight: 2 });
    const { client, inbox, alice: a } = await bobOnlineAliceSending(relay);

    const first = [envelope('bob'), envelope('bob')];
    await a.client.sendEnvelopes(first);
    const pushed = await inbox.nextBatch();
    expect(pushed.envelopes.map((e) => e.id)).toEqual(first.map((e) => e.id));
    // the window (2) is full: these wait, and expire before bob acks
    const late = [envelope('bob'), envelope('bob')];
    await a.client.sendEnvelopes(late);
    clock += DEFAULT_RETENTION_MS + 1;
    const drained = inbox.drained();
    expect(await client.ack(first.map((e) => e.id))).toBe(2);
    await drained;
    expect(inbox.ids()).toEqual(first.map((e) => e.id));
  });

  it('an ack that fails in storage is not lost: the envelopes come again and the next ack empties the mailbox', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'refuge-relay-'));
    const storage = new SqliteRelayStorage(dataDir);
    cleanups.push(async () => {
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    let failAcks = 1;
    const ackEnvelopes = storage.ackEnvelopes.bind(storage);
    storage.ackEnvelopes = (address, ids) => {
      if (failAcks > 0) {
        failAcks--;
        return Promise.reject(new Error('storage unavailable'));
      }
      return ackEnvelopes(address, ids);
    };
    const relay = await relayWith({ storage });
    const { client, inbox, alice: a } = await bobOnlineAliceSending(relay);

    const sent = [envelope('bob'), envelope('bob'), envelope('bob')];
    await a.client.sendEnvelopes(sent);
    const ids = sent.map((e) => e.id);
    expect((await inbox.nextBatch()).envelopes.map((e) => e.id)).toEqual(ids);
    await expect(client.ack(ids)).rejects.toMatchObject({ code: 'INTERNAL' });
    // still in the mailbox, so the relay pushes them again on this same connection
    expect((await inbox.nextBatch()).envelopes.map((e) => e.id)).toEqual(ids);
    expect(await client.ack(ids)).toBe(3);
    await inbox.drained();
    expect(await relay.storage.countPending({ username: 'bob', deviceId: 1 }, Date.now())).toBe(0);
  });
});
