// Core behaviour that needs no relay: prekey top-ups and permanently refused envelopes.
import { describe, expect, it } from 'vitest';
import { fromBase64url } from '../../../shared/encoding/base64url.js';
import { tempDir } from '../../../e2e/support/harness.js';
import { ARGON2ID_PRESETS } from '../vault/argon2.js';
import { PassphraseKeyProtector } from '../vault/passphrase.js';
import { Core, KYBER_ONE_TIME_BATCH, ONE_TIME_PREKEY_BATCH } from './core.js';

async function readyCore(username: string) {
  const core = await Core.open({
    profileDir: tempDir(`core-${username}`),
    defaultServerUrl: 'http://127.0.0.1:1',
    passphraseRequired: true,
    protector: (p) => new PassphraseKeyProtector(p ?? '', { params: ARGON2ID_PRESETS.min }),
  });
  const registration = await core.handle('account.create', { username, serverUrl: 'http://127.0.0.1:1', passphrase: 'pass phrase' });
  await core.handle('account.markRegistered', {});
  return { core, registration };
}

/** Alice opens a session from Bob's public keys as the relay would hand them out; her conversation id. */
async function addBobTo(alice: Awaited<ReturnType<typeof readyCore>>, bob: Awaited<ReturnType<typeof readyCore>>): Promise<string> {
  const bundle = {
    username: 'bob',
    deviceId: 1,
    identityKey: bob.registration.keys.identityKey,
    signedPrekey: bob.registration.keys.signedPrekey,
    kyberPrekey: { ...bob.registration.keys.kyberLastResort, lastResort: true },
  };
  const { conversationId } = await alice.core.handle('contacts.add', { bundles: [bundle] });
  return conversationId;
}

describe('Core', () => {
  it('tops up one-time prekeys with fresh ids only when the relay runs low', async () => {
    const { core, registration } = await readyCore('alice');
    try {
      expect(await core.handle('relay.prekeyRefill', { oneTimePrekeys: 50, kyberOneTimePrekeys: 10 })).toEqual({ keys: null });
      const { keys } = await core.handle('relay.prekeyRefill', { oneTimePrekeys: 3, kyberOneTimePrekeys: 0 });
      expect(keys?.oneTimePrekeys).toHaveLength(ONE_TIME_PREKEY_BATCH);
      expect(keys?.kyberOneTimePrekeys).toHaveLength(KYBER_ONE_TIME_BATCH);
      const before = new Set([...registration.keys.oneTimePrekeys, ...registration.keys.kyberOneTimePrekeys].map((k) => k.id));
      const fresh = [...(keys?.oneTimePrekeys ?? []), ...(keys?.kyberOneTimePrekeys ?? [])].map((k) => k.id);
      expect(new Set(fresh).size).toBe(fresh.length);
      expect(fresh.filter((id) => before.has(id))).toEqual([]);
      // Same identity and signed prekey as registered: the relay can verify them against the account.
      expect(keys?.identityKey).toBe(registration.keys.identityKey);
      expect(fromBase64url(keys?.signedPrekey.publicKey ?? '')).toEqual(fromBase64url(registration.keys.signedPrekey.publicKey));
      // A second top-up continues after the first: ids never repeat.
      const again = await core.handle('relay.prekeyRefill', { oneTimePrekeys: 0, kyberOneTimePrekeys: 99 });
      expect(again.keys?.kyberOneTimePrekeys).toHaveLength(0);
      expect(Math.min(...(again.keys?.oneTimePrekeys ?? []).map((k) => k.id))).toBeGreaterThan(Math.max(...fresh));
    } finally {
      core.close();
    }
  });

  it('marks a message failed when the relay refuses its envelope for good, and stops resending it', async () => {
    const alice = await readyCore('alice');
    const bob = await readyCore('bob');
    try {
      const conversationId = await addBobTo(alice, bob);
      const message = await alice.core.handle('messages.send', { conversationId, text: 'hello' });
      const { envelopes } = await alice.core.handle('outbox.pending', { limit: 10 });
      expect(envelopes).toHaveLength(1);
      await alice.core.handle('outbox.markFailed', { failures: [{ id: envelopes[0]?.id ?? '', code: 'UNKNOWN_RECIPIENT' }] });
      expect((await alice.core.handle('outbox.pending', { limit: 10 })).envelopes).toEqual([]);
      const page = await alice.core.handle('messages.list', { conversationId, limit: 10 });
      expect(page.messages.find((m) => m.id === message.id)?.status).toBe('failed');
    } finally {
      alice.core.close();
      bob.core.close();
    }
  });

  it('rejects an envelope whose body is not base64url and stores the rest of its batch', async () => {
    const alice = await readyCore('alice');
    const bob = await readyCore('bob');
    try {
      const conversationId = await addBobTo(alice, bob);
      await alice.core.handle('messages.send', { conversationId, text: 'still arrives' });
      const [sent] = (await alice.core.handle('outbox.pending', { limit: 10 })).envelopes;
      // The relay checks only the alphabet, so a body of 5 characters gets through to Bob.
      const bad = { id: crypto.randomUUID(), from: 'alice', fromDeviceId: 1, body: 'AAAAA', receivedAt: 1 };
      const good = { id: sent?.id ?? '', from: 'alice', fromDeviceId: 1, body: sent?.body ?? '', receivedAt: 1 };
      const { results } = await bob.core.handle('envelopes.receive', { envelopes: [bad, good] });
      expect(results.map((r) => r.outcome)).toEqual(['rejected', 'stored']);
      expect(results[1]?.message?.text).toBe('still arrives');
    } finally {
      alice.core.close();
      bob.core.close();
    }
  });

  it('stores an envelope repeated within a batch or redelivered later once, and queues one receipt per batch', async () => {
    const alice = await readyCore('alice');
    const bob = await readyCore('bob');
    try {
      const conversationId = await addBobTo(alice, bob);
      await alice.core.handle('messages.send', { conversationId, text: 'first' });
      await alice.core.handle('messages.send', { conversationId, text: 'second' });
      const delivered = (await alice.core.handle('outbox.pending', { limit: 10 })).envelopes.map((e) => ({
        id: e.id,
        from: 'alice',
        fromDeviceId: 1,
        body: e.body,
        receivedAt: 1,
      }));
      const [first, second] = delivered;
      if (!first || !second) throw new Error('alice queued fewer than two envelopes');
      const batch = await bob.core.handle('envelopes.receive', { envelopes: [first, first, second] });
      expect(batch.results.map((r) => r.outcome)).toEqual(['stored', 'duplicate', 'stored']);
      const again = await bob.core.handle('envelopes.receive', { envelopes: [first, second] });
      expect(again.results.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
      const conversations = await bob.core.handle('conversations.list', {});
      expect(conversations.map((c) => [c.peer, c.unreadCount, c.lastMessage?.text])).toEqual([['alice', 2, 'second']]);
      // one delivery receipt for both messages, to alice's device
      const receipts = (await bob.core.handle('outbox.pending', { limit: 10 })).envelopes;
      expect(receipts.map((e) => e.to)).toEqual(['alice']);
    } finally {
      alice.core.close();
      bob.core.close();
    }
  });
});
