// Search snippets as plain text plus highlight ranges. No markup ever leaves the core, so a
// message cannot inject HTML into the search results. Ranges are UTF-16 offsets (what JS
// strings index by) and are widened to whole grapheme clusters, so a highlight or a cut never
// splits an emoji, a surrogate pair, a ZWJ sequence or a letter from its combining marks.

/** Private-use noncharacters FTS5's highlight() wraps matches in (see searchMessages). */
export const MARK_OPEN = '\uFDD0';
export const MARK_CLOSE = '\uFDD1';
/** Longest snippet, in UTF-16 units, before the ellipses. */
export const SNIPPET_CHARS = 160;
/** How much text to keep before the first highlight when the message is longer than a snippet. */
const CONTEXT_BEFORE = 40;
const ELLIPSIS = '…';

export type Range = [number, number];

export interface Snippet {
  text: string;
  highlights: Range[];
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** Code units looked at on each side of a boundary (a longer grapheme cluster may be cut). */
const WINDOW = 32;
const EXTENDS = /[\p{Grapheme_Extend}\p{Mc}\u200D]/u;
const PREPEND = /[\u0600-\u0605\u06DD\u070F\u0890\u0891\u08E2\u0D4E]/u;

function isSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdfff;
}
function isJamo(code: number): boolean {
  return (code >= 0x1100 && code <= 0x11ff) || (code >= 0xa960 && code <= 0xa97f) || (code >= 0xd7b0 && code <= 0xd7ff);
}

/**
 * True when `index` is certainly a grapheme boundary (the common case: two plain BMP
 * characters), so the segmenter (tens of µs a call) is needed only near emoji, combining
 * marks, conjoining jamo and the like.
 */
function plainBoundary(text: string, index: number): boolean {
  const a = text.charCodeAt(index - 1);
  const b = text.charCodeAt(index);
  if (isSurrogate(a) || isSurrogate(b) || isJamo(a) || isJamo(b)) return false;
  if (a === 0x0d && b === 0x0a) return false;
  return !EXTENDS.test(text[index] ?? '') && a !== 0x200d && !PREPEND.test(text[index - 1] ?? '');
}

/** The grapheme cluster around position `at` of `text`, found in a window around `index`. */
function clusterAt(text: string, index: number, at: number): { start: number; end: number } {
  let from = Math.max(0, index - WINDOW);
  if (from > 0 && isSurrogate(text.charCodeAt(from)) && text.charCodeAt(from) >= 0xdc00) from -= 1;
  let to = Math.min(text.length, index + WINDOW);
  if (to < text.length && isSurrogate(text.charCodeAt(to)) && text.charCodeAt(to) >= 0xdc00) to += 1;
  const segment = graphemes.segment(text.slice(from, to)).containing(at - from);
  if (!segment) return { start: at, end: at + 1 };
  return { start: from + segment.index, end: from + segment.index + segment.segment.length };
}

/** Start of the grapheme cluster containing `index` (index itself at a boundary or the end). */
function clusterStart(text: string, index: number): number {
  if (index <= 0) return 0;
  if (index >= text.length) return text.length;
  if (plainBoundary(text, index)) return index;
  return clusterAt(text, index, index).start;
}

/** End of the grapheme cluster containing `index - 1` (index itself at a boundary). */
function clusterEnd(text: string, index: number): number {
  if (index <= 0) return 0;
  if (index >= text.length) return text.length;
  if (plainBoundary(text, index)) return index;
  return clusterAt(text, index, index - 1).end;
}

/**
 * Splits highlight() output into the plain text and the ranges between the markers. If the
 * message itself contains a marker character (it never should: they are noncharacters), the
 * markers cannot be told apart, so `original` is returned without highlights.
 */
export function parseMarked(marked: string, original: string): Snippet {
  if (original.includes(MARK_OPEN) || original.includes(MARK_CLOSE)) return { text: original, highlights: [] };
  let text = '';
  const highlights: Range[] = [];
  let open = -1;
  for (let i = 0; i < marked.length; i++) {
    const ch = marked[i];
    if (ch === MARK_OPEN) open = text.length;
    else if (ch === MARK_CLOSE) {
      if (open >= 0 && text.length > open) highlights.push([open, text.length]);
      open = -1;
    } else text += ch;
  }
  // highlight() returns the stored text; anything else means the markers did not line up.
  if (text !== original) return { text: original, highlights: [] };
  return { text, highlights };
}

/** Ranges of every occurrence of each needle (e.g. the emoji of the query) in `text`. */
export function occurrences(text: string, needles: readonly string[]): Range[] {
  const out: Range[] = [];
  for (const needle of needles) {
    if (needle.length === 0) continue;
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) out.push([at, at + needle.length]);
  }
  return out;
}

/** Widens ranges to grapheme clusters, sorts and merges overlapping or touching ones. */
export function normalizeRanges(text: string, ranges: readonly Range[]): Range[] {
  const widened = ranges
    .map(([s, e]): Range => [clusterStart(text, Math.max(0, s)), clusterEnd(text, Math.min(text.length, e))])
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Range[] = [];
  for (const range of widened) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

/**
 * The snippet shown for a search hit: the whole message when short, otherwise a window of about
 * SNIPPET_CHARS around the first highlight with an ellipsis where text was cut. Cuts fall on
 * grapheme boundaries (after whitespace when one is near).
 */
export function buildSnippet(text: string, ranges: readonly Range[]): Snippet {
  const highlights = normalizeRanges(text, ranges);
  if (text.length <= SNIPPET_CHARS) return { text, highlights };
  const first = highlights[0]?.[0] ?? 0;
  let start = first <= CONTEXT_BEFORE ? 0 : first - CONTEXT_BEFORE;
  if (start > 0) {
    // start after a nearby space, so the snippet does not begin mid-word
    const space = text.slice(start, first).search(/\s/u);
    if (space !== -1) start += space + 1;
    start = clusterStart(text, start);
  }
  let end = Math.min(text.length, start + SNIPPET_CHARS);
  if (end < text.length) {
    const segmentStart = clusterStart(text, end);
    end = segmentStart > start ? segmentStart : clusterEnd(text, end);
  }
  const head = start > 0 ? ELLIPSIS : '';
  const tail = end < text.length ? ELLIPSIS : '';
  const shift = head.length - start;
  const clipped: Range[] = [];
  for (const [s, e] of highlights) {
    const cs = Math.max(s, start);
    const ce = Math.min(e, end);
    if (ce > cs) clipped.push([cs + shift, ce + shift]);
  }
  return { text: head + text.slice(start, end) + tail, highlights: clipped };
}
