// The unlocked app: conversation list on the left, the open chat on the right (one at a time on
// narrow windows). Owns the relay connection (shared/sync via ../../sync.ts) for its lifetime.
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage, useRefuge, type AppStatus, type ConversationSummary } from '../../api.js';
import { startSync, type ConnectionState, type SyncHandle } from '../../sync.js';
import { AddContactDialog } from './AddContactDialog.js';
import { ChatView } from './ChatView.js';
import { EmptyChat } from './EmptyChat.js';
import { SafetyNumberDialog } from './SafetyNumberDialog.js';
import { Sidebar } from './Sidebar.js';

type Panel = { kind: 'add-contact' } | { kind: 'safety-number'; peer: string } | null;

function useDocumentVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}

export function MainScreen({ status, onStatus }: { status: AppStatus; onStatus: (s: AppStatus) => void }) {
  const api = useRefuge();
  const serverUrl = status.serverUrl ?? '';
  const [conversations, setConversations] = useState<ConversationSummary[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [syncError, setSyncError] = useState<string | null>(null);
  /** bumps whenever the store changed behind our back (sync activity); views refetch */
  const [revision, setRevision] = useState(0);
  const [panel, setPanel] = useState<Panel>(null);
  const sync = useRef<SyncHandle | null>(null);
  const visible = useDocumentVisible();

  // The relay connection lives as long as this screen.
  useEffect(() => {
    if (!serverUrl) {
      setConnection('offline');
      return;
    }
    let handle: SyncHandle;
    try {
      handle = startSync(api, serverUrl);
    } catch (e) {
      setConnection('offline');
      setSyncError(errorMessage(e));
      return;
    }
    sync.current = handle;
    setConnection(handle.state());
    handle.onState((s) => {
      setConnection(s);
      if (s === 'online') setSyncError(null);
    });
    handle.onActivity(() => setRevision((r) => r + 1));
    handle.onError((m) => setSyncError(m));
    return () => {
      sync.current = null;
      handle.stop();
    };
  }, [api, serverUrl]);

  // Conversation list, refetched on every change; late answers to older requests are dropped.
  const seq = useRef(0);
  const refreshConversations = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const list = await api.conversations.list({});
      if (mine !== seq.current) return;
      setConversations([...list].sort((a, b) => b.updatedAt - a.updatedAt));
      setListError(null);
    } catch (e) {
      if (mine === seq.current) setListError(errorMessage(e));
    }
  }, [api]);

  useEffect(() => {
    void refreshConversations();
  }, [refreshConversations, revision]);

  const selected = conversations?.find((c) => c.id === selectedId) ?? null;

  // Opening a conversation (or new messages arriving in the open one while visible) marks it read.
  const unreadInSelected = selected?.unreadCount ?? 0;
  useEffect(() => {
    if (!selectedId || unreadInSelected === 0 || !visible) return;
    let cancelled = false;
    api.conversations
      .markRead({ conversationId: selectedId })
      .then(() => {
        if (!cancelled) void refreshConversations();
      })
      .catch(() => {
        /* not fatal: the badge stays until the next try */
      });
    return () => {
      cancelled = true;
    };
  }, [api, selectedId, unreadInSelected, visible, refreshConversations]);

  const onSent = useCallback(() => {
    sync.current?.kick();
    void refreshConversations();
  }, [refreshConversations]);

  const lock = useCallback(async () => {
    try {
      onStatus(await api.vault.lock({}));
    } catch (e) {
      setListError(errorMessage(e));
    }
  }, [api, onStatus]);

  const openConversation = useCallback((id: string) => setSelectedId(id), []);

  // Back (narrow windows): return focus to the conversation we came from.
  const returnFocusTo = useRef<string | null>(null);
  const back = useCallback(() => {
    returnFocusTo.current = selectedId;
    setSelectedId(null);
  }, [selectedId]);
  useEffect(() => {
    const id = returnFocusTo.current;
    if (!id || selectedId) return;
    returnFocusTo.current = null;
    const el = [...document.querySelectorAll<HTMLElement>('[data-testid="conversation"]')].find((b) => b.dataset.conversationId === id);
    el?.focus();
  }, [selectedId]);

  return (
    <div className={selected ? 'main main--chat-open' : 'main'} data-testid="main">
      <Sidebar
        username={status.username ?? ''}
        conversations={conversations}
        error={listError}
        selectedId={selected?.id ?? null}
        connection={connection}
        connectionDetail={syncError}
        canLock={status.passphraseRequired}
        onSelect={openConversation}
        onAddContact={() => setPanel({ kind: 'add-contact' })}
        onLock={() => void lock()}
      />
      <section className="pane" aria-label={selected ? selected.peer : undefined}>
        {selected ? (
          <ChatView
            key={selected.id}
            conversation={selected}
            revision={revision}
            connection={connection}
            onBack={back}
            onSent={onSent}
            onShowSafetyNumber={() => setPanel({ kind: 'safety-number', peer: selected.peer })}
          />
        ) : (
          <EmptyChat />
        )}
      </section>
      {panel?.kind === 'add-contact' ? (
        <AddContactDialog
          serverUrl={serverUrl}
          ownUsername={status.username ?? ''}
          onClose={() => setPanel(null)}
          onAdded={(conversationId) => {
            setPanel(null);
            setSelectedId(conversationId);
            void refreshConversations();
          }}
        />
      ) : null}
      {panel?.kind === 'safety-number' ? <SafetyNumberDialog peer={panel.peer} onClose={() => setPanel(null)} /> : null}
    </div>
  );
}
