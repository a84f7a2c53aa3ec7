// Every relay limit refuses with its own error code, and a refused client recovers once the limit
// resets (time passes on the relay's injected clock, the mailbox drains, a socket closes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RefugeError } from '../shared/ipc/contract.js';
import { RelayRefusal } from '../shared/sync/errors.js';
import { SyncEngine } from '../shared/sync/engine.js';
import { FakeCore } from '../shared/sync/testing.js';
import type { RelayClient } from '../shared/sync/client.js';
import { parseDuration, parseRate, TokenBuckets, addressKey } from './limits.js';
import { io } from 'socket.io-client';
import { authDevice, connectClient, emitAck, envelope, makeDevice, registerDevice, startTestRelay, type TestDevice, type TestRelay } from './testkit.js';

const T0 = Date.UTC(2030, 0, 1);
let clock = T0;
const now = () => clock;
const relays: TestRelay[] = [];
const clients: Array<{ close(): unknown }> = [];
const seen = new Set<string>();

async function refusal(p: Promise<unknown>): Promise<RelayRefusal> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RelayRefusal);
  const r = error as RelayRefusal;
  seen.add(r.code);
  return r;
}

function track<T extends { close(): unknown }>(c: T): T {
  clients.push(c);
  return c;
}

afterAll(async () => {
  for (const c of clients) c.close();
  for (const r of relays) await r.dispose();
  // each limit was seen refusing, under its own code
  expect([...seen].sort()).toEqual(
    [
      'ADDRESS_RATE_LIMITED',
      'BUNDLE_RATE_LIMITED',
      'DEVICE_RATE_LIMITED',
      'ENVELOPE_TOO_LARGE',
      'MAILBOX_FULL',
      'MESSAGE_TOO_LARGE',
      'REGISTRATION_RATE_LIMITED',
      'TOO_MANY_SOCKETS',
    ].sort(),
  );
});

