// Full-text search as a user meets it: Korean as typed, English prefixes and stems, emoji,
// anything typed into the box being plain text, snippets without markup; and the pages a hit
// jumps to.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messagesAround, openStore, searchMessages, type MessageRow, type SearchHit, type Store } from './index.js';
import { PAGE_SQL, RANK_SQL } from './search.js';
import { randomKey, tempProfile } from './test-helpers.js';
import { compileQuery, englishStem, koreanStem } from './search-text.js';
import { buildSnippet, SNIPPET_CHARS } from './snippet.js';

let profile: ReturnType<typeof tempProfile>;
let key: Uint8Array;
let store: Store;
let bob: string;
let carol: string;
let clock = 1_700_000_000_000;

beforeEach(() => {
  profile = tempProfile();
  key = randomKey();
  store = openStore(profile.dir, key);
  bob = store.getOrCreateDirectConversation('bob', 1).id;
  carol = store.getOrCreateDirectConversation('carol', 1).id;
});
afterEach(() => {
  store.close();
  profile.cleanup();
});

let nextId = 0;
function add(conversationId: string, text: string, extra: Partial<MessageRow> = {}): string {
  const id = `m${++nextId}`;
  clock += 1000;
  store.insertMessage({ id, conversationId, sender: 'me', outgoing: true, text, sentAt: clock, receivedAt: null, status: 'sent', ...extra });
  return id;
}

