// Receipts, typing, replies, retry and mute between two real cores (encrypted profiles, real
// sessions), with envelopes handed from one core's outbox to the other's envelopes.receive.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../shared/ipc/contract.js';
import { decodePayload } from './payload.js';
import { fromBase64url } from '../../../shared/encoding/base64url.js';
import { addContact, Clock, closeAll, deliver, discardOutbox, newPeer, pendingCount, type Peer } from './social-harness.js';
import { TYPING_MAX_AGE_MS, TYPING_RESEND_MS, TYPING_SHOW_MS } from './presence.js';

let clock: Clock;
let alice: Peer;
let bob: Peer;
/** Alice's and Bob's ids of their conversation with each other */
let aliceConv: string;
let bobConv: string;

beforeEach(async () => {
  clock = new Clock();
  alice = await newPeer('alice', clock);
  bob = await newPeer('bob', clock);
  aliceConv = await addContact(alice, bob);
  // Bob learns of Alice from her first message, as in real use.
  await alice.api.messages.send({ conversationId: aliceConv, text: 'hello bob' });
  const [first] = await deliver(alice, bob, clock);
  const conv = first?.message?.conversationId;
  if (!conv) throw new Error('the first message did not arrive');
  bobConv = conv;
  await deliver(bob, alice, clock); // Bob's delivery receipt
});

afterEach(() => closeAll([alice, bob]));

async function statusOf(peer: Peer, conversationId: string, messageId: string): Promise<string | undefined> {
  const { messages } = await peer.api.messages.list({ conversationId, limit: 500 });
  return messages.find((m) => m.id === messageId)?.status;
}

async function setSetting(peer: Peer, patch: { receipts?: boolean; typing?: boolean }): Promise<void> {
  await peer.core.handle('settings.update', patch);
}

describe('read receipts', { timeout: 60_000 }, () => {
  it('delivered, then read when the recipient opens the conversation (both with receipts on)', async () => {
    const sent = await alice.api.messages.send({ conversationId: aliceConv, text: 'did you read this?' });
    expect(sent.status).toBe('sending');
    await deliver(alice, bob, clock);
    expect(await statusOf(alice, aliceConv, sent.id)).toBe('sent');

    await deliver(bob, alice, clock); // delivery receipt
    expect(await statusOf(alice, aliceConv, sent.id)).toBe('delivered');

    await bob.api.conversations.markRead({ conversationId: bobConv });
    const results = await deliver(bob, alice, clock);
    expect(results.map((r) => r.outcome)).toEqual(['stored']);
    expect(results[0]?.message).toBeUndefined(); // a receipt is not a chat message
    expect(await statusOf(alice, aliceConv, sent.id)).toBe('read');
    // Both of Alice's messages were read; a later delivery receipt never moves 'read' back.
    const first = (await alice.api.messages.list({ conversationId: aliceConv })).messages[0];
    expect(first?.status).toBe('read');

    // Marking read again sends nothing new: only newly read messages are named.
    await bob.api.conversations.markRead({ conversationId: bobConv });
    expect(await pendingCount(bob)).toBe(0);
  });

  it('a read receipt names exactly the messages read (not ones that arrive later)', async () => {
    await bob.api.conversations.markRead({ conversationId: bobConv });
    await deliver(bob, alice, clock);
    const later = await alice.api.messages.send({ conversationId: aliceConv, text: 'one more' });
    await deliver(alice, bob, clock);
    await deliver(bob, alice, clock);
    expect(await statusOf(alice, aliceConv, later.id)).toBe('delivered');
    await bob.api.conversations.markRead({ conversationId: bobConv });
    await deliver(bob, alice, clock);
    expect(await statusOf(alice, aliceConv, later.id)).toBe('read');
  });

  it('with receipts off on the reader, no read receipt is sent (delivery receipts still are)', async () => {
    await setSetting(bob, { receipts: false });
    const sent = await alice.api.messages.send({ conversationId: aliceConv, text: 'private reading' });
    await deliver(alice, bob, clock);
    expect(await pendingCount(bob)).toBe(1); // the delivery receipt
    await deliver(bob, alice, clock);
    await bob.api.conversations.markRead({ conversationId: bobConv });
    expect(await pendingCount(bob)).toBe(0);
    expect(await statusOf(alice, aliceConv, sent.id)).toBe('delivered');
    expect((await bob.api.conversations.list({})).find((c) => c.id === bobConv)?.unreadCount).toBe(0);
  });

  it('with receipts off on the sender, read receipts that arrive are not shown', async () => {
    await setSetting(alice, { receipts: false });
    const sent = await alice.api.messages.send({ conversationId: aliceConv, text: 'you may read this' });
    await deliver(alice, bob, clock);
    await deliver(bob, alice, clock);
    await bob.api.conversations.markRead({ conversationId: bobConv });
    expect(await pendingCount(bob)).toBe(1); // Bob's side is on: the receipt goes out
    await deliver(bob, alice, clock);
    expect(await statusOf(alice, aliceConv, sent.id)).toBe('delivered');
  });
});