describe('per-device and per-envelope limits', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay({
      now,
      mailboxFullRetryMs: 200,
      limits: {
        maxEnvelopeBytes: 1000,
        maxMailboxEnvelopes: 3,
        maxMailboxBytes: 100_000,
        deviceRate: { burst: 20, windowMs: 10_000 },
        bundleRate: { burst: 2, windowMs: 60_000 },
        maxSocketsPerDevice: 2,
        maxMessageBytes: 200_000,
      },
    });
    relays.push(relay);
  });

  const registered = async (name: string): Promise<{ device: TestDevice; client: RelayClient }> => {
    const device = await makeDevice(name);
    return { device, client: track(await registerDevice(relay.url, device)) };
  };

  it('ENVELOPE_TOO_LARGE refuses only the oversized envelope', async () => {
    const { client } = await registered('big_sender');
    await registered('big_reader');
    const ok = envelope('big_reader', 'A'.repeat(1000));
    const tooBig = envelope('big_reader', 'A'.repeat(1001));
    const results = await client.sendEnvelopes([tooBig, ok]);
    expect(results[0]).toMatchObject({ id: tooBig.id, accepted: false, error: { code: 'ENVELOPE_TOO_LARGE' } });
    expect(results[1]).toEqual({ id: ok.id, accepted: true });
    seen.add('ENVELOPE_TOO_LARGE');
  });

  it('MAILBOX_FULL refuses what does not fit and accepts it again once the recipient acks', async () => {
    const { client } = await registered('mb_sender');
    const { device: reader } = await registered('mb_reader');
    const batch = Array.from({ length: 5 }, () => envelope('mb_reader'));
    const results = await client.sendEnvelopes(batch);
    expect(results.map((r) => (r.accepted ? 'ok' : r.error.code))).toEqual(['ok', 'ok', 'ok', 'MAILBOX_FULL', 'MAILBOX_FULL']);
    const full = results[3];
    expect(full && !full.accepted && full.error.retryAfterMs).toBe(200);
    seen.add('MAILBOX_FULL');

    const { client: r, inbox } = await authDevice(relay.url, reader);
    track(r);
    const first = await inbox.nextBatch();
    expect(first.envelopes.map((e) => e.id)).toEqual(batch.slice(0, 3).map((e) => e.id));
    await r.ack(first.envelopes.map((e) => e.id));
    expect(await client.sendEnvelopes(batch.slice(3))).toEqual(batch.slice(3).map((e) => ({ id: e.id, accepted: true })));
    const second = await inbox.nextBatch();
    expect(second.envelopes.map((e) => e.id)).toEqual(batch.slice(3).map((e) => e.id));
  });

  it('the sync engine keeps a MAILBOX_FULL message queued and delivers it once the mailbox drains', async () => {
    const sender = await makeDevice('engine_sender');
    const reader = await makeDevice('engine_reader');
    for (const d of [sender, reader]) track(await registerDevice(relay.url, d));
    const senderCore = new FakeCore('engine_sender', sender.sign);
    senderCore.outbox.push(...Array.from({ length: 5 }, () => envelope('engine_reader')));
    const engine = new SyncEngine({ serverUrl: relay.url, core: senderCore, backoff: { initialMs: 5, maxMs: 50 } });
    const errors: RefugeError[] = [];
    engine.on('error', (e) => errors.push(e));
    const sent = engine.drain();
    await expect.poll(() => errors.some((e) => e.code === 'MAILBOX_FULL')).toBe(true);
    expect(senderCore.markedSent).toHaveLength(3);

    const readerCore = new FakeCore('engine_reader', reader.sign);
    const readerEngine = new SyncEngine({ serverUrl: relay.url, core: readerCore, backoff: { initialMs: 5, maxMs: 50 } });
    readerEngine.start();
    await sent; // drain() resolves only once the deferred envelopes were accepted
    await expect.poll(() => readerCore.stored.size).toBe(5);
    expect([...readerCore.stored.keys()]).toEqual(senderCore.outbox.map((e) => e.id));
    expect(senderCore.markedSent.sort()).toEqual(senderCore.outbox.map((e) => e.id).sort());
    expect(senderCore.markedFailed).toEqual([]); // a transient refusal never fails the message
    await Promise.all([engine.stop(), readerEngine.stop()]);
  });

  it('DEVICE_RATE_LIMITED refuses a device that sends too fast, until its bucket refills', async () => {
    const { client } = await registered('fast_sender');
    const toNobody = () => Array.from({ length: 10 }, () => envelope('nobody_at_all'));
    await client.sendEnvelopes(toNobody());
    await client.sendEnvelopes(toNobody());
    const refused = await refusal(client.sendEnvelopes(toNobody()));
    expect(refused.code).toBe('DEVICE_RATE_LIMITED');
    expect(refused.retryAfterMs).toBe(5000);
    clock += 4000;
    expect((await refusal(client.sendEnvelopes(toNobody()))).code).toBe('DEVICE_RATE_LIMITED');
    clock += 1000;
    expect(await client.sendEnvelopes(toNobody())).toHaveLength(10);
  });

  it('BUNDLE_RATE_LIMITED refuses a device that fetches too many prekey bundles', async () => {
    const { client } = await registered('bundle_fetcher');
    await registered('bundle_owner');
    await client.fetchBundles('bundle_owner');
    await client.fetchBundles('bundle_owner');
    const refused = await refusal(client.fetchBundles('bundle_owner'));
    expect(refused.code).toBe('BUNDLE_RATE_LIMITED');
    clock += refused.retryAfterMs ?? 0;
    expect(await client.fetchBundles('bundle_owner')).toHaveLength(1);
  });

  it('TOO_MANY_SOCKETS refuses a third socket of one device until one closes', async () => {
    const { device, client: first } = await registered('many_sockets');
    const second = track((await authDevice(relay.url, device)).client);
    const third = track(await connectClient(relay.url));
    let { challenge } = await third.hello();
    const refused = await refusal(third.auth({ username: device.username, deviceId: 1, signature: device.sign(challenge) }));
    expect(refused.code).toBe('TOO_MANY_SOCKETS');
    const before = relay.connections();
    first.close();
    await expect.poll(() => relay.connections()).toBe(before - 1);
    ({ challenge } = await third.hello());
    await third.auth({ username: device.username, deviceId: 1, signature: device.sign(challenge) });
    expect(await third.prekeyCount()).toEqual({ oneTimePrekeys: 5, kyberOneTimePrekeys: 5 });
    expect(second.connected).toBe(true);
  });

  it('MESSAGE_TOO_LARGE: a socket message over the limit closes that socket; the next connection works', async () => {
    const { device, client } = await registered('huge_batch');
    const batch = Array.from({ length: 300 }, () => envelope('nobody_at_all', 'B'.repeat(1000)));
    const refused = await client.sendEnvelopes(batch).then(
      () => undefined,
      (e: unknown) => e as RefugeError,
    );
    expect(refused?.code).toBe('MESSAGE_TOO_LARGE');
    seen.add('MESSAGE_TOO_LARGE');
    expect(client.connected).toBe(false);
    const again = track((await authDevice(relay.url, device)).client);
    expect(await again.sendEnvelopes(batch.slice(0, 100))).toHaveLength(100);
  });
});

