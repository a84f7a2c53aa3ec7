// registerAccount / addContact / flushOutbox / coreFromApi against a real relay, with a fake RefugeApi.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authDevice, envelope, makeDevice, registerDevice, startTestRelay, type TestDevice, type TestRelay } from '../../server/testkit.js';
import { createApi, type RefugeApi } from '../ipc/api.js';
import { type Channel, contract, type Registration } from '../ipc/contract.js';
import { coreFromApi } from './core.js';
import { SyncEngine } from './engine.js';
import { addContact, flushOutbox, registerAccount } from './flows.js';
import { FakeCore } from './testing.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay.dispose();
});

interface Fake {
  api: RefugeApi;
  core: FakeCore;
  calls: Array<[Channel, unknown]>;
}

function fakeApi(device: TestDevice, signAs = device.username): Fake {
  const core = new FakeCore(signAs, device.sign);
  const calls: Array<[Channel, unknown]> = [];
  const api = createApi(async (channel, request) => {
    const req = contract[channel].request.parse(request) as never;
    calls.push([channel, req]);
    // any: each case reads the fields its own channel's schema (parsed just above) guarantees.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const r = req as Record<string, any>;
    let response: unknown;
    switch (channel) {
      case 'relay.signChallenge':
        response = await core.signChallenge(r.challenge);
        break;
      case 'account.markRegistered':
        response = { state: 'ready', username: device.username, deviceId: 1, passphraseRequired: false };
        break;
      case 'contacts.add':
        response = {
          contact: { username: (r.bundles as Array<{ username: string }>)[0]!.username, identityKey: 'x', verified: false, addedAt: 1, identityChanged: false },
          conversationId: 'conv-1',
        };
        break;
      case 'envelopes.receive':
        response = { results: await core.receive(r.envelopes) };
        break;
      case 'outbox.pending':
        response = { envelopes: await core.pendingOutbox(r.limit) };
        break;
      case 'outbox.markSent':
        await core.markSent(r.ids);
        response = { ok: true };
        break;
      case 'relay.prekeyRefill':
        response = { keys: await core.prekeyRefill(r as { oneTimePrekeys: number; kyberOneTimePrekeys: number }) };
        break;
      default:
        throw new Error(`unexpected channel ${channel}`);
    }
    return contract[channel].response.parse(response) as never;
  });
  return { api, core, calls };
}

const registration = (d: TestDevice): Registration => ({ username: d.username, deviceId: 1, keys: d.keys });

describe('registerAccount', () => {
  it('registers the keys with the relay, then marks the account registered', async () => {
    const alice = await makeDevice('Alice');
    const fake = fakeApi(alice, 'alice');
    await registerAccount(fake.api, relay.url, registration(alice));
    expect(fake.calls.map(([c]) => c)).toEqual(['relay.signChallenge', 'account.markRegistered']);
    const { client } = await authDevice(relay.url, alice); // the relay knows the device now
    client.close();
  });

  it('refuses a taken name (any case or width) and does not mark registered', async () => {
    const first = await makeDevice('zoe');
    await registerAccount(fakeApi(first).api, relay.url, registration(first));
    const second = await makeDevice('ＺＯＥ');
    const fake = fakeApi(second, 'zoe');
    await expect(registerAccount(fake.api, relay.url, registration(second))).rejects.toMatchObject({ code: 'USERNAME_TAKEN' });
    expect(fake.calls.map(([c]) => c)).not.toContain('account.markRegistered');
  });

  it('refuses when the core signs for another account', async () => {
    const d = await makeDevice('yann');
    await expect(registerAccount(fakeApi(d, 'someone_else').api, relay.url, registration(d))).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('reports an unreachable relay as RELAY_UNREACHABLE', async () => {
    const d = await makeDevice('xavier');
    await expect(registerAccount(fakeApi(d).api, 'http://127.0.0.1:1', registration(d), { connectTimeoutMs: 2000 })).rejects.toMatchObject({
      code: 'RELAY_UNREACHABLE',
    });
  });
});

describe('addContact', () => {
  it('fetches the bundles and hands them to contacts.add', async () => {
    const bob = await makeDevice('bob');
    (await registerDevice(relay.url, bob)).close();
    const carol = await makeDevice('carol');
    (await registerDevice(relay.url, carol)).close();
    const fake = fakeApi(carol);
    const result = await addContact(fake.api, relay.url, 'BOB');
    expect(result).toEqual({ contact: expect.objectContaining({ username: 'bob' }), conversationId: 'conv-1' });
    const add = fake.calls.find(([c]) => c === 'contacts.add')?.[1] as { bundles: Array<Record<string, unknown>> };
    expect(add.bundles).toHaveLength(1);
    expect(add.bundles[0]).toMatchObject({ username: 'bob', deviceId: 1, identityKey: bob.keys.identityKey });
    expect(add.bundles[0]?.oneTimePrekey).toBeDefined();
  });

  it('USER_NOT_FOUND for an unknown name; contacts.add is not called', async () => {
    const dan = await makeDevice('dan');
    (await registerDevice(relay.url, dan)).close();
    const fake = fakeApi(dan);
    await expect(addContact(fake.api, relay.url, 'nobody_by_that_name')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    expect(fake.calls.map(([c]) => c)).toEqual(['relay.signChallenge']);
  });
});

describe('flushOutbox and coreFromApi', () => {
  it('sends the outbox once; the recipient syncs it through the contract', async () => {
    const erin = await makeDevice('erin');
    const fred = await makeDevice('fred');
    for (const d of [erin, fred]) (await registerDevice(relay.url, d)).close();
    const sender = fakeApi(erin);
    const envs = [envelope('fred'), envelope('fred')];
    sender.core.outbox.push(...envs);
    expect(await flushOutbox(sender.api, relay.url)).toEqual({ sent: 2, rejected: [] });
    expect(sender.core.markedSent).toEqual(envs.map((e) => e.id));
    expect(await flushOutbox(sender.api, relay.url)).toEqual({ sent: 0, rejected: [] });

    const receiver = fakeApi(fred);
    const engine = new SyncEngine({ serverUrl: relay.url, core: coreFromApi(receiver.api) });
    try {
      await engine.drain();
    } finally {
      await engine.stop();
    }
    expect([...receiver.core.stored.keys()]).toEqual(envs.map((e) => e.id));
    const channels = receiver.calls.map(([c]) => c);
    expect(channels[0]).toBe('relay.signChallenge');
    expect(channels.filter((c) => c === 'envelopes.receive')).toHaveLength(1);
    // After auth the engine asks whether the relay needs more one-time prekeys (this fake says no).
    expect(channels).toContain('relay.prekeyRefill');
    expect(receiver.core.refillCounts).toEqual([{ oneTimePrekeys: fred.keys.oneTimePrekeys.length, kyberOneTimePrekeys: fred.keys.kyberOneTimePrekeys.length }]);
    expect(new Set(channels)).toEqual(new Set(['relay.signChallenge', 'envelopes.receive', 'outbox.pending', 'relay.prekeyRefill']));
  });
});