describe('typing indicators', { timeout: 60_000 }, () => {
  it('show on the other side, refresh, stop, and expire', async () => {
    expect(await alice.api.presence.typing({ conversationId: aliceConv, typing: true })).toEqual({ queued: true });
    await deliver(alice, bob, clock);
    const { typing } = await bob.api.presence.state({ conversationId: bobConv });
    expect(typing).toEqual([{ conversationId: bobConv, peer: 'alice', until: clock.now() + TYPING_SHOW_MS }]);
    expect((await bob.api.presence.state({})).typing).toHaveLength(1);
    // Typing state is not a message: nothing stored, nothing unread.
    expect((await bob.api.messages.list({ conversationId: bobConv })).messages).toHaveLength(1);

    // Repeated keystrokes are throttled; after the resend interval a refresh goes out.
    expect(await alice.api.presence.typing({ conversationId: aliceConv, typing: true })).toEqual({ queued: false });
    clock.advance(TYPING_RESEND_MS);
    expect(await alice.api.presence.typing({ conversationId: aliceConv, typing: true })).toEqual({ queued: true });
    await deliver(alice, bob, clock);
    expect((await bob.api.presence.state({ conversationId: bobConv })).typing[0]?.until).toBe(clock.now() + TYPING_SHOW_MS);

    // An explicit stop clears it.
    expect(await alice.api.presence.typing({ conversationId: aliceConv, typing: false })).toEqual({ queued: true });
    await deliver(alice, bob, clock);
    expect((await bob.api.presence.state({})).typing).toEqual([]);

    // Without a stop, it expires.
    clock.advance(TYPING_RESEND_MS);
    await alice.api.presence.typing({ conversationId: aliceConv, typing: true });
    await deliver(alice, bob, clock);
    expect((await bob.api.presence.state({})).typing).toHaveLength(1);
    clock.advance(TYPING_SHOW_MS);
    expect((await bob.api.presence.state({})).typing).toEqual([]);
  });

  it('a message from the typist clears the indicator', async () => {
    await alice.api.presence.typing({ conversationId: aliceConv, typing: true });
    await deliver(alice, bob, clock);
    expect((await bob.api.presence.state({})).typing).toHaveLength(1);
    await alice.api.messages.send({ conversationId: aliceConv, text: 'done typing' });
    await deliver(alice, bob, clock);
    expect((await bob.api.presence.state({})).typing).toEqual([]);
    // Sending reset the throttle: the next keystroke shows again at once.
    expect(await alice.api.presence.typing({ conversationId: aliceConv, typing: true })).toEqual({ queued: true });
  });

  it('a typing envelope that arrives late (queued offline) is dropped', async () => {
    await alice.api.presence.typing({ conversationId: aliceConv, typing: true });
    clock.advance(TYPING_MAX_AGE_MS + 1);
    const results = await deliver(alice, bob, clock);
    expect(results.map((r) => r.outcome)).toEqual(['stored']); // consumed and acked, but not shown
    expect((await bob.api.presence.state({})).typing).toEqual([]);
  });

  it('typing off on the sender: nothing is sent', async () => {
    await setSetting(alice, { typing: false });
    expect(await alice.api.presence.typing({ conversationId: aliceConv, typing: true })).toEqual({ queued: false });
    expect(await pendingCount(alice)).toBe(0);
  });

  it('typing off on the receiver: nothing is shown', async () => {
    await setSetting(bob, { typing: false });
    expect(await alice.api.presence.typing({ conversationId: aliceConv, typing: true })).toEqual({ queued: true });
    await deliver(alice, bob, clock);
    expect((await bob.api.presence.state({})).typing).toEqual([]);
    await setSetting(bob, { typing: true });
    expect((await bob.api.presence.state({})).typing).toEqual([]); // it was never recorded
  });

  it('the typing envelope is encrypted like a message: the relay sees only ciphertext', async () => {
    await alice.api.presence.typing({ conversationId: aliceConv, typing: true });
    const { envelopes } = await alice.api.outbox.pending({ limit: 10 });
    expect(envelopes).toHaveLength(1);
    const body = fromBase64url(envelopes[0]?.body ?? '');
    expect(() => decodePayload(body)).toThrow();
    expect(Buffer.from(body).includes(Buffer.from('typing'))).toBe(false);
  });
});

