// Finds web links in message text so they can be shown as links that open only after the user
// confirmed them (LinkDialog) and only in the system browser. Only http(s): no javascript:, file:,
// data: or custom schemes, whatever the text says. Pure, unit-tested; React renders the parts as
// text nodes and <a> elements (never HTML).
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

// scheme, then anything up to whitespace or a character that cannot be in a bare URL in chat text
const URL_RE = /\bhttps?:\/\/[^\s<>"'`\u00A0\u3000]+/giu;
/** punctuation that usually ends a sentence rather than the link */
const TRAILING = /[.,;:!?'"\u2019\u201D\u3002\u3001\uFF0C\uFF01\uFF1F]+$/u;

/** The link to open: a normalized http(s) URL, or null for anything else. */
export function safeHref(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!url.hostname) return null;
  // href shows an internationalised host in punycode: what the user confirms is what opens
  return url.href;
}

function trimEnd(candidate: string): string {
  let s = candidate;
  for (;;) {
    const before = s;
    s = s.replace(TRAILING, '');
    // a closing bracket belongs to the link only if the link opened one: "(see https://x.org/a_(b))"
    for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']] as const) {
      while (s.endsWith(close) && count(s, close) > count(s, open)) s = s.slice(0, -1);
    }
    if (s === before) return s;
  }
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    const start = match.index ?? 0;
    const raw = trimEnd(match[0]);
    const href = safeHref(raw);
    if (!href || raw.length <= 'https://'.length) continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts.length > 0 ? parts : [{ kind: 'text', text }];
}
