import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage } from '../../../i18n/index.js';
import { describeGroupEvent, groupPreview, readByText, typingText } from './events.js';

afterEach(() => setLanguage('en'));

describe('group events, as each member reads them', () => {
  it('names the actor and the member, with "you" for us on either side', () => {
    setLanguage('en');
    // alice removes carol: what alice, bob and carol each see
    expect(describeGroupEvent({ kind: 'remove', actor: 'me', members: ['carol'] })).toBe('You removed carol');
    expect(describeGroupEvent({ kind: 'remove', actor: 'alice', members: ['carol'] })).toBe('alice removed carol');
    expect(describeGroupEvent({ kind: 'remove', actor: 'alice', members: ['me'] })).toBe('alice removed you');
  });

  it('lists everyone added, and says renames, leaves and admin changes', () => {
    setLanguage('en');
    expect(describeGroupEvent({ kind: 'add', actor: 'alice', members: ['bob', 'me'] })).toBe('alice added bob and you');
    expect(describeGroupEvent({ kind: 'create', actor: 'alice', members: ['alice', 'bob'], name: 'Trip' })).toBe('alice created the group “Trip”');
    expect(describeGroupEvent({ kind: 'rename', actor: 'alice', name: 'X' })).toBe('alice renamed the group to “X”');
    expect(describeGroupEvent({ kind: 'leave', actor: 'me' })).toBe('You left the group');
    expect(describeGroupEvent({ kind: 'admin', actor: 'me', members: ['bob'], admin: true })).toBe('You made bob an admin');
    expect(describeGroupEvent({ kind: 'admin', actor: 'alice', members: ['me'], admin: false })).toBe('alice removed you as admin');
  });

  it('speaks Korean from the same fields (not from the English fallback)', () => {
    setLanguage('ko');
    const line = describeGroupEvent({ kind: 'remove', actor: 'alice', members: ['carol'] });
    expect(line).toBe('alice님이 carol님을 내보냈습니다');
    expect(describeGroupEvent({ kind: 'remove', actor: 'me', members: ['carol'] })).toBe('carol님을 내보냈습니다');
  });
});

describe('group previews, typing and read-by lines', () => {
  it('says whose the last message is', () => {
    setLanguage('en');
    expect(groupPreview({ sender: 'bob', outgoing: false, text: 'hi' })).toBe('bob: hi');
    expect(groupPreview({ sender: 'me', outgoing: true, text: 'hi' })).toBe('You: hi');
    expect(groupPreview({ sender: 'alice', outgoing: false, text: 'alice removed carol', system: { kind: 'remove', actor: 'alice', members: ['me'] } })).toBe(
      'alice removed you',
    );
  });

  it('names who is typing, and falls back when the core names nobody', () => {
    setLanguage('en');
    expect(typingText(['alice'])).toBe('alice is typing…');
    expect(typingText(['alice', 'bob', 'alice'])).toBe('alice and bob are typing…');
    expect(typingText([''])).toBe('typing…');
  });

  it('reads a read-by list only when it is one', () => {
    setLanguage('en');
    expect(readByText(['alice', 'bob'])).toBe('Read by alice and bob');
    expect(readByText(undefined)).toBeNull();
    expect(readByText([])).toBeNull();
    expect(readByText('alice')).toBeNull();
  });
});
