// Pure display helpers: avatar initials and colour, times, previews. No DOM, unit-tested.
import { t, uiLocale } from './i18n/index.js';

const segmenter: Intl.Segmenter | null =
  typeof Intl !== 'undefined' && 'Segmenter' in Intl ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

function firstGrapheme(s: string): string {
  if (!s) return '';
  if (segmenter) {
    for (const { segment } of segmenter.segment(s)) return segment;
    return '';
  }
  return Array.from(s)[0] ?? '';
}

/** One or two letters for an avatar: "alice" → "A", "alice.kim" → "AK", "민지" → "민". */
export function initials(name: string): string {
  const parts = name
    .trim()
    .split(/[\s._\-]+/)
    .filter(Boolean);
  if (parts.length === 0) return '?';
  const first = firstGrapheme(parts[0]!);
  const second = parts.length > 1 ? firstGrapheme(parts[parts.length - 1]!) : '';
  return (first + second).toLocaleUpperCase();
}

export const AVATAR_COLOURS = 12;

/** A stable colour slot (0..11) from the name, so a person keeps their colour everywhere. */
export function avatarColour(name: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (const ch of name.normalize('NFC')) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % AVATAR_COLOURS;
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

const DAY = 24 * 60 * 60 * 1000;

function fmt(ts: number, options: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat(uiLocale(), options).format(ts);
}

/** Conversation list: "14:05" today, "Mon" this week, "3 Mar" this year, else "3/3/24". */
export function formatListTime(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  const n = new Date(now);
  if (sameDay(d, n)) return fmt(ts, { hour: 'numeric', minute: '2-digit' });
  if (now - ts < 6 * DAY && ts < now) return fmt(ts, { weekday: 'short' });
  if (d.getFullYear() === n.getFullYear()) return fmt(ts, { month: 'short', day: 'numeric' });
  return fmt(ts, { year: '2-digit', month: 'numeric', day: 'numeric' });
}

/** Message bubble: the time today, otherwise a short date and the time. */
export function formatMessageTime(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  const n = new Date(now);
  if (sameDay(d, n)) return fmt(ts, { hour: 'numeric', minute: '2-digit' });
  if (d.getFullYear() === n.getFullYear()) return fmt(ts, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
  return fmt(ts, { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
}

/** Full timestamp for tooltips and <time dateTime>. */
export function formatFullTime(ts: number): string {
  return fmt(ts, { dateStyle: 'full', timeStyle: 'short' });
}

/** One line of preview text: whitespace collapsed, capped (CSS adds the ellipsis). */
export function previewText(text: string, max = 120): string {
  const one = text.replace(/\s+/g, ' ').trim();
  if (one.length <= max) return one;
  const cut = Array.from(one).slice(0, max).join('');
  return `${cut}…`;
}

/** "123451234512345…" → ["12345", "12345", …]: the safety number in groups of five. */
export function groupDigits(digits: string, size = 5): string[] {
  const out: string[] = [];
  for (let i = 0; i < digits.length; i += size) out.push(digits.slice(i, i + size));
  return out;
}

/** The local calendar day of a timestamp, for day separators ("2026-03-01"). */
export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Day separator label: "Today", "Yesterday", a weekday this week, else the date (with the year if not this one). */
export function formatDay(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  const n = new Date(now);
  if (sameDay(d, n)) return t('day.today');
  const yesterday = new Date(n.getFullYear(), n.getMonth(), n.getDate() - 1);
  if (sameDay(d, yesterday)) return t('day.yesterday');
  if (ts < now && now - ts < 6 * DAY) return fmt(ts, { weekday: 'long' });
  if (d.getFullYear() === n.getFullYear()) return fmt(ts, { weekday: 'short', month: 'long', day: 'numeric' });
  return fmt(ts, { year: 'numeric', month: 'long', day: 'numeric' });
}

/** The conversation's display name: the peer, or a group's name. */
export function conversationName(c: { peer: string; kind?: 'direct' | 'group' | undefined; name?: string | undefined }): string {
  return c.kind === 'group' ? (c.name ?? '') || c.peer : c.peer;
}

/** Conversations whose name contains the query (case- and width-insensitive), in the given order. */
export function filterByName<T extends { peer: string; kind?: 'direct' | 'group' | undefined; name?: string | undefined }>(list: readonly T[], query: string): T[] {
  const q = query.normalize('NFKC').trim().toLocaleLowerCase();
  if (!q) return [...list];
  return list.filter((c) => conversationName(c).normalize('NFKC').toLocaleLowerCase().includes(q));
}
