// The Korean table is complete, keeps every placeholder, and leaves no English behind.
import { describe, expect, it } from 'vitest';
import { en, type StringKey } from './en.js';
import { ko } from './ko.js';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
/** Latin text that may stay in Korean UI: the product name, the example URL, the allowed-character range. */
const ALLOWED_LATIN = /Refuge|https:\/\/relay\.example\.org|a–z/g;

describe('Korean strings', () => {
  const keys = Object.keys(en) as StringKey[];

  it('has exactly the English keys', () => {
    expect(Object.keys(ko).sort()).toEqual([...keys].sort());
  });

  it('keeps every placeholder of the English string', () => {
    const wrong = keys.filter((k) => JSON.stringify(placeholders(ko[k] ?? '')) !== JSON.stringify(placeholders(en[k])));
    expect(wrong).toEqual([]);
  });

  it('translates every string (no English words left)', () => {
    const english = keys.filter((k) => /[A-Za-z]{2,}/.test((ko[k] ?? '').replace(/\{\w+\}/g, '').replace(ALLOWED_LATIN, '')));
    expect(english).toEqual([]);
    expect(keys.filter((k) => (ko[k] ?? '').trim() === '')).toEqual([]);
  });
});
