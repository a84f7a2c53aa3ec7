import { describe, expect, it } from 'vitest';
import type { Message } from '../../shared/ipc/contract.js';
import { appendNewer, continuesGroup, mergeNewest, prependOlder, trimWindow } from './messages.js';

const m = (n: number, status: Message['status'] = 'sent'): Message => ({
  id: `m${n}`,
  conversationId: 'c',
  sender: 'me',
  outgoing: true,
  text: `t${n}`,
  sentAt: n * 1000,
  receivedAt: null,
  status,
});
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => m(a + i));
const ids = (xs: Message[]) => xs.map((x) => x.id);

describe('mergeNewest', () => {
  it('takes the page on first load', () => {
    expect(mergeNewest([], range(1, 3))).toEqual({ messages: range(1, 3), gap: false });
  });
  it('keeps older pages in front of an overlapping newest page', () => {
    const loaded = range(1, 10);
    const page = range(6, 12);
    const r = mergeNewest(loaded, page);
    expect(ids(r.messages)).toEqual(ids(range(1, 12)));
    expect(r.gap).toBe(false);
  });
  it('replaces statuses from the page', () => {
    const loaded = [m(1), m(2, 'sending')];
    const r = mergeNewest(loaded, [m(2, 'delivered')]);
    expect(r.messages.map((x) => x.status)).toEqual(['sent', 'delivered']);
  });
  it('reports a gap when the page does not overlap', () => {
    const r = mergeNewest(range(1, 5), range(60, 109));
    expect(ids(r.messages)).toEqual(ids(range(60, 109)));
    expect(r.gap).toBe(true);
  });
  it('is not a gap when everything loaded is inside the page', () => {
    const r = mergeNewest(range(3, 4), range(1, 6));
    expect(r.gap).toBe(false);
    expect(ids(r.messages)).toEqual(ids(range(1, 6)));
  });
  it('keeps what it has when the page is empty', () => {
    expect(mergeNewest(range(1, 2), []).messages).toHaveLength(2);
  });
});

describe('prependOlder', () => {
  it('puts older messages in front without duplicates', () => {
    expect(ids(prependOlder(range(5, 8), range(1, 5)))).toEqual(ids(range(1, 8)));
  });
});

describe('continuesGroup', () => {
  it('groups the same side within five minutes', () => {
    expect(continuesGroup(undefined, m(1))).toBe(false);
    expect(continuesGroup(m(1), m(2))).toBe(true);
    expect(continuesGroup(m(1), { ...m(1000), sentAt: 1000 + 6 * 60_000 })).toBe(false);
    expect(continuesGroup(m(1), { ...m(2), outgoing: false, sender: 'bob' })).toBe(false);
  });
});

describe('appendNewer', () => {
  it('puts a newer page behind what is loaded without duplicates', () => {
    expect(ids(appendNewer(range(1, 5), range(4, 8)))).toEqual(ids(range(1, 8)));
  });
});

describe('trimWindow', () => {
  it('leaves a window within the limit alone', () => {
    expect(trimWindow(range(1, 10), 'older', 10)).toEqual({ messages: range(1, 10), dropped: false });
  });
  it('drops the newest when paging into older history', () => {
    const r = trimWindow(range(1, 12), 'older', 10, 8);
    expect(ids(r.messages)).toEqual(ids(range(1, 8)));
    expect(r.dropped).toBe(true);
  });
  it('drops the oldest when paging forward', () => {
    const r = trimWindow(range(1, 12), 'newer', 10, 8);
    expect(ids(r.messages)).toEqual(ids(range(5, 12)));
    expect(r.dropped).toBe(true);
  });
});
