import { describe, expect, it } from 'vitest';
import { documentTitle, notificationContent, shouldNotify, unreadTotal } from './notify.js';

describe('notificationContent', () => {
  it('shows name and text, name only, or neither', () => {
    expect(notificationContent('name-and-text', 'alice', 'meet at 5\n  ok?')).toEqual({ title: 'alice', body: 'meet at 5 ok?' });
    const nameOnly = notificationContent('name-only', 'alice', 'meet at 5');
    expect(nameOnly.title).toBe('alice');
    expect(nameOnly.body).not.toContain('meet');
    const none = notificationContent('none', 'alice', 'meet at 5');
    expect(JSON.stringify(none)).not.toMatch(/alice|meet/);
  });
});

describe('shouldNotify', () => {
  const incoming = { outgoing: false, conversationId: 'c1' };
  const ctx = { conversation: { id: 'c1', muted: false }, openConversationId: null, attentive: true };
  it('notifies for a new incoming message', () => {
    expect(shouldNotify(incoming, ctx)).toBe(true);
    expect(shouldNotify(incoming, { ...ctx, conversation: undefined })).toBe(true); // a brand-new conversation
  });
  it('not for our own messages, group membership lines, or muted conversations', () => {
    expect(shouldNotify({ ...incoming, outgoing: true }, ctx)).toBe(false);
    expect(shouldNotify({ ...incoming, system: { kind: 'add', actor: 'bob' } }, ctx)).toBe(false);
    expect(shouldNotify(incoming, { ...ctx, conversation: { id: 'c1', muted: true } })).toBe(false);
  });
  it('not for the conversation the user is looking at, but yes when the window is in the background', () => {
    expect(shouldNotify(incoming, { ...ctx, openConversationId: 'c1' })).toBe(false);
    expect(shouldNotify(incoming, { ...ctx, openConversationId: 'c1', attentive: false })).toBe(true);
    expect(shouldNotify(incoming, { ...ctx, openConversationId: 'c2' })).toBe(true);
  });
});

describe('unread badge', () => {
  it('counts unread messages of unmuted conversations', () => {
    expect(unreadTotal([{ unreadCount: 2, muted: false }, { unreadCount: 5, muted: true }, { unreadCount: 1, muted: false }])).toBe(3);
    expect(unreadTotal([])).toBe(0);
  });
  it('puts the count in the window title', () => {
    expect(documentTitle(3)).toBe('(3) Refuge');
    expect(documentTitle(0)).toBe('Refuge');
  });
});
