// Splits a search snippet into plain and highlighted runs. The core sends highlights as UTF-16
// [start, end) ranges into the snippet text; they are rendered as <mark> elements by React (never
// as HTML), so whatever the ranges say, the text stays text. Bad ranges are clamped or dropped.

export type Segment = { text: string; mark: boolean };

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Moves a boundary that falls inside a surrogate pair (an emoji, a rare CJK character) to the pair's start. */
function snapBack(text: string, at: number): number {
  return at > 0 && at < text.length && isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at;
}

/** Same, but to the pair's end (so a range ending mid-pair still covers the whole character). */
function snapForward(text: string, at: number): number {
  return at > 0 && at < text.length && isHighSurrogate(text.charCodeAt(at - 1)) ? at + 1 : at;
}

export function highlightSegments(text: string, highlights: ReadonlyArray<readonly [number, number]>): Segment[] {
  const ranges = highlights
    .filter(([s, e]) => Number.isFinite(s) && Number.isFinite(e))
    .map(([s, e]) => [snapBack(text, Math.max(0, Math.trunc(s))), snapForward(text, Math.min(text.length, Math.trunc(e)))] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  // overlapping or touching ranges become one
  const merged: Array<[number, number]> = [];
  for (const [s, e] of ranges) {
    const last = merged[merged.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  const out: Segment[] = [];
  let at = 0;
  for (const [s, e] of merged) {
    if (s > at) out.push({ text: text.slice(at, s), mark: false });
    out.push({ text: text.slice(s, e), mark: true });
    at = e;
  }
  if (at < text.length || out.length === 0) out.push({ text: text.slice(at), mark: false });
  return out;
}