describe('replies', { timeout: 60_000 }, () => {
  it('carry the quoted message across, on both sides and in history', async () => {
    const original = (await bob.api.messages.list({ conversationId: bobConv })).messages[0];
    if (!original) throw new Error('no message');
    const reply = await bob.api.messages.send({ conversationId: bobConv, text: 'replying to you', replyTo: original.id });
    expect(reply.replyTo).toEqual({ id: original.id, found: true, sender: 'alice', text: 'hello bob' });

    const [result] = await deliver(bob, alice, clock);
    expect(result?.message?.replyTo).toEqual({ id: original.id, found: true, sender: 'me', text: 'hello bob' });
    const history = (await alice.api.messages.list({ conversationId: aliceConv })).messages;
    expect(history.find((m) => m.id === reply.id)?.replyTo).toEqual({ id: original.id, found: true, sender: 'me', text: 'hello bob' });
    expect(history.find((m) => m.id === original.id)?.replyTo).toBeNull();
    const bobHistory = (await bob.api.messages.list({ conversationId: bobConv })).messages;
    expect(bobHistory.find((m) => m.id === reply.id)?.replyTo?.sender).toBe('alice');
  });

  it('quote long text truncated, and refuse a message from another conversation', async () => {
    const long = 'ㄱ'.repeat(150) + '😀'.repeat(100);
    const sent = await alice.api.messages.send({ conversationId: aliceConv, text: long });
    const reply = await alice.api.messages.send({ conversationId: aliceConv, text: 're', replyTo: sent.id });
    expect(reply.replyTo?.text).toBe('ㄱ'.repeat(150) + '😀'.repeat(50) + '…');

    const carol = await newPeer('carol', clock);
    try {
      const carolConv = await addContact(alice, carol);
      await expect(alice.api.messages.send({ conversationId: carolConv, text: 'x', replyTo: sent.id })).rejects.toMatchObject({
        code: 'UNKNOWN_MESSAGE',
      });
    } finally {
      carol.core.close();
    }
  });

  it('a reply to a message this device never had shows as not found', async () => {
    const gone = await alice.api.messages.send({ conversationId: aliceConv, text: 'lost on the way' });
    await discardOutbox(alice);
    await alice.api.messages.send({ conversationId: aliceConv, text: 'see above', replyTo: gone.id });
    const [result] = await deliver(alice, bob, clock);
    expect(result?.message?.replyTo).toEqual({ id: gone.id, found: false, sender: '', text: '' });
  });
});

describe('retry and mute', { timeout: 60_000 }, () => {
  it('a failed message can be retried and arrives once', async () => {
    const sent = await alice.api.messages.send({ conversationId: aliceConv, text: 'try again' });
    const { envelopes } = await alice.api.outbox.pending({ limit: 10 });
    await alice.api.outbox.markFailed({ failures: envelopes.map((e) => ({ id: e.id, code: 'UNKNOWN_DEVICE' })) });
    expect(await statusOf(alice, aliceConv, sent.id)).toBe('failed');
    expect(await pendingCount(alice)).toBe(0);

    const retried = await alice.api.messages.retry({ messageId: sent.id });
    expect(retried).toMatchObject({ id: sent.id, status: 'sending', text: 'try again' });
    expect(await pendingCount(alice)).toBe(1);
    const results = await deliver(alice, bob, clock);
    expect(results.map((r) => r.message?.text)).toEqual(['try again']);
    expect(await statusOf(alice, aliceConv, sent.id)).toBe('sent');
    await deliver(bob, alice, clock);
    expect(await statusOf(alice, aliceConv, sent.id)).toBe('delivered');

    await expect(alice.api.messages.retry({ messageId: sent.id })).rejects.toMatchObject({ code: 'NOT_RETRYABLE' });
    const incoming = (await alice.api.messages.list({ conversationId: aliceConv })).messages.find((m: Message) => !m.outgoing);
    if (incoming) await expect(alice.api.messages.retry({ messageId: incoming.id })).rejects.toMatchObject({ code: 'NOT_RETRYABLE' });
  });

  it('a retried message that had in fact arrived is not shown twice', async () => {
    const sent = await alice.api.messages.send({ conversationId: aliceConv, text: 'maybe lost' });
    const { envelopes } = await alice.api.outbox.pending({ limit: 10 });
    // The first copy arrives; Alice is told (wrongly) it failed.
    await bob.api.envelopes.receive({
      envelopes: envelopes.map((e) => ({ id: e.id, from: 'alice', fromDeviceId: 1, body: e.body, receivedAt: clock.now() })),
    });
    await alice.api.outbox.markFailed({ failures: envelopes.map((e) => ({ id: e.id, code: 'TIMEOUT' })) });
    await alice.api.messages.retry({ messageId: sent.id });
    const results = await deliver(alice, bob, clock);
    expect(results.map((r) => r.outcome)).toEqual(['duplicate']);
    const copies = (await bob.api.messages.list({ conversationId: bobConv })).messages.filter((m) => m.id === sent.id);
    expect(copies).toHaveLength(1);
  });

  it('mute is per conversation and shows in the list', async () => {
    const muted = async () => (await alice.api.conversations.list({})).find((c) => c.id === aliceConv)?.muted;
    expect(await muted()).toBe(false);
    await alice.api.conversations.setMuted({ conversationId: aliceConv, muted: true });
    expect(await muted()).toBe(true);
    expect((await bob.api.conversations.list({})).find((c) => c.id === bobConv)?.muted).toBe(false);
    await alice.api.conversations.setMuted({ conversationId: aliceConv, muted: false });
    expect(await muted()).toBe(false);
    await expect(alice.api.conversations.setMuted({ conversationId: 'nope', muted: true })).rejects.toMatchObject({
      code: 'UNKNOWN_CONVERSATION',
    });
  });
});
