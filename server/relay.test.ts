import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RefugeError } from '../shared/ipc/contract.js';
import { startRelay } from './relay.js';
import {
  authDevice,
  connectClient,
  emitAck,
  envelope,
  makeDevice,
  rawSocket,
  registerDevice,
  startTestRelay,
  type TestRelay,
} from './testkit.js';
import type { RelayClient } from '../shared/sync/client.js';
import type { Socket } from 'socket.io-client';

let relay: TestRelay;
const open: Array<RelayClient | Socket> = [];
const track = <T extends RelayClient | Socket>(c: T): T => {
  open.push(c);
  return c;
};

beforeAll(async () => {
  relay = await startTestRelay();
});
afterEach(() => {
  for (const c of open.splice(0)) (c as { close(): unknown }).close();
});
afterAll(async () => {
  await relay.dispose();
});

async function rejection(p: Promise<unknown>): Promise<RefugeError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RefugeError);
    return e as RefugeError;
  }
  throw new Error('expected a rejection');
}

describe('http', () => {
  it('GET /healthz answers 200; other paths 404', async () => {
    const ok = await fetch(`${relay.url}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    expect((await fetch(`${relay.url}/nope`)).status).toBe(404);
  });

  it('refuses a retention above 7 days', async () => {
    await expect(startRelay({ dataDir: relay.dataDir, retentionMs: 8 * 24 * 3_600_000 })).rejects.toThrow(/7 days/);
  });
});

describe('registration', () => {
  it('registers device 1 and authenticates the socket', async () => {
    const alice = await makeDevice('Alice_R1');
    const client = track(await registerDevice(relay.url, alice));
    // authenticated: an auth-only event works
    expect(await client.prekeyCount()).toEqual({ oneTimePrekeys: 5, kyberOneTimePrekeys: 5 });
  });

  it('refuses a taken username in another case or Unicode form', async () => {
    const first = await makeDevice('alice');
    track(await registerDevice(relay.url, first));
    for (const name of ['ALICE', 'Alice', 'ａｌｉｃｅ', 'ＡＬＩＣＥ', ' alice ']) {
      const other = await makeDevice(name);
      const error = await rejection(registerDevice(relay.url, other));
      expect(error.code, name).toBe('USERNAME_TAKEN');
    }
  });

  it('accepts a retried registration by the same identity key', async () => {
    const bob = await makeDevice('bob_retry');
    track(await registerDevice(relay.url, bob));
    const again = track(await registerDevice(relay.url, bob));
    expect(await again.prekeyCount()).toEqual({ oneTimePrekeys: 5, kyberOneTimePrekeys: 5 });
  });

  it('refuses invalid usernames and devices other than 1', async () => {
    for (const name of ['ab', 'a'.repeat(33), 'white space', 'émile', 'x/y']) {
      const d = await makeDevice(name);
      expect((await rejection(registerDevice(relay.url, d))).code, name).toBe('INVALID_USERNAME');
    }
    const d = await makeDevice('carol_dev2');
    const client = track(await connectClient(relay.url));
    const { challenge } = await client.hello();
    const error = await rejection(
      client.register({ username: d.username, deviceId: 2, keys: d.keys, signature: d.sign(challenge, d.username, 2) }),
    );
    expect(error.code).toBe('INVALID_DEVICE');
  });

  it('refuses a registration signed by a key other than the submitted identity key', async () => {
    const victim = await makeDevice('dave_forge');
    const attacker = await makeDevice('dave_forge');
    const client = track(await connectClient(relay.url));
    const { challenge } = await client.hello();
    const error = await rejection(
      client.register({ username: 'dave_forge', deviceId: 1, keys: victim.keys, signature: attacker.sign(challenge) }),
    );
    expect(error.code).toBe('AUTH_FAILED');
  });
});

describe('authentication', () => {
  it('accepts a valid signature over the challenge', async () => {
    const erin = await makeDevice('erin');
    track(await registerDevice(relay.url, erin));
    const { client } = await authDevice(relay.url, erin);
    track(client);
    expect(await client.prekeyCount()).toEqual({ oneTimePrekeys: 5, kyberOneTimePrekeys: 5 });
  });

  it('refuses a forged signature (wrong key, wrong challenge, wrong name or device)', async () => {
    const frank = await makeDevice('frank');
    const forger = await makeDevice('frank');
    track(await registerDevice(relay.url, frank));
    const client = track(await connectClient(relay.url));

    let { challenge } = await client.hello();
    expect((await rejection(client.auth({ username: 'frank', deviceId: 1, signature: forger.sign(challenge) }))).code).toBe('AUTH_FAILED');

    ({ challenge } = await client.hello());
    const otherChallenge = (await (track(await connectClient(relay.url))).hello()).challenge;
    expect((await rejection(client.auth({ username: 'frank', deviceId: 1, signature: frank.sign(otherChallenge) }))).code).toBe('AUTH_FAILED');

    ({ challenge } = await client.hello());
    // signed for device 2 but claims device 1
    expect((await rejection(client.auth({ username: 'frank', deviceId: 1, signature: frank.sign(challenge, 'frank', 2) }))).code).toBe(
      'AUTH_FAILED',
    );

    ({ challenge } = await client.hello());
    expect((await rejection(client.auth({ username: 'nobody_here', deviceId: 1, signature: frank.sign(challenge, 'nobody_here') }))).code).toBe(
      'AUTH_FAILED',
    );
    // still unauthenticated
    expect((await rejection(client.prekeyCount())).code).toBe('NOT_AUTHENTICATED');
  });

  it('refuses a replayed signature: a challenge is consumed on first use, success or not', async () => {
    const gina = await makeDevice('gina');
    track(await registerDevice(relay.url, gina));

    // 1. a signature that worked once does not work again on another socket (new challenge)
    const first = track(await connectClient(relay.url));
    const { challenge } = await first.hello();
    const signature = gina.sign(challenge);
    await first.auth({ username: 'gina', deviceId: 1, signature });
    const second = track(await connectClient(relay.url));
    await second.hello();
    expect((await rejection(second.auth({ username: 'gina', deviceId: 1, signature }))).code).toBe('AUTH_FAILED');

    // 2. nor on the same socket without a fresh hello
    const third = track(await connectClient(relay.url));
    const c3 = (await third.hello()).challenge;
    expect((await rejection(third.auth({ username: 'gina', deviceId: 1, signature: 'A'.repeat(86) }))).code).toBe('AUTH_FAILED');
    // the failed attempt consumed c3: the right signature for it is now refused too
    expect((await rejection(third.auth({ username: 'gina', deviceId: 1, signature: gina.sign(c3) }))).code).toBe('AUTH_FAILED');

    // 3. auth with no hello at all (c3 is from another socket)
    const fifth = track(await connectClient(relay.url));
    expect((await rejection(fifth.auth({ username: 'gina', deviceId: 1, signature: gina.sign(c3) }))).code).toBe('AUTH_FAILED');
  });

  it('a malformed auth consumes the challenge', async () => {
    const hank = await makeDevice('hank');
    track(await registerDevice(relay.url, hank));
    const socket = track(await rawSocket(relay.url));
    const { challenge } = await emitAck(socket, 'hello', {});
    const bad = await emitAck(socket, 'auth', { username: 'hank', deviceId: 'one', signature: hank.sign(challenge) });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const replay = await emitAck(socket, 'auth', { username: 'hank', deviceId: 1, signature: hank.sign(challenge) });
    expect(replay).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    const fresh = await emitAck(socket, 'hello', {});
    const good = await emitAck(socket, 'auth', { username: 'HANK', deviceId: 1, signature: hank.sign(fresh.challenge) });
    expect(good).toEqual({ ok: true, username: 'hank', deviceId: 1 });
    const again = await emitAck(socket, 'auth', { username: 'hank', deviceId: 1, signature: hank.sign(fresh.challenge) });
    expect(again).toMatchObject({ ok: false, error: { code: 'ALREADY_AUTHENTICATED' } });
  });
});

describe('malformed input', () => {
  it('gets an error reply and the relay keeps serving', async () => {
    const socket = track(await rawSocket(relay.url));
    const cases: Array<[string, unknown[], string]> = [
      ['auth', ['garbage'], 'BAD_REQUEST'],
      ['auth', [null], 'BAD_REQUEST'],
      ['auth', [{ username: 'x'.repeat(10_000), deviceId: 1, signature: 'AA' }], 'BAD_REQUEST'],
      ['register', [{ username: 'ivan', deviceId: 1, keys: { identityKey: 'not base64!' }, signature: 'AA' }], 'BAD_REQUEST'],
      ['register', [[1, 2, 3]], 'BAD_REQUEST'],
      ['envelopes.send', [{ envelopes: [{ id: 'x' }] }], 'NOT_AUTHENTICATED'],
      ['bundle.fetch', [{ username: 'alice' }], 'NOT_AUTHENTICATED'],
      ['no.such.event', [{}], 'UNKNOWN_EVENT'],
      ['hello', [{ deep: { a: [1, { b: 2 }] } }, 'extra', 42], 'OK'],
    ];
    for (const [event, args, code] of cases) {
      const reply = await emitAck(socket, event, ...args);
      if (code === 'OK') expect(reply.ok, event).toBe(true);
      else expect(reply, `${event} ${JSON.stringify(args).slice(0, 60)}`).toMatchObject({ ok: false, error: { code } });
    }
    // events without an ack callback are handled (and ignored) without crashing
    socket.emit('auth', 'garbage');
    socket.emit('envelopes.ack');
    socket.emit('unknown-event', 1, 2, 3);

    // authenticated, with bad payloads
    const ivan = await makeDevice('ivan');
    const client = track(await registerDevice(relay.url, ivan));
    const bad: Array<[Parameters<RelayClient['request']>[0], unknown]> = [
      ['envelopes.send', { envelopes: [] }],
      ['envelopes.send', { envelopes: [{ id: 'not-a-uuid', to: 'ivan', toDeviceId: 1, body: 'AA' }] }],
      ['envelopes.send', { envelopes: [{ ...envelope('ivan'), body: 'has spaces and ✓' }] }],
      ['envelopes.send', { envelopes: [{ ...envelope('ivan'), toDeviceId: 0 }] }],
      ['envelopes.ack', { ids: ['1', 2] }],
      ['prekeys.upload', { keys: { ...ivan.keys, oneTimePrekeys: 'many' } }],
      ['bundle.fetch', { username: 42 }],
    ];
    const authed = track(await rawSocket(relay.url));
    const { challenge } = await emitAck(authed, 'hello');
    expect((await emitAck(authed, 'auth', { username: 'ivan', deviceId: 1, signature: ivan.sign(challenge) })).ok).toBe(true);
    for (const [event, payload] of bad) {
      const reply = await emitAck(authed, event, payload);
      expect(reply, `${event} ${JSON.stringify(payload).slice(0, 80)}`).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    }
    // still serving: the same sockets and a new one work
    expect((await emitAck(socket, 'hello')).ok).toBe(true);
    expect(await client.prekeyCount()).toEqual({ oneTimePrekeys: 5, kyberOneTimePrekeys: 5 });
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
    const later = track(await connectClient(relay.url));
    expect((await later.hello()).challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('an oversized packet drops only that socket', async () => {
    const socket = track(await rawSocket(relay.url));
    const closed = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
    socket.emit('hello', { pad: 'x'.repeat(17_000_000) });
    await closed;
    const other = track(await connectClient(relay.url));
    expect((await other.hello()).challenge).toBeTruthy();
  });
});
