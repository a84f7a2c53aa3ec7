// One open conversation: header, message log (paged from the core), composer.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorMessage, useRefuge, type ConversationSummary, type Message } from '../../api.js';
import { Avatar } from '../../components/Avatar.js';
import { IconBack, IconLock, IconShield } from '../../components/Icons.js';
import { t } from '../../i18n/index.js';
import { mergeNewest, prependOlder } from '../../messages.js';
import type { ConnectionState } from '../../sync.js';
import { Composer } from './Composer.js';
import type { BubbleMessage } from './MessageBubble.js';
import { MessageList } from './MessageList.js';

export const PAGE_SIZE = 50;

type Pending = BubbleMessage & { localError?: string };

let localIds = 0;

export function ChatView({
  conversation,
  revision,
  connection,
  onBack,
  onSent,
  onShowSafetyNumber,
}: {
  conversation: ConversationSummary;
  /** changes whenever the store may have changed (sync activity): the newest page is refetched */
  revision: number;
  connection: ConnectionState;
  onBack: () => void;
  onSent: () => void;
  onShowSafetyNumber: () => void;
}) {
  const api = useRefuge();
  const conversationId = conversation.id;
  const [messages, setMessagesState] = useState<Message[]>([]);
  const [pending, setPending] = useState<Pending[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  // The loaded window, also kept in a ref so async answers merge into the latest state.
  const current = useRef<Message[]>([]);
  const setMessages = useCallback((next: Message[]) => {
    current.current = next;
    setMessagesState(next);
  }, []);
  const everLoaded = useRef(false);

  // newest page: on open, on every store change, after sending. Stale answers are dropped.
  const seq = useRef(0);
  const refresh = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const page = await api.messages.list({ conversationId, limit: PAGE_SIZE });
      if (!alive.current || mine !== seq.current) return;
      const { messages: merged, gap } = mergeNewest(current.current, page.messages);
      if (!everLoaded.current || gap) setHasMore(page.hasMore);
      everLoaded.current = true;
      setMessages(merged);
      setLoaded(true);
      setError(null);
    } catch (e) {
      if (alive.current && mine === seq.current) {
        setError(errorMessage(e));
        setLoaded(true);
      }
    }
  }, [api, conversationId, setMessages]);

  useEffect(() => {
    void refresh();
  }, [refresh, revision]);

  // older pages, one at a time, in front of what is loaded
  const olderInFlight = useRef(false);
  const loadOlder = useCallback(async () => {
    const oldest = current.current[0]?.id;
    if (!oldest || olderInFlight.current) return;
    olderInFlight.current = true;
    setLoadingOlder(true);
    try {
      const page = await api.messages.list({ conversationId, before: oldest, limit: PAGE_SIZE });
      if (!alive.current) return;
      setMessages(prependOlder(current.current, page.messages));
      setHasMore(page.hasMore);
    } catch (e) {
      if (alive.current) setError(errorMessage(e));
    } finally {
      olderInFlight.current = false;
      if (alive.current) setLoadingOlder(false);
    }
  }, [api, conversationId, setMessages]);
  const onLoadOlder = useCallback(() => void loadOlder(), [loadOlder]);

  const send = useCallback(
    async (text: string, reuseId?: string) => {
      const id = reuseId ?? `local-${++localIds}`;
      const draft: Pending = { id, text, sentAt: Date.now(), outgoing: true, status: 'sending' };
      setPending((p) => [...p.filter((m) => m.id !== id), draft]);
      try {
        const message = await api.messages.send({ conversationId, text });
        if (!alive.current) return;
        setPending((p) => p.filter((m) => m.id !== id));
        if (!current.current.some((m) => m.id === message.id)) setMessages([...current.current, message]);
        onSent();
        void refresh();
      } catch (e) {
        if (!alive.current) return;
        setPending((p) => p.map((m) => (m.id === id ? { ...m, status: 'failed', localError: errorMessage(e) } : m)));
      }
    },
    [api, conversationId, onSent, refresh, setMessages],
  );

  const retry = useCallback(
    (id: string) => {
      const m = pending.find((p) => p.id === id);
      if (m) void send(m.text, id);
    },
    [pending, send],
  );

  const items: BubbleMessage[] = useMemo(
    () => [
      ...messages.map((m) => ({ id: m.id, text: m.text, sentAt: m.sentAt, outgoing: m.outgoing, status: m.status })),
      ...pending,
    ],
    [messages, pending],
  );

  return (
    <div className="chat" data-testid="chat" data-peer={conversation.peer}>
      <header className="chat__header">
        <button type="button" className="icon-button chat__back" aria-label={t('chat.back')} data-testid="back-button" onClick={onBack}>
          <IconBack />
        </button>
        <Avatar name={conversation.peer} />
        <div className="chat__heading">
          <h2 className="chat__name" data-testid="chat-peer-name">
            {conversation.peer}
          </h2>
          <p className="chat__sub">
            <IconLock className="chat__sub-icon" />
            {t('chat.encrypted')}
          </p>
        </div>
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
      </header>
      <MessageList
        peer={conversation.peer}
        items={items}
        hasMore={hasMore}
        loadingOlder={loadingOlder}
        loaded={loaded}
        error={error}
        onLoadOlder={onLoadOlder}
        onRetry={retry}
      />
      <Composer peer={conversation.peer} offline={connection === 'offline'} onSend={(text) => void send(text)} />
    </div>
  );
}
