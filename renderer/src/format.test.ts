import { describe, expect, it } from 'vitest';
import { AVATAR_COLOURS, avatarColour, formatListTime, groupDigits, initials, previewText } from './format.js';

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
