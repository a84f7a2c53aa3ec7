import { describe, expect, it } from 'vitest';
import { AVATAR_COLOURS, avatarColour, conversationName, dayKey, filterByName, formatDay, formatListTime, groupDigits, initials, previewText } from './format.js';

describe('initials', () => {
  it('takes the first letter, or first and last of dotted/underscored names', () => {
    expect(initials('alice')).toBe('A');
    expect(initials('carol.kim')).toBe('CK');
    expect(initials('dmitri_v')).toBe('DV');
    expect(initials('a_b_c')).toBe('AC');
  });
  it('keeps whole graphemes (Korean, emoji)', () => {
    expect(initials('민지')).toBe('민');
    expect(initials('👩‍💻 dev')).toBe('👩‍💻D');
  });
  it('never returns an empty string', () => {
    expect(initials('')).toBe('?');
    expect(initials('...')).toBe('?');
  });
});

describe('avatarColour', () => {
  it('is stable and in range', () => {
    for (const n of ['alice', 'bob', '민지', 'x'.repeat(40)]) {
      const c = avatarColour(n);
      expect(c).toBe(avatarColour(n));
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThan(AVATAR_COLOURS);
    }
  });
  it('spreads names over the palette', () => {
    const used = new Set(['alice', 'bob', 'carol', 'dave', 'eve', 'frank', 'grace', 'heidi', 'ivan', 'judy'].map(avatarColour));
    expect(used.size).toBeGreaterThan(4);
  });
});

describe('previewText', () => {
  it('collapses whitespace to one line', () => {
    expect(previewText('  hello\n\n  world  ')).toBe('hello world');
  });
  it('caps long text without splitting a surrogate pair', () => {
    const s = '👋'.repeat(200);
    const p = previewText(s, 10);
    expect(p).toBe(`${'👋'.repeat(10)}…`);
  });
});

describe('formatListTime', () => {
  it('shows a time for today and something shorter than a full date otherwise', () => {
    const now = new Date(2024, 5, 15, 18, 0).getTime();
    expect(formatListTime(new Date(2024, 5, 15, 9, 5).getTime(), now)).toMatch(/9.05|09.05/);
    expect(formatListTime(new Date(2024, 5, 13, 9, 5).getTime(), now)).not.toMatch(/9.05/);
    expect(formatListTime(new Date(2022, 0, 2).getTime(), now)).toMatch(/22/);
  });
});

describe('groupDigits', () => {
  it('splits a safety number into twelve groups of five', () => {
    const digits = '0123456789'.repeat(6);
    const groups = groupDigits(digits);
    expect(groups).toHaveLength(12);
    expect(groups.every((g) => /^\d{5}$/.test(g))).toBe(true);
    expect(groups.join('')).toBe(digits);
  });
});

describe('day separators', () => {
  const now = new Date(2026, 2, 12, 15, 0).getTime(); // Thu 12 March 2026, 15:00 local
  it('groups by local calendar day', () => {
    expect(dayKey(new Date(2026, 2, 12, 0, 1).getTime())).toBe(dayKey(new Date(2026, 2, 12, 23, 59).getTime()));
    expect(dayKey(new Date(2026, 2, 12, 23, 59).getTime())).not.toBe(dayKey(new Date(2026, 2, 13, 0, 0).getTime()));
  });
  it('says today, yesterday, a weekday this week, then a date', () => {
    expect(formatDay(new Date(2026, 2, 12, 1, 0).getTime(), now)).toBe('Today');
    expect(formatDay(new Date(2026, 2, 11, 23, 0).getTime(), now)).toBe('Yesterday');
    expect(formatDay(new Date(2026, 2, 9, 12, 0).getTime(), now)).toBe('Monday');
    expect(formatDay(new Date(2026, 0, 5, 12, 0).getTime(), now)).toMatch(/January/);
    expect(formatDay(new Date(2025, 11, 24, 12, 0).getTime(), now)).toMatch(/2025/);
  });
});

describe('conversation names and the filter', () => {
  const list = [
    { peer: 'alice' },
    { peer: 'bob.kim' },
    { peer: '', kind: 'group' as const, name: '주말 등산' },
  ];
  it('names a group by its name', () => {
    expect(conversationName(list[2]!)).toBe('주말 등산');
    expect(conversationName(list[0]!)).toBe('alice');
  });
  it('filters by a part of the name, ignoring case and width, keeping the order', () => {
    expect(filterByName(list, 'KIM').map(conversationName)).toEqual(['bob.kim']);
    expect(filterByName(list, 'ｂｏｂ').map(conversationName)).toEqual(['bob.kim']); // full-width letters
    expect(filterByName(list, '등산').map(conversationName)).toEqual(['주말 등산']);
    expect(filterByName(list, '  ').map(conversationName)).toEqual(['alice', 'bob.kim', '주말 등산']);
    expect(filterByName(list, 'zz')).toEqual([]);
  });
});
