import { describe, expect, it } from 'vitest';
import { highlightSegments } from './highlight.js';

const marked = (segs: ReturnType<typeof highlightSegments>) => segs.filter((s) => s.mark).map((s) => s.text);
const joined = (segs: ReturnType<typeof highlightSegments>) => segs.map((s) => s.text).join('');

describe('highlightSegments', () => {
  it('marks the given ranges and keeps every character', () => {
    const text = '암호화된 메시지를 보냈어요';
    const segs = highlightSegments(text, [[5, 8]]);
    expect(marked(segs)).toEqual(['메시지']);
    expect(joined(segs)).toBe(text);
  });

  it('returns the whole text unmarked without highlights', () => {
    expect(highlightSegments('hello', [])).toEqual([{ text: 'hello', mark: false }]);
    expect(highlightSegments('', [])).toEqual([{ text: '', mark: false }]);
  });

  it('sorts, merges overlapping ranges and drops empty or inverted ones', () => {
    const text = 'The report is encrypted end to end';
    const segs = highlightSegments(text, [
      [14, 23],
      [4, 8],
      [6, 10],
      [30, 30],
      [20, 3],
    ]);
    expect(marked(segs)).toEqual(['report', 'encrypted']);
    expect(joined(segs)).toBe(text);
  });

  it('clamps ranges that run past the text', () => {
    const segs = highlightSegments('abc', [[-5, 2], [2, 99]]);
    expect(marked(segs)).toEqual(['abc']);
  });

  it('never splits an emoji (surrogate pair)', () => {
    const text = 'hi 👋 there';
    // 👋 is two UTF-16 units at 3..5; a range ending in the middle covers the whole emoji
    expect(marked(highlightSegments(text, [[3, 4]]))).toEqual(['👋']);
    expect(marked(highlightSegments(text, [[4, 5]]))).toEqual(['👋']);
  });

  it('treats markup in the snippet as text', () => {
    const segs = highlightSegments('<img src=x onerror=alert(1)>', [[1, 4]]);
    expect(marked(segs)).toEqual(['img']);
    expect(joined(segs)).toBe('<img src=x onerror=alert(1)>');
  });
});
