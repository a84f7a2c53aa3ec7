// The scrolling message log. Keeps the reader's place: starts at the newest message (or centred on
// a message we jumped to), follows new messages only while the reader is at the newest end, and
// keeps what the reader looks at still while pages are put in front, behind, or trimmed away.
// Anchoring is by element (the first visible message keeps its offset), so it holds whatever
// changed around it; the browser's own scroll anchoring is off (overflow-anchor: none in CSS) so
// the two never fight.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { IconArrowDown } from '../../components/Icons.js';
import { continuesGroup } from '../../messages.js';
import { dayKey, formatDay } from '../../format.js';
import { t, useLanguage } from '../../i18n/index.js';
import type { GroupEvent } from '../../api.js';
import { describeGroupEvent } from './groups/events.js';
import { MessageBubble, type BubbleMessage } from './MessageBubble.js';

/** A line of the log: a bubble, or a group's membership change (drawn as a centred line). */
export type LogItem = BubbleMessage & { system?: GroupEvent | undefined };

/** within this many px of the newest end, the log follows new messages */
const NEAR_BOTTOM = 120;
/** within this many px of either end, the next page is fetched */
const NEAR_EDGE = 400;

/** Scroll once to a message (centred) or to the newest end; a new token asks again. */
export type ScrollRequest = { kind: 'message'; id: string; token: number } | { kind: 'bottom'; token: number };

type Snapshot = {
  count: number;
  lastId?: string;
  /** the first message at least partly visible, and its distance from the top of the viewport */
  anchorId?: string;
  anchorTop: number;
  fromBottom: number;
  /** the window reached the newest message at the time */
  attached: boolean;
};

function useMinuteClock(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 60_000);
    return () => window.clearInterval(id);
  }, []);
  return now;
}

/** The log line (a direct child of the list: day separator + bubble) of a message. */
function byId(list: HTMLElement, id: string): HTMLElement | null {
  return list.querySelector<HTMLElement>(`:scope > [data-message-id="${CSS.escape(id)}"]`);
}

