import { describe, expect, it } from 'vitest';
import { passphraseStrength } from './strength.js';

describe('passphraseStrength', () => {
  it('calls anything under the minimum short', () => {
    expect(passphraseStrength('')).toBe('short');
    expect(passphraseStrength('Ab1!xyz')).toBe('short');
  });

  it('rates common and repetitive choices weak', () => {
    expect(passphraseStrength('password')).toBe('weak');
    expect(passphraseStrength('password123')).toBe('weak');
    expect(passphraseStrength('aaaaaaaaaaaa')).toBe('weak');
    expect(passphraseStrength('abcdefghijkl')).toBe('weak');
    expect(passphraseStrength('12345678')).toBe('weak');
  });

  it('rates a few random words strong, and orders by effort', () => {
    expect(passphraseStrength('correct horse battery staple')).toBe('strong');
    const order = ['short', 'weak', 'fair', 'good', 'strong'];
    const rank = (p: string) => order.indexOf(passphraseStrength(p));
    expect(rank('tr0ub4dor&3')).toBeGreaterThan(rank('trouble1'));
    expect(rank('밤하늘 별빛 고양이 우산')).toBeGreaterThanOrEqual(order.indexOf('good'));
  });
});