describe('the sync engine under a rate limit', () => {
  it('waits retryAfterMs and sends again on the same connection, without failing a message', async () => {
    // the real clock here: the engine waits for real
    const relay = await startTestRelay({ limits: { deviceRate: { burst: 10, windowMs: 500 } } });
    relays.push(relay);
    const sender = await makeDevice('throttled');
    const reader = await makeDevice('throttled_reader');
    for (const d of [sender, reader]) (await registerDevice(relay.url, d)).close();
    const core = new FakeCore('throttled', sender.sign);
    core.outbox.push(...Array.from({ length: 40 }, () => envelope('throttled_reader')));
    const engine = new SyncEngine({ serverUrl: relay.url, core, outboxBatch: 10, backoff: { initialMs: 5, maxMs: 50 } });
    const states: string[] = [];
    const codes: string[] = [];
    engine.on('state', (state) => states.push(state));
    engine.on('error', (e) => codes.push(e.code));
    await engine.drain({ timeoutMs: 20_000 });
    expect(codes).toContain('DEVICE_RATE_LIMITED');
    seen.add('DEVICE_RATE_LIMITED');
    expect(states).toEqual(['connecting', 'online']); // never dropped the connection
    expect(core.markedSent.sort()).toEqual(core.outbox.map((e) => e.id).sort());
    expect(core.markedFailed).toEqual([]);
    await engine.stop();
  });
});

describe('per-address limits (loopback not exempt)', () => {
  it('ADDRESS_RATE_LIMITED refuses events and connections from a busy address until its bucket refills', async () => {
    const relay = await startTestRelay({ now, limits: { addressRate: { burst: 6, windowMs: 60_000 }, exemptLoopback: false } });
    relays.push(relay);
    const client = track(await connectClient(relay.url)); // 1 token
    for (let i = 0; i < 5; i++) await client.hello(); // 5 more
    const refused = await refusal(client.hello());
    expect(refused.code).toBe('ADDRESS_RATE_LIMITED');
    expect(refused.retryAfterMs).toBe(10_000);
    // a new connection from the same address is refused at the door, with the same code
    const door = await refusal(connectClient(relay.url));
    expect(door.code).toBe('ADDRESS_RATE_LIMITED');
    clock += 60_000;
    expect((await client.hello()).challenge).toBeTruthy();
    track(await connectClient(relay.url));
  });

  it('behind a trusted proxy, each X-Forwarded-For address has its own bucket', async () => {
    const relay = await startTestRelay({ now, trustProxy: true, limits: { addressRate: { burst: 3, windowMs: 60_000 } } });
    relays.push(relay);
    const from = async (address: string) => {
      const socket = io(relay.url, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-forwarded-for': `10.9.9.9, ${address}` } });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      clients.push(socket);
      return socket;
    };
    const first = await from('203.0.113.7'); // the connection took 1 token
    expect((await emitAck(first, 'hello')).ok).toBe(true);
    expect((await emitAck(first, 'hello')).ok).toBe(true);
    expect(await emitAck(first, 'hello')).toMatchObject({ ok: false, error: { code: 'ADDRESS_RATE_LIMITED' } });
    // another client behind the same proxy is not affected (the proxy's own entry, 10.9.9.9, is not the key)
    const second = await from('198.51.100.20');
    expect((await emitAck(second, 'hello')).ok).toBe(true);
  });

  it('REGISTRATION_RATE_LIMITED refuses registrations beyond the budget of an address', async () => {
    const relay = await startTestRelay({ now, limits: { registrationRate: { burst: 2, windowMs: 3_600_000 }, exemptLoopback: false } });
    relays.push(relay);
    track(await registerDevice(relay.url, await makeDevice('reg_one')));
    track(await registerDevice(relay.url, await makeDevice('reg_two')));
    const third = await makeDevice('reg_three');
    const refused = await refusal(registerDevice(relay.url, third));
    expect(refused.code).toBe('REGISTRATION_RATE_LIMITED');
    expect(refused.retryAfterMs).toBe(1_800_000);
    clock += 1_800_000;
    const client = track(await registerDevice(relay.url, third));
    expect(await client.prekeyCount()).toEqual({ oneTimePrekeys: 5, kyberOneTimePrekeys: 5 });
  });
});

describe('limit plumbing', () => {
  it('parses rates and durations', () => {
    expect(parseRate('10000/5s')).toEqual({ burst: 10000, windowMs: 5000 });
    expect(parseRate('10/h')).toEqual({ burst: 10, windowMs: 3_600_000 });
    expect(parseDuration('72h')).toBe(72 * 3_600_000);
    expect(parseDuration('1.5d')).toBe(36 * 3_600_000);
    expect(() => parseRate('10')).toThrow(/BURST\/WINDOW/);
    expect(() => parseDuration('3 weeks')).toThrow(/duration/);
  });

  it('limits IPv6 clients by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
  });

  it('forgets buckets that refilled, and never grows past its key cap', () => {
    let t = 0;
    const buckets = new TokenBuckets({ burst: 2, windowMs: 1000 }, () => t, 3);
    for (const key of ['a', 'b', 'c', 'd', 'e']) expect(buckets.take(key).ok).toBe(true);
    expect(buckets.size).toBe(3);
    t += 1000;
    buckets.sweep();
    expect(buckets.size).toBe(0);
  });
});
