// The issue-6 migration and repositories (social.ts) on a real encrypted database.
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, openStore, type MessageRow, type Store } from './index.js';
import { socialMigration, markOutgoingRead, takeUnreadIncoming, setConversationMuted, mutedConversations } from './social.js';
import { randomKey, tempProfile } from './test-helpers.js';

const SOCIAL_VERSION = MIGRATIONS.findIndex((m) => m.description === socialMigration.description) + 1;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function profile(): string {
  const p = tempProfile();
  cleanups.push(p.cleanup);
  return p.dir;
}

function message(store: Store, conversationId: string, id: string, at: number, outgoing: boolean): MessageRow {
  const row: MessageRow = {
    id,
    conversationId,
    sender: outgoing ? 'me' : 'bob',
    outgoing,
    text: `text ${id}`,
    sentAt: at,
    receivedAt: outgoing ? null : at,
    status: outgoing ? 'sent' : 'received',
  };
  store.insertMessage(row);
  return row;
}

describe('social migration', () => {
  it('is registered after every earlier migration', () => {
    expect(SOCIAL_VERSION).toBeGreaterThan(1);
  });

  it('keeps the unread messages of an older profile unread (they get read receipts) and the rest read', () => {
    const key = randomKey();
    const dir = profile();
    const old = openStore(dir, key, { migrateTo: SOCIAL_VERSION - 1 });
    const conv = old.getOrCreateDirectConversation('bob', 1);
    for (let i = 1; i <= 5; i++) message(old, conv.id, `in${i}`, i * 10, false);
    message(old, conv.id, 'out1', 55, true);
    old.markConversationRead(conv.id);
    message(old, conv.id, 'in6', 60, false);
    message(old, conv.id, 'in7', 70, false); // unread count: 2
    const quiet = old.getOrCreateDirectConversation('carol', 1);
    message(old, quiet.id, 'c1', 5, false);
    old.markConversationRead(quiet.id);
    old.close();

    const store = openStore(dir, key);
    try {
      expect(takeUnreadIncoming(store, conv.id, 1000)).toEqual(['in6', 'in7']);
      expect(takeUnreadIncoming(store, conv.id, 1001)).toEqual([]);
      expect(takeUnreadIncoming(store, quiet.id, 1000)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("lets an outgoing message become 'read', only in its own conversation, and never backwards", () => {
    const key = randomKey();
    const dir = profile();
    const store = openStore(dir, key);
    try {
      const bob = store.getOrCreateDirectConversation('bob', 1);
      const carol = store.getOrCreateDirectConversation('carol', 1);
      message(store, bob.id, 'mine', 10, true);
      message(store, bob.id, 'theirs', 11, false);
      expect(markOutgoingRead(store, carol.id, ['mine'])).toEqual([]); // a receipt from carol cannot touch bob's chat
      expect(markOutgoingRead(store, bob.id, ['mine', 'theirs'])).toEqual(['mine']);
      expect(store.getMessage('mine')?.status).toBe('read');
      expect(store.getMessage('theirs')?.status).toBe('received');
      store.updateMessageStatus(['mine'], 'delivered'); // a late delivery receipt
      expect(store.getMessage('mine')?.status).toBe('read');
      // The widened constraint still refuses nonsense.
      expect(() => store.connection().prepare("UPDATE messages SET status = 'seen' WHERE id = 'mine'").run()).toThrow(/CHECK/);
    } finally {
      store.close();
    }
    // and after reopening (the schema text itself was changed)
    const again = openStore(dir, key);
    try {
      expect(again.getMessage('mine')?.status).toBe('read');
      expect(again.connection().pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      again.close();
    }
  });

  it('mute is stored per conversation', () => {
    const store = openStore(profile(), randomKey());
    try {
      const a = store.getOrCreateDirectConversation('bob', 1);
      const b = store.getOrCreateDirectConversation('carol', 1);
      expect(setConversationMuted(store, a.id, true)).toBe(true);
      expect(setConversationMuted(store, 'nope', true)).toBe(false);
      expect([...mutedConversations(store)]).toEqual([a.id]);
      expect(mutedConversations(store).has(b.id)).toBe(false);
    } finally {
      store.close();
    }
  });
});