export function MessageList({
  peer,
  group = false,
  items,
  hasBefore,
  hasAfter,
  loadingOlder,
  loadingNewer,
  loaded,
  error,
  scrollRequest,
  highlightId,
  onLoadOlder,
  onLoadNewer,
  onJumpToLatest,
  onRetry,
  onReply,
  onCopy,
  onOpenLink,
  onJumpToQuote,
  copiedId,
}: {
  peer: string;
  /** a group conversation: incoming bubbles name their sender */
  group?: boolean;
  items: LogItem[];
  hasBefore: boolean;
  hasAfter: boolean;
  loadingOlder: boolean;
  loadingNewer: boolean;
  /** the first page has arrived */
  loaded: boolean;
  error: string | null;
  scrollRequest: ScrollRequest | null;
  /** the message we jumped to: marked and briefly highlighted */
  highlightId: string | null;
  onLoadOlder: () => void;
  onLoadNewer: () => void;
  onJumpToLatest: () => void;
  onRetry: (message: BubbleMessage) => void;
  onReply?: (message: BubbleMessage) => void;
  onCopy: (message: BubbleMessage) => void;
  onOpenLink: (href: string) => void;
  onJumpToQuote: (id: string) => void;
  /** the message whose text was just copied */
  copiedId: string | null;
}) {
  const lang = useLanguage();
  const ref = useRef<HTMLDivElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const snap = useRef<Snapshot | null>(null);
  const handledToken = useRef<number | null>(null);
  const [awayFromLatest, setAwayFromLatest] = useState(false);
  const now = useMinuteClock();

  const measure = useCallback((): Snapshot | null => {
    const el = ref.current;
    const list = listRef.current;
    if (!el || !list) return null;
    const children = list.children;
    // binary search: the first message whose bottom is below the top of the viewport
    let lo = 0;
    let hi = children.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = children[mid] as HTMLElement;
      if (c.offsetTop + c.offsetHeight <= el.scrollTop) lo = mid + 1;
      else hi = mid;
    }
    const anchor = children[lo] as HTMLElement | undefined;
    return {
      count: items.length,
      lastId: items[items.length - 1]?.id,
      anchorId: anchor?.dataset.messageId,
      anchorTop: anchor ? anchor.offsetTop - el.scrollTop : 0,
      fromBottom: el.scrollHeight - el.scrollTop - el.clientHeight,
      attached: !hasAfter,
    };
  }, [items, hasAfter]);

  const take = useCallback(() => {
    const s = measure();
    snap.current = s;
    const el = ref.current;
    if (s && el) setAwayFromLatest(hasAfter || s.fromBottom > Math.max(NEAR_BOTTOM * 2, el.clientHeight / 2));
  }, [measure, hasAfter]);

  const restoreAnchor = useCallback((before: Snapshot): boolean => {
    const el = ref.current;
    const list = listRef.current;
    if (!el || !list || !before.anchorId) return false;
    const anchor = byId(list, before.anchorId);
    if (!anchor) return false;
    el.scrollTop = anchor.offsetTop - before.anchorTop;
    return true;
  }, []);

  // After each change, before paint: put the scroll position where the reader expects it.
  useLayoutEffect(() => {
    const el = ref.current;
    const list = listRef.current;
    if (!el || !list) return;
    const before = snap.current;
    const request = scrollRequest && scrollRequest.token !== handledToken.current ? scrollRequest : null;
    const last = items[items.length - 1];
    const target = request?.kind === 'message' ? byId(list, request.id) : null;
    if (request?.kind === 'message' && target) {
      handledToken.current = request.token;
      el.scrollTop = target.offsetTop - Math.max(0, (el.clientHeight - target.offsetHeight) / 2);
      (target.querySelector<HTMLElement>('[data-testid="message"]') ?? target).focus({ preventScroll: true });
    } else if (request?.kind === 'bottom' && !hasAfter) {
      handledToken.current = request.token;
      el.scrollTop = el.scrollHeight;
    } else if (!before || before.count === 0) {
      el.scrollTop = el.scrollHeight; // first page: start at the newest
    } else if (
      before.attached &&
      !hasAfter &&
      last &&
      last.id !== before.lastId &&
      (before.fromBottom < NEAR_BOTTOM || (last.outgoing && last.status === 'sending'))
    ) {
      el.scrollTop = el.scrollHeight; // a new message at the end, and the reader was there (or wrote it)
    } else if (!restoreAnchor(before) && before.fromBottom < NEAR_BOTTOM && !hasAfter) {
      el.scrollTop = el.scrollHeight;
    }
    take();
  }, [items, scrollRequest, hasAfter, hasBefore, loadingOlder, loadingNewer, loaded, error, take, restoreAnchor]);

  // When the log's box changes size (window resized, composer grew): stay at the newest end if
  // the reader was there, else keep the same message in view.
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      const before = snap.current;
      if (before && before.attached && before.fromBottom < NEAR_BOTTOM) el.scrollTop = el.scrollHeight;
      else if (before) restoreAnchor(before);
      take();
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [take, restoreAnchor]);

  // Page when the reader nears either end, or when what is loaded does not fill the view.
  const maybeLoad = useCallback(() => {
    const el = ref.current;
    if (!el || !loaded) return;
    const fits = el.scrollHeight <= el.clientHeight + 1;
    if (hasBefore && !loadingOlder && (el.scrollTop < NEAR_EDGE || fits)) onLoadOlder();
    if (hasAfter && !loadingNewer && (el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_EDGE || fits)) onLoadNewer();
  }, [hasBefore, hasAfter, loadingOlder, loadingNewer, loaded, onLoadOlder, onLoadNewer]);

  useEffect(() => {
    maybeLoad();
  }, [maybeLoad, items]);

  return (
    <div className="log-wrap">
      <div
        ref={ref}
        className="log"
        role="log"
        aria-label={t('chat.log', { name: peer })}
        aria-busy={!loaded || loadingOlder || loadingNewer}
        tabIndex={0}
        data-testid="message-list"
        data-window={hasAfter ? 'detached' : 'latest'}
        onScroll={() => {
          take();
          maybeLoad();
        }}
      >
        <div className="log__inner">
          {loaded && !hasBefore ? <p className="log__start">{group ? t('group.start', { name: peer }) : t('chat.start', { name: peer })}</p> : null}
          {loadingOlder ? (
            <p className="log__loading" role="status" data-testid="loading-older">
              <span className="spinner" aria-hidden="true" /> {t('chat.loadingOlder')}
            </p>
          ) : null}
          {error ? (
            <p className="form-error log__error" role="alert">
              {t('chat.loadError', { message: error })}
            </p>
          ) : null}
          <div ref={listRef} className="log__messages">
            {items.map((m, i) => {
              const prev = i > 0 ? items[i - 1] : undefined;
              // a day separator before the first message of each day (and at the top of the window)
              const newDay = !prev || dayKey(prev.sentAt) !== dayKey(m.sentAt);
              const continues = !newDay && !!prev && !prev.system && continuesGroup(withSender(prev), withSender(m));
              return (
                <div key={m.id} className="log__item" data-message-id={m.id}>
                  {newDay ? (
                    <div className="day-separator" role="heading" aria-level={3} data-testid="day-separator">
                      <span className="day-separator__label">{formatDay(m.sentAt, now)}</span>
                    </div>
                  ) : null}
                  {m.system ? (
                    <p className="log__system" data-testid="system-message" data-kind={m.system.kind} dir="auto">
                      {describeGroupEvent(m.system)}
                    </p>
                  ) : (
                    <MessageBubble
                      message={m}
                      continues={continues}
                      showSender={group && !continues}
                      now={now}
                      lang={lang}
                      highlighted={m.id === highlightId}
                      copied={m.id === copiedId}
                      onRetry={onRetry}
                      onReply={onReply}
                      onCopy={onCopy}
                      onOpenLink={onOpenLink}
                      onJumpToQuote={onJumpToQuote}
                    />
                  )}
                </div>
              );
            })}
          </div>
          {loadingNewer ? (
            <p className="log__loading log__loading--newer" role="status" data-testid="loading-newer">
              <span className="spinner" aria-hidden="true" /> {t('chat.loadingNewer')}
            </p>
          ) : null}
        </div>
      </div>
      {awayFromLatest ? (
        <button
          type="button"
          className="jump-latest"
          aria-label={t('chat.jumpToLatest')}
          title={t('chat.jumpToLatest')}
          data-testid="jump-to-latest"
          onClick={onJumpToLatest}
        >
          <IconArrowDown />
        </button>
      ) : null}
    </div>
  );
}

function withSender(m: BubbleMessage) {
  return { outgoing: m.outgoing, sender: m.outgoing ? 'me' : m.sender, sentAt: m.sentAt };
}
