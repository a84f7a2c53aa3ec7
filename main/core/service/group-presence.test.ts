// Typing indicators and per-member receipts in groups (issue 8), between real cores on real
// encrypted profiles, with envelopes handed from one core's outbox to another's inbox.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../../../shared/ipc/api.js';
import type { Message } from '../../../shared/ipc/contract.js';
import { ARGON2ID_PRESETS, PassphraseKeyProtector, unlockVault } from '../vault/index.js';
import { openStore } from '../store/index.js';
import { Core } from './core.js';
import type { Payload } from './payload.js';
import { queueForPeer, TYPING_RESEND_MS, TYPING_SHOW_MS } from './presence.js';
import { bundleOf, Clock, closeAll, deliver, newPeer, pendingCount, type Peer } from './social-harness.js';

const PASSPHRASE = 'test passphrase'; // social-harness's

let clock: Clock;
let alice: Peer;
let bob: Peer;
let carol: Peer;
let dave: Peer;
let everyone: Peer[];
let groupId: string;
/** each member's id of the group conversation */
const conv = new Map<Peer, string>();

/** Pairwise sessions between every two of `peers` (the first named initiates). */
async function connect(peers: Peer[]): Promise<void> {
  for (let i = 0; i < peers.length; i++) {
    for (let j = i + 1; j < peers.length; j++) {
      const [a, b] = [peers[i], peers[j]] as [Peer, Peer];
      await a.api.groups.openSessions({ bundles: [bundleOf(b)] });
    }
  }
}

/** Hands everything queued to its recipients until nothing moves; returns how many envelopes moved. */
async function settle(): Promise<number> {
  let total = 0;
  for (let round = 0; round < 20; round++) {
    let moved = 0;
    for (const from of everyone) for (const to of everyone) if (from !== to) moved += (await deliver(from, to, clock)).length;
    total += moved;
    if (moved === 0) return total;
  }
  throw new Error('did not settle');
}

/** Recipients of what `peer` has queued, sorted. */
async function queuedTo(peer: Peer): Promise<string[]> {
  return (await peer.api.outbox.pending({ limit: 1000 })).envelopes.map((e) => e.to).sort();
}

async function messageAt(peer: Peer, id: string): Promise<Message | undefined> {
  const { messages } = await peer.api.messages.list({ conversationId: conv.get(peer) ?? '', limit: 500 });
  return messages.find((m) => m.id === id);
}

async function typingAt(peer: Peer) {
  return (await peer.api.presence.state({ conversationId: conv.get(peer) ?? '' })).typing;
}

/**
 * `from`'s device sends `to` a payload of its own making in their real pairwise session (a
 * modified client): the store is opened directly, then the core reopened.
 */
async function forge(from: Peer, to: Peer, payload: Payload): Promise<void> {
  from.core.close();
  const key = await unlockVault(from.dir, new PassphraseKeyProtector(PASSPHRASE, { params: ARGON2ID_PRESETS.min }));
  const store = openStore(from.dir, key);
  try {
    store.transaction(() => queueForPeer(store, to.username, payload, null, clock.now()));
  } finally {
    store.close();
    key.fill(0);
  }
  from.core = await Core.open({
    profileDir: from.dir,
    defaultServerUrl: 'http://127.0.0.1:9',
    passphraseRequired: true,
    protector: (passphrase) => new PassphraseKeyProtector(passphrase ?? PASSPHRASE, { params: ARGON2ID_PRESETS.min }),
    now: clock.now,
  });
  const core = from.core;
  from.api = createApi((channel, request) => core.handle(channel, request));
  await from.api.vault.unlock({ passphrase: PASSPHRASE });
  // It authenticates and is taken in like any payload: what it claims is what gets ignored.
  expect((await deliver(from, to, clock)).map((r) => r.outcome)).toEqual(['stored']);
}

beforeEach(async () => {
  clock = new Clock();
  [alice, bob, carol, dave] = [await newPeer('alice', clock), await newPeer('bob', clock), await newPeer('carol', clock), await newPeer('dave', clock)];
  everyone = [alice, bob, carol, dave];
  await connect([alice, bob, carol]);
  // Dave has a session with Alice but is not in the group.
  await dave.api.groups.openSessions({ bundles: [bundleOf(alice)] });
  const created = await alice.api.groups.create({ name: 'Trio', members: ['bob', 'carol'] });
  groupId = created.groupId;
  await settle();
  conv.clear();
  for (const p of [alice, bob, carol]) conv.set(p, (await p.api.groups.info({ groupId })).conversationId);
});

