// One open conversation: header, message log, composer. The log shows a window of the history:
// normally the newest messages (following new ones as they arrive), or, after a jump from search,
// the messages around one message; the reader pages older (scroll up) and newer (scroll down)
// from there. The window is bounded so a long read does not grow the page without end.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorMessage, useRefuge, type ConversationSummary, type Group, type Message, type ReplyRef } from '../../api.js';
import { Avatar } from '../../components/Avatar.js';
import { IconBack, IconBellOff, IconLock, IconShield, IconUsers, IconWarning } from '../../components/Icons.js';
import { conversationName } from '../../format.js';
import { t, tp } from '../../i18n/index.js';
import { useSettings } from '../../settings/SettingsContext.js';
import { appendNewer, mergeNewest, prependOlder, trimWindow } from '../../messages.js';
import type { ConnectionState } from '../../sync.js';
import { ChatMenu } from './ChatMenu.js';
import { Composer } from './Composer.js';
import { typingText } from './groups/events.js';
import type { BubbleMessage } from './MessageBubble.js';
import { MessageList, type LogItem, type ScrollRequest } from './MessageList.js';

export const PAGE_SIZE = 50;
/** messages loaded around a search hit */
export const AROUND_SIZE = 50;
/** past this many loaded messages, the far side is dropped back to KEEP_WINDOW */
export const MAX_WINDOW = 500;
export const KEEP_WINDOW = 400;

/** Show this message (from a search result); a new token asks again for the same message. */
export type JumpRequest = { messageId: string; token: number };

type Pending = BubbleMessage & { localError?: string };

type LoadedWindow = {
  messages: Message[];
  /** older messages exist before the first loaded one */
  hasBefore: boolean;
  /** newer messages exist after the last loaded one: the window is detached from the newest */
  hasAfter: boolean;
};

const EMPTY: LoadedWindow = { messages: [], hasBefore: false, hasAfter: false };

let localIds = 0;
let scrollTokens = 0;

