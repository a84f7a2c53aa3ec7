// The fuzz test: a relay process takes more than 10,000 malformed, oversized, wrongly typed and
// unknown events from several sockets (socket.io clients, authenticated or not, and raw WebSocket
// frames that are not even valid socket.io). Throughout, /healthz keeps answering, the relay's RSS
// stays bounded, every well-formed packet with an ack callback gets a reply, and a well-behaved
// client on the side delivers every one of its messages, in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clientEventNames } from '../shared/protocol/events.js';
import { SyncEngine } from '../shared/sync/engine.js';
import { FakeCore } from '../shared/sync/testing.js';
import { metric, type RelayProcess, spawnRelay } from './services-testkit.js';
import { emitAck, envelope, makeDevice, registerDevice, type TestDevice } from './testkit.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const MAX_MESSAGE_BYTES = 1_000_000;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with FUZZ_SEED. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}

type Rand = ReturnType<typeof prng>;

function junkString(r: Rand, max = 200): string {
  const alphabets = ['abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_', '\u0000\u0001\uffff\ud800<>"\'\\{}[]', '한국어メッセージ😀'];
  const alphabet = r.pick(alphabets);
  let out = '';
  const n = r.int(max);
  for (let i = 0; i < n; i++) out += alphabet[r.int(alphabet.length)];
  return out;
}

function junkValue(r: Rand, depth = 0): unknown {
  switch (r.int(depth > 3 ? 8 : 12)) {
    case 0:
      return null;
    case 1:
      return r.int(2) === 0;
    case 2:
      return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308, Number.MAX_SAFE_INTEGER + 2]);
    case 3:
      return junkString(r);
    case 4:
      return r.pick(['', 'A'.repeat(64), crypto.randomUUID(), 'alice', 'ｂｏｂ', '__proto__', 'constructor']);
    case 5:
      return Buffer.from(junkString(r, 64));
    case 6:
      return 'x'.repeat(r.int(100_000)); // large but under the socket limit
    case 7:
      return [];
    case 8:
      return Array.from({ length: r.int(6) }, () => junkValue(r, depth + 1));
    case 9:
      return Object.fromEntries(Array.from({ length: r.int(6) }, () => [r.pick(['id', 'to', 'body', 'keys', 'ids', 'username', 'deviceId', 'envelopes', junkString(r, 10)]), junkValue(r, depth + 1)]));
    case 10: {
      let deep: unknown = 'bottom';
      for (let i = 0, n = 50 + r.int(400); i < n; i++) deep = r.int(2) ? [deep] : { a: deep };
      return deep;
    }
    default:
      return JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
  }
}

/** A payload that is nearly right for `event`: valid shapes with one field wrong. */
function nearMiss(r: Rand, event: string, self: string): unknown {
  const uuid = crypto.randomUUID();
  const shapes: Record<string, () => unknown> = {
    'envelopes.send': () => ({
      envelopes: r.pick([
        [{ id: uuid, to: 'bob', toDeviceId: 1, body: r.pick(['!!not base64!!', '', 42, 'A'.repeat(400_000)]) }],
        [{ id: 'not-a-uuid', to: 'bob', toDeviceId: 1, body: 'QQ' }],
        [{ id: uuid, to: 'nobody_at_all', toDeviceId: r.pick([0, 256, 1.5, '1']), body: 'QQ' }],
        Array.from({ length: 501 }, () => ({ id: crypto.randomUUID(), to: 'bob', toDeviceId: 1, body: 'QQ' })),
        [{ id: uuid, to: 'nobody_at_all', toDeviceId: 1, body: 'QQ', from: 'alice', fromDeviceId: 1 }], // valid: unknown recipient
      ]),
    }),
    'envelopes.ack': () => ({ ids: r.pick([[], ['x'], Array.from({ length: 1001 }, () => crypto.randomUUID()), [uuid, 5], [uuid]]) }),
    register: () => ({ username: junkString(r, 40), deviceId: r.pick([1, 2, 0, -1]), keys: junkValue(r), signature: 'A'.repeat(86) }),
    auth: () => ({ username: r.pick(['alice', 'bob', self, junkString(r, 70)]), deviceId: 1, signature: r.pick(['A'.repeat(86), '', 7]) }),
    'prekeys.upload': () => ({ keys: { identityKey: 'A'.repeat(43), signedPrekey: junkValue(r), oneTimePrekeys: junkValue(r) } }),
    'bundle.fetch': () => ({ username: r.pick(['', 'x'.repeat(65), 'nobody_at_all', 12, null]) }),
    'account.delete': () => ({ username: r.pick(['bob', 'alice', '', 5, junkString(r, 10)]) }), // never this socket's own name
    hello: () => r.pick([undefined, {}, [], 'hi', { extra: true }]),
    'prekeys.count': () => r.pick([{}, null, 5]),
  };
  const shape = Object.hasOwn(shapes, event) ? shapes[event] : undefined;
  return shape ? shape() : junkValue(r);
}

