// Keeping a loaded window of a conversation's messages consistent while pages arrive.
import type { Message } from '../../shared/ipc/contract.js';

/**
 * Merge a freshly fetched newest page into what is loaded (which may include older pages).
 * The page is authoritative for its range (newer statuses replace older ones). When the page
 * does not overlap what we had (more than a page arrived meanwhile), older pages are dropped
 * and `gap` is true: the caller should treat "has more" as true again.
 */
export function mergeNewest(loaded: readonly Message[], page: readonly Message[]): { messages: Message[]; gap: boolean } {
  if (page.length === 0) return { messages: [...loaded], gap: false };
  if (loaded.length === 0) return { messages: [...page], gap: false };
  const pageIds = new Set(page.map((m) => m.id));
  const firstOfPage = page[0]!.id;
  const at = loaded.findIndex((m) => m.id === firstOfPage);
  if (at === -1) {
    // No overlap at the page's start: either everything loaded is inside the page (short
    // conversation) or there is a gap between what we had and the page.
    const allInside = loaded.every((m) => pageIds.has(m.id));
    return { messages: [...page], gap: !allInside };
  }
  const older = loaded.slice(0, at).filter((m) => !pageIds.has(m.id));
  return { messages: [...older, ...page], gap: false };
}

/** Put an older page in front of what is loaded, without duplicates. */
export function prependOlder(loaded: readonly Message[], older: readonly Message[]): Message[] {
  const have = new Set(loaded.map((m) => m.id));
  return [...older.filter((m) => !have.has(m.id)), ...loaded];
}

/** Put a newer page (paging forward after a jump) behind what is loaded, without duplicates. */
export function appendNewer(loaded: readonly Message[], newer: readonly Message[]): Message[] {
  const have = new Set(loaded.map((m) => m.id));
  return [...loaded, ...newer.filter((m) => !have.has(m.id))];
}

/**
 * Keep the loaded window bounded while the reader pages through a long history: past `max`
 * messages, drop down to `keep` from the side away from where the reader is going (`keepEnd` =
 * the side being paged into). `dropped` says the dropped side has more to load again.
 */
export function trimWindow(
  messages: readonly Message[],
  keepEnd: 'older' | 'newer',
  max: number,
  keep = max,
): { messages: Message[]; dropped: boolean } {
  if (messages.length <= max) return { messages: [...messages], dropped: false };
  const n = Math.min(keep, max);
  return { messages: keepEnd === 'older' ? messages.slice(0, n) : messages.slice(messages.length - n), dropped: true };
}

/** Consecutive messages from the same side within a few minutes are drawn as one group. */
export function continuesGroup(prev: Pick<Message, 'outgoing' | 'sender' | 'sentAt'> | undefined, m: Pick<Message, 'outgoing' | 'sender' | 'sentAt'>): boolean {
  if (!prev) return false;
  return prev.outgoing === m.outgoing && prev.sender === m.sender && Math.abs(m.sentAt - prev.sentAt) < 5 * 60 * 1000;
}