afterEach(() => closeAll(everyone));

describe('typing in groups', { timeout: 60_000 }, () => {
  it("bob's typing shows at alice and carol with peer 'bob', refreshes at most every few seconds, and clears", async () => {
    expect(await bob.api.presence.typing({ conversationId: conv.get(bob) ?? '', typing: true })).toEqual({ queued: true });
    // One copy per member, each pairwise: the same as a 1:1 indicator on the wire.
    expect(await queuedTo(bob)).toEqual(['alice', 'carol']);
    await settle();
    for (const p of [alice, carol]) {
      expect(await typingAt(p)).toEqual([{ conversationId: conv.get(p), peer: 'bob', until: clock.now() + TYPING_SHOW_MS }]);
    }
    // Not a message: nothing stored, nothing unread; and nothing shows at bob himself.
    expect((await alice.api.conversations.list({})).find((c) => c.id === conv.get(alice))?.unreadCount).toBe(0);
    expect(await typingAt(bob)).toEqual([]);

    // Throttled like 1:1.
    expect(await bob.api.presence.typing({ conversationId: conv.get(bob) ?? '', typing: true })).toEqual({ queued: false });
    clock.advance(TYPING_RESEND_MS);

    // Two members typing at once both show.
    await carol.api.presence.typing({ conversationId: conv.get(carol) ?? '', typing: true });
    await settle();
    expect((await typingAt(alice)).map((t) => t.peer).sort()).toEqual(['bob', 'carol']);

    // Bob stops: only his indicator goes. Carol's message clears hers.
    expect(await bob.api.presence.typing({ conversationId: conv.get(bob) ?? '', typing: false })).toEqual({ queued: true });
    await settle();
    expect((await typingAt(alice)).map((t) => t.peer)).toEqual(['carol']);
    await carol.api.messages.send({ conversationId: conv.get(carol) ?? '', text: 'hi all' });
    await settle();
    expect(await typingAt(alice)).toEqual([]);
    expect(await typingAt(bob)).toEqual([]);
    // Sending reset carol's throttle: her next keystroke goes out at once.
    expect(await carol.api.presence.typing({ conversationId: conv.get(carol) ?? '', typing: true })).toEqual({ queued: true });
  });

  it('the typing setting holds both ways', async () => {
    await carol.core.handle('settings.update', { typing: false });
    expect(await carol.api.presence.typing({ conversationId: conv.get(carol) ?? '', typing: true })).toEqual({ queued: false });
    expect(await pendingCount(carol)).toBe(0);
    await bob.api.presence.typing({ conversationId: conv.get(bob) ?? '', typing: true });
    expect(await queuedTo(bob)).toEqual(['alice', 'carol']); // bob cannot know carol's setting
    await settle();
    expect(await typingAt(carol)).toEqual([]);
    // Turned back on, carol still does not show what arrived while it was off.
    await carol.core.handle('settings.update', { typing: true });
    expect(await typingAt(carol)).toEqual([]);
    expect((await typingAt(alice)).map((t) => t.peer)).toEqual(['bob']);
  });
});