function search(query: string, conversationId?: string): SearchHit[] {
  return searchMessages(store, query, { limit: 50, conversationId });
}
const ids = (hits: SearchHit[]) => hits.map((h) => h.messageId);
/** No lone surrogate (String.prototype.isWellFormed is newer than this project's lib). */
const wellFormed = (text: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u.test(text);
const highlighted = (hit: SearchHit | undefined) => (hit ? hit.snippet.highlights.map(([s, e]) => hit.snippet.text.slice(s, e)) : []);

describe('search: Korean as a Korean user types it', () => {
  it('메시지 finds 메시지를 and 메시지가; 메시지를 also finds 메시지가; 안녕 finds 안녕하세요', () => {
    const a = add(bob, '어제 보낸 메시지를 확인했어요');
    const b = add(carol, '새 메시지가 왔어요');
    const c = add(bob, '안녕하세요 반가워요');
    add(bob, '회의는 내일 오후 세 시');
    expect(ids(search('메시지')).sort()).toEqual([a, b].sort());
    expect(ids(search('메시지를')).sort()).toEqual([a, b].sort());
    // what was typed ranks above the other forms of the word
    expect(ids(search('메시지를'))[0]).toBe(a);
    expect(ids(search('안녕'))).toEqual([c]);
    expect(ids(search('메시지 확인'))).toEqual([a]);
    expect(highlighted(search('메시지').find((h) => h.messageId === a))).toEqual(['메시지를']);
    expect(highlighted(search('메시').find((h) => h.messageId === b))).toEqual(['메시지가']);
  });

  it('finds Korean inside mixed Korean/English text and with syllables typed so far', () => {
    const a = add(bob, 'Refuge로 보낸 암호화된 메시지');
    expect(ids(search('암호'))).toEqual([a]);
    expect(ids(search('refuge'))).toEqual([a]);
  });
});

describe('search: English', () => {
  it('prefixes and stems: encrypt finds encrypted, encryption finds encrypted, messages finds message', () => {
    const a = add(bob, 'Everything is encrypted end to end');
    const b = add(bob, 'Send me the message tonight');
    add(bob, 'nothing relevant here');
    expect(ids(search('encrypt'))).toEqual([a]);
    expect(ids(search('encrypti'))).toEqual([]); // not a prefix of "encrypted"
    expect(ids(search('encryption'))).toEqual([a]);
    expect(ids(search('ENCRYPTED'))).toEqual([a]);
    expect(ids(search('messages'))).toEqual([b]);
    expect(ids(search('mess'))).toEqual([b]);
  });

  it('ignores case and diacritics, needs every word', () => {
    const a = add(bob, 'Meet at the Café Zoë tomorrow');
    const b = add(bob, 'The cafe is closed');
    expect(ids(search('cafe')).sort()).toEqual([a, b].sort());
    expect(ids(search('zoe tomorrow'))).toEqual([a]);
    expect(ids(search('cafe closed'))).toEqual([b]);
  });

  it('ranks by bm25, newer first on ties', () => {
    const long = add(bob, `relay ${'filler words that do not matter at all '.repeat(8)}`);
    const dense = add(bob, 'relay relay relay');
    const older = add(carol, 'coffee later');
    const newer = add(carol, 'coffee later');
    expect(ids(search('relay'))).toEqual([dense, long]);
    expect(ids(search('coffee'))).toEqual([newer, older]);
  });

  it('a search limited to one conversation finds only its messages', () => {
    const a = add(bob, 'the train is late');
    const b = add(carol, 'the train is late');
    expect(ids(search('train', bob))).toEqual([a]);
    expect(ids(search('train', carol))).toEqual([b]);
    expect(ids(search('train', 'no-such-conversation'))).toEqual([]);
    const hit = search('train', bob)[0];
    expect(hit).toMatchObject({ conversationId: bob, peer: 'bob', sender: 'me', outgoing: true });
  });
});

describe('search: emoji', () => {
  it('finds a message by its emoji (with or without a skin tone) and highlights whole emoji', () => {
    const a = add(bob, 'see you 👋🏽 soon');
    const b = add(bob, 'family 👨‍👩‍👧 photo');
    const c = add(bob, 'Korea 🇰🇷 won');
    add(bob, 'no emoji here');
    expect(ids(search('👋'))).toEqual([a]);
    expect(ids(search('👋🏽'))).toEqual([a]);
    expect(highlighted(search('👋')[0])).toEqual(['👋🏽']);
    expect(ids(search('👩'))).toEqual([b]);
    expect(highlighted(search('👩')[0])).toEqual(['👨‍👩‍👧']);
    expect(ids(search('🇰🇷'))).toEqual([c]);
    expect(ids(search('🇰🇷 korea'))).toEqual([c]);
    expect(ids(search('🇰🇷 soon'))).toEqual([]);
  });

  it('highlights around emoji never split a surrogate pair', () => {
    add(bob, '😀😀 encrypted😀 😀 '.repeat(30));
    const [hit] = search('encrypted');
    expect(hit).toBeDefined();
    const text = hit?.snippet.text ?? '';
    expect(wellFormed(text)).toBe(true);
    for (const [s, e] of hit?.snippet.highlights ?? []) {
      expect(text.slice(s, e)).toBe('encrypted');
      expect(wellFormed(text.slice(0, s)) && wellFormed(text.slice(e))).toBe(true);
    }
  });
});

describe('search: what the user types is never query syntax', () => {
  const hostile = [
    'AND',
    'OR',
    'NOT',
    'NEAR(a b, 2)',
    '"',
    '""',
    '"unterminated',
    '*',
    '**',
    '^start',
    'a*b',
    '(',
    ')',
    '(a OR b)',
    'text:encrypted',
    'meta : x1f44b',
    '{text meta}: x',
    '-minus',
    '+plus',
    'a AND',
    'OR OR OR',
    "'; DROP TABLE messages; --",
    '\u0000',
    '\ud800',
    '\ufdd0',
    '   ',
    '…',
    '🏽',
    'x'.repeat(200),
    Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '),
  ];

  it('hostile and garbage queries neither throw nor match by syntax', () => {
    const first = add(bob, 'encrypted words and more words');
    add(bob, 'NEAR the AND gate, OR not');
    for (const query of hostile) {
      const hits = search(query);
      expect(Array.isArray(hits), query).toBe(true);
    }
    // operators are words: each must appear in the message
    expect(search('AND').length).toBe(2);
    expect(search('NEAR AND').map((h) => h.snippet.text)).toEqual(['NEAR the AND gate, OR not']);
    expect(search('text:encrypted')).toEqual([]);
    expect(search('"encrypted"').length).toBe(1);
    expect(search('(encrypted)').length).toBe(1);
    expect(store.getMessage(first)).toBeDefined(); // and nothing was dropped
  });

  it('queries with nothing searchable give no results', () => {
    add(bob, 'anything');
    for (const query of ['', '   ', '!!!', '...', '"', '()', '\u200d']) expect(search(query)).toEqual([]);
  });

  it('compiles each word to a quoted string', () => {
    const tokenize = (text: string) => store.connection().signalTokenize(text);
    expect(compileQuery('Said "hi" OR x*', tokenize)?.match).toBe('text : "said"* AND text : "hi"* AND text : "or"* AND text : "x"');
    expect(compileQuery('opening "quotes"', tokenize)?.match).toBe('text : ("opening"* OR "open"*) AND text : ("quotes"* OR "quot"*)');
  });
});

describe('search: snippets', () => {
  it('are plain text: markup in a message comes back as text, highlights are ranges', () => {
    add(bob, '<img src=x onerror=alert(1)> encrypted <b>bold</b>');
    const [hit] = search('encrypted');
    expect(hit?.snippet.text).toBe('<img src=x onerror=alert(1)> encrypted <b>bold</b>');
    expect(highlighted(hit)).toEqual(['encrypted']);
  });

  it('a long message gives a window around the first match with ellipses', () => {
    const text = `${'lorem ipsum dolor sit amet '.repeat(20)}the needle is here ${'consectetur adipiscing elit '.repeat(20)}`;
    add(bob, text);
    const [hit] = search('needle');
    const snippet = hit?.snippet.text ?? '';
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet.endsWith('…')).toBe(true);
    expect(snippet.length).toBeLessThanOrEqual(SNIPPET_CHARS + 2);
    expect(highlighted(hit)).toEqual(['needle']);
  });

  it('cuts only between graphemes', () => {
    const text = '👨‍👩‍👧'.repeat(100);
    for (const at of [0, 7, 40, 41, 160, 299]) {
      const snippet = buildSnippet(text, [[at, at + 1]]);
      expect(snippet.text.replaceAll('…', '').replaceAll('👨‍👩‍👧', '')).toBe('');
      for (const [s, e] of snippet.highlights) expect(snippet.text.slice(s, e)).toBe('👨‍👩‍👧');
    }
  });
});

