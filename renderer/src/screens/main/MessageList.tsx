// The scrolling message log. Keeps the reader's place: starts at the newest message, follows new
// messages only while the reader is at the bottom, and keeps the view still when older pages are
// put in front (scroll-up paging).
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { continuesGroup } from '../../messages.js';
import { t } from '../../i18n/index.js';
import { MessageBubble, type BubbleMessage } from './MessageBubble.js';

const NEAR_BOTTOM = 120;
const NEAR_TOP = 200;

type Snapshot = { scrollHeight: number; scrollTop: number; clientHeight: number; firstId?: string; lastId?: string; count: number };

function useMinuteClock(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 60_000);
    return () => window.clearInterval(id);
  }, []);
  return now;
}

export function MessageList({
  peer,
  items,
  hasMore,
  loadingOlder,
  loaded,
  error,
  onLoadOlder,
  onRetry,
}: {
  peer: string;
  items: BubbleMessage[];
  hasMore: boolean;
  loadingOlder: boolean;
  /** the first page has arrived */
  loaded: boolean;
  error: string | null;
  onLoadOlder: () => void;
  onRetry: (id: string) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const snap = useRef<Snapshot | null>(null);
  const now = useMinuteClock();

  const take = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    snap.current = {
      scrollHeight: el.scrollHeight,
      scrollTop: el.scrollTop,
      clientHeight: el.clientHeight,
      firstId: items[0]?.id,
      lastId: items[items.length - 1]?.id,
      count: items.length,
    };
  }, [items]);

  // After each change of the list, before paint: put the scroll position where the reader expects it.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const before = snap.current;
    const firstId = items[0]?.id;
    const last = items[items.length - 1];
    if (!before || before.count === 0) {
      el.scrollTop = el.scrollHeight; // first page: start at the newest
    } else if (firstId !== before.firstId && items.some((m) => m.id === before.firstId)) {
      // older messages were put in front: keep what the reader was looking at in place
      el.scrollTop = before.scrollTop + (el.scrollHeight - before.scrollHeight);
    } else if (last && last.id !== before.lastId) {
      const wasNearBottom = before.scrollHeight - before.scrollTop - before.clientHeight < NEAR_BOTTOM;
      const mineJustNow = last.outgoing && last.status === 'sending';
      if (wasNearBottom || mineJustNow) el.scrollTop = el.scrollHeight;
    } else {
      const wasNearBottom = before.scrollHeight - before.scrollTop - before.clientHeight < NEAR_BOTTOM;
      if (wasNearBottom) el.scrollTop = el.scrollHeight;
    }
    take();
  }, [items, take]);

  // When the log's box changes size (window resized, composer grew), stay pinned to the bottom.
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      const before = snap.current;
      if (before && before.scrollHeight - before.scrollTop - before.clientHeight < NEAR_BOTTOM) {
        el.scrollTop = el.scrollHeight;
      }
      take();
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [take]);

  // Page backwards when the reader nears the top, or when the first page does not fill the view.
  const maybeLoadOlder = useCallback(() => {
    const el = ref.current;
    if (!el || !hasMore || loadingOlder || !loaded) return;
    if (el.scrollTop < NEAR_TOP || el.scrollHeight <= el.clientHeight + 1) onLoadOlder();
  }, [hasMore, loadingOlder, loaded, onLoadOlder]);

  useEffect(() => {
    maybeLoadOlder();
  }, [maybeLoadOlder, items]);

  return (
    <div
      ref={ref}
      className="log"
      role="log"
      aria-label={t('chat.log', { name: peer })}
      aria-busy={!loaded || loadingOlder}
      tabIndex={0}
      data-testid="message-list"
      onScroll={() => {
        take();
        maybeLoadOlder();
      }}
    >
      <div className="log__inner">
        {loaded && !hasMore ? <p className="log__start">{t('chat.start', { name: peer })}</p> : null}
        {loadingOlder ? (
          <p className="log__loading" role="status">
            <span className="spinner" aria-hidden="true" /> {t('chat.loadingOlder')}
          </p>
        ) : null}
        {error ? (
          <p className="form-error log__error" role="alert">
            {t('chat.loadError', { message: error })}
          </p>
        ) : null}
        {items.map((m, i) => (
          <MessageBubble key={m.id} message={m} continues={continuesGroup(i > 0 ? withSender(items[i - 1]!) : undefined, withSender(m))} now={now} onRetry={onRetry} />
        ))}
      </div>
    </div>
  );
}

function withSender(m: BubbleMessage) {
  return { outgoing: m.outgoing, sender: m.outgoing ? 'me' : 'peer', sentAt: m.sentAt };
}