/** A raw engine.io/socket.io frame that is broken in some way. */
function junkFrame(r: Rand): string | Buffer {
  switch (r.int(9)) {
    case 0:
      return `42${JSON.stringify([junkString(r, 20), junkValue(r)])}`;
    case 1:
      return `42[${'['.repeat(1 + r.int(3000))}`; // unbalanced
    case 2:
      return `42${'['.repeat(20_000)}"deep"${']'.repeat(20_000)}`.replace('42[', '42["hello",['); // very deep
    case 3:
      return `451-["hello",{"_placeholder":true,"num":0}]`; // binary attachment announced, never sent
    case 4:
      return `4${r.pick(['', '9', '2', '3/nope,', '0/admin,', '1'])}${junkString(r, 50)}`;
    case 5:
      return Buffer.from(Array.from({ length: r.int(200) }, () => r.int(256)));
    case 6:
      return `42["connect"]`; // a reserved name
    case 7:
      return `43${r.int(1000)}["hello"]`; // an ack for nothing
    default:
      return junkString(r, 300);
  }
}

describe('fuzz', () => {
  let dir: string;
  let relay: RelayProcess;
  let alice: TestDevice;
  let bob: TestDevice;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'refuge-fuzz-'));
    relay = await spawnRelay(['--port', '0', '--data', dir, '--log-level', 'error', '--max-message-bytes', String(MAX_MESSAGE_BYTES)]);
    alice = await makeDevice('alice');
    bob = await makeDevice('bob');
    for (const d of [alice, bob]) (await registerDevice(relay.url, d)).close();
  }, 60_000);

  afterAll(async () => {
    await relay?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives >10,000 bad events: /healthz answers, RSS stays bounded, a good client delivers everything', async () => {
    const r = prng(SEED);
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const rssBefore = (await metric(relay.url, 'process_resident_memory_bytes')) ?? 0;

    // /healthz, polled all along
    let healthChecks = 0;
    let healthFailures = 0;
    let peakRss = rssBefore;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const ok = await fetch(`${relay.url}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
          (res) => res.status === 200,
          () => false,
        );
        healthChecks++;
        if (!ok) healthFailures++;
        if (healthChecks % 10 === 0) peakRss = Math.max(peakRss, (await metric(relay.url, 'process_resident_memory_bytes').catch(() => 0)) ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    // the well-behaved pair
    const aliceCore = new FakeCore('alice', alice.sign);
    const bobCore = new FakeCore('bob', bob.sign);
    aliceCore.outbox.push(...Array.from({ length: 300 }, () => envelope('bob')));
    const engines = [
      new SyncEngine({ serverUrl: relay.url, core: aliceCore, outboxBatch: 5, backoff: { initialMs: 20, maxMs: 200 } }),
      new SyncEngine({ serverUrl: relay.url, core: bobCore, backoff: { initialMs: 20, maxMs: 200 } }),
    ];
    for (const e of engines) e.start();

    const counts = { events: 0, acked: 0, answered: 0, unanswered: 0, rawFrames: 0, oversized: 0 };
    const connect = () => io(relay.url, { transports: ['websocket'], reconnection: false, forceNew: true });
    const ready = (s: Socket) =>
      new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });

    /** Valid socket.io packets with bad payloads; every acked one must be answered, and the socket must stay up. */
    async function payloadFuzzer(index: number, authenticated: boolean, total: number) {
      const rr = prng(SEED + index);
      const name = `fuzz${index}`;
      const socket = connect();
      await ready(socket);
      if (authenticated) {
        const device = await makeDevice(name);
        const { challenge } = await emitAck(socket, 'hello', {});
        expect((await emitAck(socket, 'register', { username: name, deviceId: 1, keys: device.keys, signature: device.sign(challenge) })).ok).toBe(true);
      }
      let outstanding = 0;
      const replies: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const event = rr.next() < 0.7 ? rr.pick(clientEventNames) : rr.pick([junkString(rr, 30), 'unknown.event', 'envelopes', 'mailbox.drained', 'relay.error', '__proto__', 'toString']);
        const args: unknown[] = rr.next() < 0.6 ? [nearMiss(rr, event, name)] : Array.from({ length: rr.int(4) }, () => junkValue(rr));
        counts.events++;
        if (rr.next() < 0.75) {
          counts.acked++;
          outstanding++;
          replies.push(
            socket
              .timeout(20_000)
              .emitWithAck(event, ...args)
              .then(
                (reply: unknown) => {
                  const ok = typeof reply === 'object' && reply !== null && typeof (reply as { ok?: unknown }).ok === 'boolean';
                  if (ok) counts.answered++;
                  else counts.unanswered++;
                },
                () => void counts.unanswered++,
              )
              .finally(() => outstanding--),
          );
        } else {
          socket.emit(event, ...args);
        }
        if (outstanding > 100 || i % 25 === 0) await new Promise((resolve) => setImmediate(resolve));
        while (outstanding > 100) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await Promise.all(replies);
      expect(socket.connected).toBe(true);
      socket.close();
    }

    /** Messages over the socket limit: each closes its socket; the fuzzer reconnects. */
    async function oversizeFuzzer(total: number) {
      for (let i = 0; i < total; i++) {
        const socket = connect();
        await ready(socket);
        const closed = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
        counts.events++;
        counts.oversized++;
        socket.emit(r.pick(['hello', 'envelopes.send', 'nope']), { pad: 'z'.repeat(MAX_MESSAGE_BYTES + 1 + r.int(500_000)) });
        await closed;
      }
    }

    /** Raw WebSocket frames that are not valid socket.io: the relay drops such a connection, nothing else. */
    async function rawFuzzer(total: number) {
      const wsUrl = `${relay.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
      let sent = 0;
      while (sent < total) {
        const ws = new WebSocket(wsUrl);
        await new Promise<void>((resolve) => {
          ws.once('message', () => {
            ws.send('40'); // join the default namespace, then misbehave
            resolve();
          });
          ws.once('error', () => resolve());
          ws.once('close', () => resolve());
        });
        while (ws.readyState === WebSocket.OPEN && sent < total) {
          ws.send(junkFrame(r));
          sent++;
          counts.events++;
          counts.rawFrames++;
          await new Promise((resolve) => setImmediate(resolve));
        }
        ws.terminate();
      }
    }

    await Promise.all([
      payloadFuzzer(1, false, 2400),
      payloadFuzzer(2, false, 2400),
      payloadFuzzer(3, true, 2400),
      payloadFuzzer(4, true, 2400),
      oversizeFuzzer(15),
      rawFuzzer(600),
    ]);

    // the good pair delivered everything, in order, while all that went on
    await expect.poll(() => bobCore.stored.size >= 300, { timeout: 30_000 }).toBe(true);
    const fromAlice = [...bobCore.stored.values()].filter((e) => e.from === 'alice').map((e) => e.id);
    expect(fromAlice).toEqual(aliceCore.outbox.map((e) => e.id));
    await Promise.all(engines.map((e) => e.stop()));

    polling = false;
    await poller;
    const rssAfter = (await metric(relay.url, 'process_resident_memory_bytes')) ?? 0;
    const mb = (n: number) => Math.round(n / 1e6);
    console.log(
      `fuzz: ${counts.events} events (${counts.acked} with ack, ${counts.rawFrames} raw frames, ${counts.oversized} oversized); ` +
        `healthz ${healthChecks} checks; RSS ${mb(rssBefore)} MB before, peak ${mb(peakRss)} MB, after ${mb(rssAfter)} MB`,
    );

    expect(counts.events).toBeGreaterThanOrEqual(10_000);
    expect(counts.answered).toBe(counts.acked); // every well-formed packet with an ack got a reply
    expect(counts.unanswered).toBe(0);
    expect(healthFailures).toBe(0);
    expect(healthChecks).toBeGreaterThan(10);
    // bounded: the whole fuzz costs the relay less than 200 MB on top of where it started
    expect(peakRss).toBeLessThan(rssBefore + 200e6);
    expect(rssAfter).toBeLessThan(rssBefore + 200e6);
    expect(relay.child.exitCode).toBe(null);
    expect((await fetch(`${relay.url}/readyz`)).status).toBe(200);
  }, 120_000);
});