export function ChatView({
  conversation,
  revision,
  connection,
  jump,
  peerTyping,
  typingNames = [],
  group,
  onGroupInfo,
  beforeSend,
  onBack,
  onSent,
  onOutbox,
  onShowSafetyNumber,
  onToggleMute,
  onAcceptIdentity,
  onOpenLink,
  onConversationChanged,
}: {
  conversation: ConversationSummary;
  /** changes whenever the store may have changed (sync activity): the newest page is refetched */
  revision: number;
  connection: ConnectionState;
  jump: JumpRequest | null;
  /** the peer is typing right now (presence.state) */
  peerTyping: boolean;
  /** in a group: who is typing (presence.state's `peer` per member; may be empty) */
  typingNames?: readonly string[];
  /** a group conversation: its members and our role (null while loading); undefined for a direct chat */
  group?: Group | null;
  /** opens the group's members panel */
  onGroupInfo?: () => void;
  /** runs before each send (a group opens sessions with new members first); a failure does not stop the send */
  beforeSend?: () => Promise<void>;
  onBack: () => void;
  onSent: () => void;
  /** something was queued in the outbox (typing, retry): the sync engine should drain it */
  onOutbox: () => void;
  onShowSafetyNumber: () => void;
  onToggleMute: () => void;
  /** accepts the peer's new identity key (the banner's button); resolves when done */
  onAcceptIdentity: () => Promise<void>;
  onOpenLink: (href: string) => void;
  /** the conversation's summary may have changed (a send was refused): refetch the list */
  onConversationChanged: () => void;
}) {
  const api = useRefuge();
  const conversationId = conversation.id;
  const [win, setWinState] = useState<LoadedWindow>(EMPTY);
  const [pending, setPending] = useState<Pending[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [loadingNewer, setLoadingNewer] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [scrollRequest, setScrollRequest] = useState<ScrollRequest | null>(null);
  const [highlightId, setHighlightId] = useState<string | null>(null);
  const [replyTo, setReplyTo] = useState<ReplyRef | null>(null);
  const [replyFocus, setReplyFocus] = useState(0);
  const [copiedId, setCopiedId] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [accepting, setAccepting] = useState(false);
  const [acceptError, setAcceptError] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  // The loaded window, also kept in a ref so async answers merge into the latest state.
  const current = useRef<LoadedWindow>(EMPTY);
  const setWin = useCallback((next: LoadedWindow) => {
    current.current = next;
    setWinState(next);
  }, []);
  const everLoaded = useRef(false);
  /** bumps when the window is replaced (jump, back to latest): answers for the old window are dropped */
  const epoch = useRef(0);

  // newest page: on open, on every store change, after sending. Stale answers are dropped. While
  // the window is detached (reading older history after a jump), new messages wait: the reader
  // reaches them by paging forward or with "jump to latest".
  const seq = useRef(0);
  const refresh = useCallback(async () => {
    const mine = ++seq.current;
    const e = epoch.current;
    try {
      const page = await api.messages.list({ conversationId, limit: PAGE_SIZE });
      if (!alive.current || mine !== seq.current || e !== epoch.current) return;
      const w = current.current;
      if (w.hasAfter) return;
      const { messages: merged, gap } = mergeNewest(w.messages, page.messages);
      const hasBefore = !everLoaded.current || gap ? page.hasMore : w.hasBefore;
      everLoaded.current = true;
      setWin({ messages: merged, hasBefore, hasAfter: false });
      setLoaded(true);
      setError(null);
    } catch (err) {
      if (alive.current && mine === seq.current) {
        setError(errorMessage(err));
        setLoaded(true);
      }
    }
  }, [api, conversationId, setWin]);

  const loadAround = useCallback(
    async (messageId: string) => {
      const e = ++epoch.current;
      seq.current++; // a newest page in flight belongs to the old window
      try {
        const res = await api.search.around({ conversationId, messageId, limit: AROUND_SIZE });
        if (!alive.current || e !== epoch.current) return;
        everLoaded.current = true;
        setWin({ messages: res.messages, hasBefore: res.hasMoreBefore, hasAfter: res.hasMoreAfter });
        setHighlightId(messageId);
        setScrollRequest({ kind: 'message', id: messageId, token: ++scrollTokens });
        setLoaded(true);
        setError(null);
      } catch (err) {
        if (!alive.current || e !== epoch.current) return;
        setError(errorMessage(err));
        // show the conversation anyway, from its newest messages
        if (!everLoaded.current) void refresh();
      }
    },
    [api, conversationId, refresh, setWin],
  );

  // first load: the message we were asked to show, or the newest page; again for every new jump
  const jumpToken = jump?.token;
  const jumpId = jump?.messageId;
  useEffect(() => {
    if (jumpId !== undefined) void loadAround(jumpId);
    else if (!everLoaded.current) void refresh();
  }, [jumpToken, jumpId, loadAround, refresh]);

  // store changes (not the initial value: the effect above did the first load)
  const firstRevision = useRef(revision);
  useEffect(() => {
    if (revision !== firstRevision.current) void refresh();
  }, [refresh, revision]);

  // older pages, one at a time, in front of what is loaded
  const olderInFlight = useRef(false);
  const loadOlder = useCallback(async () => {
    const oldest = current.current.messages[0]?.id;
    if (!oldest || !current.current.hasBefore || olderInFlight.current) return;
    const e = epoch.current;
    olderInFlight.current = true;
    setLoadingOlder(true);
    try {
      const page = await api.messages.list({ conversationId, before: oldest, limit: PAGE_SIZE });
      if (!alive.current || e !== epoch.current) return;
      const w = current.current;
      const trimmed = trimWindow(prependOlder(w.messages, page.messages), 'older', MAX_WINDOW, KEEP_WINDOW);
      setWin({ messages: trimmed.messages, hasBefore: page.hasMore, hasAfter: w.hasAfter || trimmed.dropped });
    } catch (err) {
      if (alive.current) setError(errorMessage(err));
    } finally {
      olderInFlight.current = false;
      if (alive.current) setLoadingOlder(false);
    }
  }, [api, conversationId, setWin]);
  const onLoadOlder = useCallback(() => void loadOlder(), [loadOlder]);

  // newer pages (after a jump or after the window was trimmed), behind what is loaded
  const newerInFlight = useRef(false);
  const loadNewer = useCallback(async () => {
    const newest = current.current.messages[current.current.messages.length - 1]?.id;
    if (!newest || !current.current.hasAfter || newerInFlight.current) return;
    const e = epoch.current;
    newerInFlight.current = true;
    setLoadingNewer(true);
    try {
      const page = await api.messages.list({ conversationId, after: newest, limit: PAGE_SIZE });
      if (!alive.current || e !== epoch.current) return;
      const w = current.current;
      const trimmed = trimWindow(appendNewer(w.messages, page.messages), 'newer', MAX_WINDOW, KEEP_WINDOW);
      setWin({ messages: trimmed.messages, hasBefore: w.hasBefore || trimmed.dropped, hasAfter: page.hasMore });
    } catch (err) {
      if (alive.current) setError(errorMessage(err));
    } finally {
      newerInFlight.current = false;
      if (alive.current) setLoadingNewer(false);
    }
  }, [api, conversationId, setWin]);
  const onLoadNewer = useCallback(() => void loadNewer(), [loadNewer]);

  // back to the newest message: a scroll if it is loaded, else a fresh newest page
  const jumpToLatest = useCallback(async () => {
    setHighlightId(null);
    if (!current.current.hasAfter) {
      setScrollRequest({ kind: 'bottom', token: ++scrollTokens });
      return;
    }
    const e = ++epoch.current;
    const mine = ++seq.current;
    try {
      const page = await api.messages.list({ conversationId, limit: PAGE_SIZE });
      if (!alive.current || e !== epoch.current || mine !== seq.current) return;
      setWin({ messages: page.messages, hasBefore: page.hasMore, hasAfter: false });
      setScrollRequest({ kind: 'bottom', token: ++scrollTokens });
      setError(null);
    } catch (err) {
      if (alive.current) setError(errorMessage(err));
    }
  }, [api, conversationId, setWin]);
  const onJumpToLatest = useCallback(() => void jumpToLatest(), [jumpToLatest]);

  const send = useCallback(
    async (text: string, quoted: ReplyRef | null, reuseId?: string) => {
      // writing means being at the newest message
      if (current.current.hasAfter) void jumpToLatest();
      const id = reuseId ?? `local-${++localIds}`;
      const draft: Pending = { id, text, sentAt: Date.now(), outgoing: true, sender: 'me', status: 'sending', replyTo: quoted };
      setPending((p) => [...p.filter((m) => m.id !== id), draft]);
      try {
        // members without a session are skipped by the core; the flow opens the ones it can first
        if (beforeSend) await beforeSend().catch(() => undefined);
        const message = await api.messages.send({ conversationId, text, ...(quoted ? { replyTo: quoted.id } : {}) });
        if (!alive.current) return;
        setPending((p) => p.filter((m) => m.id !== id));
        const w = current.current;
        if (!w.hasAfter && !w.messages.some((m) => m.id === message.id)) setWin({ ...w, messages: [...w.messages, message] });
        onSent();
        void refresh();
      } catch (e) {
        if (!alive.current) return;
        setPending((p) => p.map((m) => (m.id === id ? { ...m, status: 'failed', localError: errorMessage(e) } : m)));
        // e.g. IDENTITY_CHANGED: the summary now says why, and the banner shows
        onConversationChanged();
      }
    },
    [api, conversationId, jumpToLatest, onSent, refresh, setWin, onConversationChanged, beforeSend],
  );

  // A failed message: one that never reached the core is sent again; one the relay refused is
  // re-encrypted and queued by the core (messages.retry).
  const pendingRef = useRef(pending);
  pendingRef.current = pending;
  const retry = useCallback(
    (message: BubbleMessage) => {
      const local = pendingRef.current.find((p) => p.id === message.id);
      if (local) {
        void send(local.text, local.replyTo ?? null, local.id);
        return;
      }
      api.messages
        .retry({ messageId: message.id })
        .then(() => {
          onOutbox();
          void refresh();
        })
        .catch((e: unknown) => {
          if (alive.current) setError(errorMessage(e));
          onConversationChanged();
        });
    },
    [api, send, refresh, onOutbox, onConversationChanged],
  );

  const startReply = useCallback((m: BubbleMessage) => {
    setReplyTo({ id: m.id, found: true, sender: m.outgoing ? 'me' : m.sender, text: m.text });
    setReplyFocus((n) => n + 1);
  }, []);

  const copy = useCallback((m: BubbleMessage) => {
    const done = () => {
      if (!alive.current) return;
      setCopiedId(m.id);
      setAnnouncement(t('message.copiedAnnounce'));
      window.setTimeout(() => {
        if (alive.current) setCopiedId((c) => (c === m.id ? null : c));
      }, 2000);
    };
    if (!navigator.clipboard) {
      setAnnouncement(t('message.copyFailed'));
      return;
    }
    navigator.clipboard.writeText(m.text).then(done, () => {
      if (alive.current) setAnnouncement(t('message.copyFailed'));
    });
  }, []);

  // A quote's original: scroll to it if it is loaded, else load the window around it.
  const jumpToQuote = useCallback(
    (id: string) => {
      if (current.current.messages.some((m) => m.id === id)) {
        setHighlightId(id);
        setScrollRequest({ kind: 'message', id, token: ++scrollTokens });
      } else {
        void loadAround(id);
      }
    },
    [loadAround],
  );

  const typing = useCallback(
    (on: boolean) => {
      api.presence
        .typing({ conversationId, typing: on })
        .then((r) => {
          if (r.queued) onOutbox();
        })
        .catch(() => {
          /* an indicator that does not go out is not worth an error */
        });
    },
    [api, conversationId, onOutbox],
  );

  const accept = useCallback(async () => {
    setAccepting(true);
    setAcceptError(null);
    try {
      await onAcceptIdentity();
    } catch (e) {
      if (alive.current) setAcceptError(errorMessage(e));
    } finally {
      if (alive.current) setAccepting(false);
    }
  }, [onAcceptIdentity]);

  // read receipts off: neither sent nor shown, so a 'read' from before shows as 'delivered'
  const showRead = useSettings().settings?.receipts ?? true;
  const items: LogItem[] = useMemo(
    () => [
      ...win.messages.map((m) => ({
        id: m.id,
        text: m.text,
        sentAt: m.sentAt,
        outgoing: m.outgoing,
        sender: m.sender,
        status: m.status === 'read' && !showRead ? ('delivered' as const) : m.status,
        replyTo: m.replyTo ?? null,
        system: m.system,
        // who read it: like 'read', shown only while our own read receipts are on
        readBy: m.outgoing && showRead ? m.readBy : undefined,
      })),
      // messages being sent belong at the newest end, shown once the window reaches it
      ...(win.hasAfter ? [] : pending),
    ],
    [win, pending, showRead],
  );

  const name = conversationName(conversation);
  const isGroup = conversation.kind === 'group';
  const held = !isGroup && conversation.identityChanged;
  /** we left or were removed: the history stays, the composer goes */
  const notMember = isGroup && group?.member === false;
  const typingNow = isGroup ? peerTyping || typingNames.length > 0 : peerTyping;
  const typingLine = isGroup ? typingText(typingNames) : t('chat.typing', { name });

  return (
    <div
      className="chat"
      data-testid="chat"
      data-peer={conversation.peer}
      data-group-id={conversation.groupId}
      data-member={isGroup && group ? String(group.member) : undefined}
      data-identity-changed={held ? 'true' : undefined}
    >
      <header className="chat__header">
        <button type="button" className="icon-button chat__back" aria-label={t('chat.back')} data-testid="back-button" onClick={onBack}>
          <IconBack />
        </button>
        <Avatar name={name} group={isGroup} />
        <div className="chat__heading">
          <h2 className="chat__name" data-testid="chat-peer-name">
            {isGroup && onGroupInfo ? (
              <button type="button" className="chat__name-button" data-testid="chat-group-info" title={t('group.info')} onClick={onGroupInfo}>
                {name}
              </button>
            ) : (
              name
            )}
            {conversation.muted ? (
              <span className="chat__muted" data-testid="chat-muted" title={t('chat.muted')}>
                <IconBellOff className="chat__muted-icon" />
                <span className="sr-only">{t('chat.muted')}</span>
              </span>
            ) : null}
          </h2>
          {/* the live region exists before anything is announced in it */}
          <p className="chat__sub" aria-live="polite">
            {typingNow ? (
              <span className="chat__typing" data-testid="typing-indicator">
                <span className="typing-dots" aria-hidden="true">
                  <span />
                  <span />
                  <span />
                </span>
                {typingLine}
              </span>
            ) : isGroup ? (
              <>
                <IconLock className="chat__sub-icon" />
                <span data-testid="chat-member-count">{group ? tp('group.memberCount', group.members.length) : t('chat.encrypted')}</span>
              </>
            ) : (
              <>
                <IconLock className="chat__sub-icon" />
                {t('chat.encrypted')}
              </>
            )}
          </p>
        </div>
        {isGroup ? (
          onGroupInfo ? (
            <button type="button" className="icon-button" aria-label={t('group.info')} title={t('group.info')} data-testid="group-info-button" onClick={onGroupInfo}>
              <IconUsers />
            </button>
          ) : null
        ) : (
          <button
            type="button"
            className="icon-button"
            aria-label={t('chat.safetyNumber')}
            title={t('chat.safetyNumber')}
            data-testid="safety-number-button"
            onClick={onShowSafetyNumber}
          >
            <IconShield />
          </button>
        )}
        <ChatMenu
          muted={conversation.muted}
          onToggleMute={onToggleMute}
          onSafetyNumber={isGroup ? undefined : onShowSafetyNumber}
          onGroupInfo={isGroup ? onGroupInfo : undefined}
        />
      </header>
      {held ? (
        <div className="identity-banner" role="alert" data-testid="identity-banner">
          <IconWarning className="identity-banner__icon" />
          <div className="identity-banner__body">
            <p className="identity-banner__title">{t('identity.title', { name })}</p>
            <p className="identity-banner__text">{t('identity.text', { name })}</p>
            {acceptError ? <p className="identity-banner__error">{acceptError}</p> : null}
            <div className="identity-banner__actions">
              <button type="button" className="button" data-testid="identity-banner-view" onClick={onShowSafetyNumber}>
                {t('identity.view')}
              </button>
              <button type="button" className="button button--primary" data-testid="identity-accept" disabled={accepting} onClick={() => void accept()}>
                {t('identity.accept')}
              </button>
            </div>
          </div>
        </div>
      ) : null}
      <p className="sr-only" role="status">
        {announcement}
      </p>
      <MessageList
        peer={name}
        group={isGroup}
        items={items}
        hasBefore={win.hasBefore}
        hasAfter={win.hasAfter}
        loadingOlder={loadingOlder}
        loadingNewer={loadingNewer}
        loaded={loaded}
        error={error}
        scrollRequest={scrollRequest}
        highlightId={highlightId}
        onLoadOlder={onLoadOlder}
        onLoadNewer={onLoadNewer}
        onJumpToLatest={onJumpToLatest}
        onRetry={retry}
        // a group message carries no quote (groups.send has no replyTo)
        onReply={held || isGroup ? undefined : startReply}
        onCopy={copy}
        onOpenLink={onOpenLink}
        onJumpToQuote={jumpToQuote}
        copiedId={copiedId}
      />
      {notMember ? (
        <p className="chat__left" role="status" data-testid="group-left-notice">
          <IconUsers className="chat__left-icon" />
          {t('group.notMember')}
        </p>
      ) : (
        <Composer
          peer={name}
          placeholder={isGroup ? t('group.placeholder', { name }) : undefined}
          offline={connection === 'offline'}
          held={held}
          replyTo={replyTo}
          focusToken={replyFocus}
          onCancelReply={() => setReplyTo(null)}
          onTyping={typing}
          onSend={(text) => {
            const quoted = replyTo;
            setReplyTo(null);
            void send(text, quoted);
          }}
        />
      )}
    </div>
  );
}
