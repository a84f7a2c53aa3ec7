import { describe, expect, it } from 'vitest';
import { resolveLanguage } from './index.js';

describe('resolveLanguage', () => {
  it('an explicit choice wins over the system', () => {
    expect(resolveLanguage('ko', ['en-US'])).toBe('ko');
    expect(resolveLanguage('en', ['ko-KR'])).toBe('en');
  });
  it("'system' takes the first of the system's languages that Refuge speaks", () => {
    expect(resolveLanguage('system', ['ko-KR', 'en-US'])).toBe('ko');
    expect(resolveLanguage('system', ['de-DE', 'ko', 'en'])).toBe('ko');
    expect(resolveLanguage('system', ['en-GB'])).toBe('en');
  });
  it('falls back to English', () => {
    expect(resolveLanguage('system', ['ja-JP', 'fr'])).toBe('en');
    expect(resolveLanguage('system', [])).toBe('en');
  });
});