describe('search: the index follows the messages table', () => {
  it('rows written by plain SQL (a bulk restore) are indexed, and their emoji terms filled on the next open', () => {
    const db = store.connection();
    db.prepare(
      `INSERT INTO messages (id, conversation_id, sender, outgoing, text, sent_at, received_at, status)
       VALUES ('bulk', ?, 'bob', 0, '복원된 메시지 🎉', 5, 6, 'received')`,
    ).run([bob]);
    expect(ids(search('복원'))).toEqual(['bulk']);
    expect(ids(search('🎉'))).toEqual([]);
    store.close();
    store = openStore(profile.dir, key);
    expect(ids(search('🎉'))).toEqual(['bulk']);
  });

  it('a deleted message is gone from the index; an edited one is found by its new text only', () => {
    const a = add(bob, 'original wording');
    const db = store.connection();
    db.prepare("UPDATE messages SET text = 'revised phrasing' WHERE id = ?").run([a]);
    expect(ids(search('original'))).toEqual([]);
    expect(ids(search('revised'))).toEqual([a]);
    db.prepare('DELETE FROM messages WHERE id = ?').run([a]);
    expect(search('revised')).toEqual([]);
    expect(db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run().changes).toBeGreaterThanOrEqual(0);
  });

  it('uses the full-text index, never a scan of the messages table', () => {
    const plan = (sql: string, params: unknown[]) =>
      store
        .connection()
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(params as (string | number | null)[])
        .map((row) => String(row['detail']));
    const rank = plan(RANK_SQL, ['"x"*']);
    expect(rank.some((d) => /SCAN messages_fts VIRTUAL TABLE INDEX/.test(d))).toBe(true);
    expect(rank.some((d) => /\bmessages\b|\bm\b/.test(d) && !/messages_fts/.test(d))).toBe(false);
    const page = plan(PAGE_SQL, ['"x"*', 1, 9, '[1,9]']);
    expect(page.some((d) => /SCAN messages_fts VIRTUAL TABLE INDEX/.test(d))).toBe(true);
    expect(page.some((d) => /SEARCH m USING INTEGER PRIMARY KEY/.test(d))).toBe(true);
    expect(page.some((d) => /^SCAN (m|messages|c|conversations)\b/.test(d))).toBe(false);
  });
});

describe('stemmers', () => {
  it('English', () => {
    expect(englishStem('encryption')).toBe('encrypt');
    expect(englishStem('encrypted')).toBe('encrypt');
    expect(englishStem('stopped')).toBe('stop');
    expect(englishStem('messages')).toBe('messag');
    expect(englishStem('happiness')).toBe('happ');
    expect(englishStem('class')).toBeNull();
    expect(englishStem('used')).toBeNull();
  });
  it('Korean', () => {
    expect(koreanStem('메시지를')).toBe('메시지');
    expect(koreanStem('친구에게')).toBe('친구');
    expect(koreanStem('휴가')).toBeNull(); // one syllable would remain
  });
});

describe('paging', () => {
  function history(n: number): string[] {
    return Array.from({ length: n }, (_, i) => add(bob, `message number ${i}`));
  }

  it('pages forward with `after` through the whole history', () => {
    const all = history(23);
    const seen: string[] = [];
    let after = all[0];
    seen.push(after ?? '');
    for (;;) {
      const page = store.listMessages(bob, { after, limit: 5 });
      seen.push(...page.messages.map((m) => m.id));
      const last = page.messages[page.messages.length - 1];
      if (!page.hasMore || !last) break;
      after = last.id;
    }
    expect(seen).toEqual(all);
    expect(store.listMessages(bob, { after: all[22], limit: 5 })).toEqual({ messages: [], hasMore: false });
  });

  it('around: the target in the middle, extended the other way near either end', () => {
    const all = history(30);
    const mid = messagesAround(store, bob, all[15] ?? '', 11);
    expect(mid.messages.map((m) => m.id)).toEqual(all.slice(10, 21));
    expect(mid).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true });

    const start = messagesAround(store, bob, all[1] ?? '', 11);
    expect(start.messages.map((m) => m.id)).toEqual(all.slice(0, 11));
    expect(start).toMatchObject({ hasMoreBefore: false, hasMoreAfter: true });

    const end = messagesAround(store, bob, all[29] ?? '', 11);
    expect(end.messages.map((m) => m.id)).toEqual(all.slice(19, 30));
    expect(end).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });

    const whole = messagesAround(store, bob, all[3] ?? '', 200);
    expect(whole.messages.map((m) => m.id)).toEqual(all);
    expect(whole).toMatchObject({ hasMoreBefore: false, hasMoreAfter: false });

    // and the pages continue seamlessly with before/after
    const next = store.listMessages(bob, { after: mid.messages[mid.messages.length - 1]?.id, limit: 3 });
    expect(next.messages.map((m) => m.id)).toEqual(all.slice(21, 24));
    expect(() => messagesAround(store, carol, all[3] ?? '', 5)).toThrow(/not in this conversation/);
  });
});