describe('receipts in groups', { timeout: 60_000 }, () => {
  it("alice's message becomes delivered once every member has it, then read, with readBy growing per member", async () => {
    const sent = await alice.api.messages.send({ conversationId: conv.get(alice) ?? '', text: 'Dinner at 7?' });
    await deliver(alice, bob, clock);
    await deliver(alice, carol, clock);
    expect(await messageAt(alice, sent.id)).toMatchObject({ status: 'sent', readBy: [] });

    // Delivery receipts go to the sender only, pairwise.
    expect(await queuedTo(bob)).toEqual(['alice']);
    await deliver(bob, alice, clock);
    expect((await messageAt(alice, sent.id))?.status).toBe('sent'); // carol's is still on its way
    await deliver(carol, alice, clock);
    expect((await messageAt(alice, sent.id))?.status).toBe('delivered');

    await bob.api.conversations.markRead({ conversationId: conv.get(bob) ?? '' });
    expect(await queuedTo(bob)).toEqual(['alice']); // not carol: read receipts are not for the group
    await deliver(bob, alice, clock);
    expect(await messageAt(alice, sent.id)).toMatchObject({ status: 'delivered', readBy: ['bob'] });

    clock.advance(1000);
    await carol.api.conversations.markRead({ conversationId: conv.get(carol) ?? '' });
    await deliver(carol, alice, clock);
    expect(await messageAt(alice, sent.id)).toMatchObject({ status: 'read', readBy: ['bob', 'carol'] });
    // The conversation list shows it too; and members' copies carry no readBy.
    expect((await alice.api.conversations.list({})).find((c) => c.id === conv.get(alice))?.lastMessage?.status).toBe('read');
    expect((await messageAt(bob, sent.id))?.readBy).toBeUndefined();
  });

  it('receipts off at carol stops her read receipts; receipts off at alice shows no reads', async () => {
    await carol.core.handle('settings.update', { receipts: false });
    const first = await alice.api.messages.send({ conversationId: conv.get(alice) ?? '', text: 'one' });
    await settle();
    expect((await messageAt(alice, first.id))?.status).toBe('delivered'); // delivery receipts still flow
    await carol.api.conversations.markRead({ conversationId: conv.get(carol) ?? '' });
    expect(await pendingCount(carol)).toBe(0);
    await bob.api.conversations.markRead({ conversationId: conv.get(bob) ?? '' });
    await settle();
    expect(await messageAt(alice, first.id)).toMatchObject({ status: 'delivered', readBy: ['bob'] });

    await carol.core.handle('settings.update', { receipts: true });
    await alice.core.handle('settings.update', { receipts: false });
    const second = await alice.api.messages.send({ conversationId: conv.get(alice) ?? '', text: 'two' });
    await settle();
    for (const p of [bob, carol]) await p.api.conversations.markRead({ conversationId: conv.get(p) ?? '' });
    expect(await queuedTo(bob)).toEqual(['alice']); // their side is on: the receipts go out
    await settle();
    expect(await messageAt(alice, second.id)).toMatchObject({ status: 'delivered', readBy: [] });
  });

  it("a removed member does not hold the status back, and her later receipts and typing are ignored", async () => {
    const sent = await alice.api.messages.send({ conversationId: conv.get(alice) ?? '', text: 'before the split' });
    await settle();
    await bob.api.conversations.markRead({ conversationId: conv.get(bob) ?? '' });
    await settle();
    expect(await messageAt(alice, sent.id)).toMatchObject({ status: 'delivered', readBy: ['bob'] });

    await alice.api.groups.remove({ groupId, username: 'carol' });
    // Every member still in the group has read it.
    expect(await messageAt(alice, sent.id)).toMatchObject({ status: 'read', readBy: ['bob'] });
    await settle();
    expect((await carol.api.groups.info({ groupId })).member).toBe(false);

    // Carol's modified client still names the group.
    await forge(carol, alice, { v: 1, type: 'receipt', kind: 'read', ids: [sent.id], g: groupId });
    await forge(carol, alice, { v: 1, type: 'typing', typing: true, sentAt: clock.now(), g: groupId });
    expect((await messageAt(alice, sent.id))?.readBy).toEqual(['bob']);
    expect(await typingAt(alice)).toEqual([]);
  });

  it("a non-member's forged typing and receipts for the group are ignored", async () => {
    const sent = await alice.api.messages.send({ conversationId: conv.get(alice) ?? '', text: 'members only' });
    await deliver(alice, bob, clock);
    await deliver(alice, carol, clock);
    await forge(dave, alice, { v: 1, type: 'receipt', kind: 'delivered', ids: [sent.id], g: groupId });
    await forge(dave, alice, { v: 1, type: 'receipt', kind: 'read', ids: [sent.id], g: groupId });
    await forge(dave, alice, { v: 1, type: 'receipt', kind: 'read', ids: [sent.id] }); // as a 1:1 receipt
    await forge(dave, alice, { v: 1, type: 'typing', typing: true, sentAt: clock.now(), g: groupId });
    expect(await messageAt(alice, sent.id)).toMatchObject({ status: 'sent', readBy: [] });
    expect(await typingAt(alice)).toEqual([]);
    expect((await alice.api.presence.state({})).typing).toEqual([]);

    // The genuine receipts still count.
    await settle();
    expect((await messageAt(alice, sent.id))?.status).toBe('delivered');
  });
});
