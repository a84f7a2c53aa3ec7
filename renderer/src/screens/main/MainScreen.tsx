// The unlocked app: conversation list (or message search) on the left, the open chat on the right
// (one at a time on narrow windows). Owns the relay connection (shared/sync via ../../sync.ts) for
// its lifetime: it is mounted only inside the unlocked session (see ../../session/Session.tsx).
// Also here: who is typing (presence.state), read receipts (markRead while the chat is seen),
// desktop notifications for new messages, and the unread count in the title and the app badge.
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage, useRefuge, type AppStatus, type ConversationSummary, type EnvelopeResult, type SearchResult, type TypingState } from '../../api.js';
import { conversationName } from '../../format.js';
import { useShortcuts } from '../../keyboard.js';
import { requestNotificationPermission, showNotification } from '../../notifications.js';
import { documentTitle, notificationContent, shouldNotify, unreadTotal } from '../../notify.js';
import { useSettings } from '../../settings/SettingsContext.js';
import { openGroupSessions, startSync, type ConnectionState, type SyncHandle } from '../../sync.js';
import { SettingsDialog } from '../settings/SettingsDialog.js';
import { AddContactDialog } from './AddContactDialog.js';
import { ChatView, type JumpRequest } from './ChatView.js';
import { EmptyChat } from './EmptyChat.js';
import { MembersPanel } from './groups/MembersPanel.js';
import { NewGroupDialog } from './groups/NewGroupDialog.js';
import { useGroup, useGroupLastMessages } from './groups/useGroup.js';
import { LinkDialog } from './LinkDialog.js';
import { QuickSwitcher } from './QuickSwitcher.js';
import { SafetyNumberDialog } from './SafetyNumberDialog.js';
import { SearchPanel } from './search/SearchPanel.js';
import { Sidebar } from './Sidebar.js';

type Panel =
  | { kind: 'add-contact' }
  | { kind: 'new-group' }
  | { kind: 'group-members' }
  | { kind: 'safety-number'; peer: string }
  | { kind: 'settings' }
  | { kind: 'quick-switcher' }
  | { kind: 'link'; href: string }
  | null;

function useDocumentVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}

function useWindowFocused(): boolean {
  const [focused, setFocused] = useState(() => document.hasFocus());
  useEffect(() => {
    const on = () => setFocused(true);
    const off = () => setFocused(false);
    window.addEventListener('focus', on);
    window.addEventListener('blur', off);
    return () => {
      window.removeEventListener('focus', on);
      window.removeEventListener('blur', off);
    };
  }, []);
  return focused;
}

/** one pane at a time (see main.css): the chat is hidden while search is in front */
function useNarrow(): boolean {
  const query = '(max-width: 720px)';
  const [narrow, setNarrow] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const mq = window.matchMedia(query);
    const update = () => setNarrow(mq.matches);
    mq.addEventListener('change', update);
    return () => mq.removeEventListener('change', update);
  }, []);
  return narrow;
}

/** re-poll typing no sooner than this after an expiry (clocks of core and page may differ a little) */
const TYPING_REPOLL_MIN_MS = 250;

export function MainScreen({
  status,
  onStatus,
  canLock,
  onLock,
}: {
  status: AppStatus;
  onStatus: (s: AppStatus) => void;
  canLock: boolean;
  onLock: () => void;
}) {
  const api = useRefuge();
  const { settings } = useSettings();
  const serverUrl = status.serverUrl ?? '';
  const [conversations, setConversations] = useState<ConversationSummary[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [syncError, setSyncError] = useState<string | null>(null);
  /** bumps whenever the store changed behind our back (sync activity); views refetch */
  const [revision, setRevision] = useState(0);
  const [panel, setPanel] = useState<Panel>(null);
  const [typing, setTyping] = useState<TypingState[]>([]);
  /** message search: open or not, and what is typed (kept while a result is open) */
  const [searchOpen, setSearchOpen] = useState(false);
  const [searchQuery, setSearchQuery] = useState('');
  /** narrow windows show one pane: the search panel is in front until a result is opened */
  const [searchInFront, setSearchInFront] = useState(false);
  const [focusSearch, setFocusSearch] = useState(0);
  const searchInput = useRef<HTMLInputElement>(null);
  /** the message to show in the open conversation (from a search result) */
  const [jump, setJump] = useState<JumpRequest | null>(null);
  const jumps = useRef(0);
  const sync = useRef<SyncHandle | null>(null);
  const visible = useDocumentVisible();
  const focused = useWindowFocused();
  const narrow = useNarrow();

  // What the notification handler (called from the sync engine) needs, always current.
  const attentive = visible && focused;
  const latest = useRef({ conversations, selectedId, attentive, privacy: settings?.notifications ?? 'name-and-text' });
  latest.current = { conversations, selectedId: narrow && searchInFront ? null : selectedId, attentive, privacy: settings?.notifications ?? 'name-and-text' };

  const openConversation = useCallback((id: string) => {
    setJump(null);
    setSelectedId(id);
    setSearchInFront(false);
  }, []);
  const openRef = useRef(openConversation);
  openRef.current = openConversation;

  const notify = useCallback((results: EnvelopeResult[]) => {
    const { conversations: list, selectedId: open, attentive, privacy } = latest.current;
    // one notification per conversation per batch (the last message); a newer one replaces it (same tag)
    const last = new Map<string, NonNullable<EnvelopeResult['message']>>();
    for (const r of results) {
      const m = r.outcome === 'stored' ? r.message : undefined;
      if (!m) continue;
      const conversation = list?.find((c) => c.id === m.conversationId);
      if (shouldNotify(m, { conversation, openConversationId: open, attentive })) last.set(m.conversationId, m);
    }
    for (const [conversationId, m] of last) {
      const conversation = list?.find((c) => c.id === conversationId);
      const from = conversation?.kind === 'group' ? `${m.sender} · ${conversationName(conversation)}` : m.sender;
      showNotification(notificationContent(privacy, from, m.text), `refuge-${conversationId}`, () => openRef.current(conversationId));
    }
  }, []);

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
    handle.onReceived(notify);
    handle.onActivity(() => setRevision((r) => r + 1));
    handle.onError((m) => setSyncError(m));
    return () => {
      sync.current = null;
      handle.stop();
    };
  }, [api, serverUrl, notify]);

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

  // Who is typing: asked after every store change (a typing message arrived), and again when the
  // soonest indicator expires.
  const typingSeq = useRef(0);
  const refreshTyping = useCallback(async () => {
    const mine = ++typingSeq.current;
    try {
      const { typing: now } = await api.presence.state({});
      if (mine === typingSeq.current) setTyping(now);
    } catch {
      if (mine === typingSeq.current) setTyping([]);
    }
  }, [api]);
  useEffect(() => {
    void refreshTyping();
  }, [refreshTyping, revision, settings?.typing]);
  useEffect(() => {
    if (typing.length === 0) return;
    const soonest = Math.min(...typing.map((s) => s.until));
    const id = window.setTimeout(() => void refreshTyping(), Math.max(TYPING_REPOLL_MIN_MS, soonest - Date.now()));
    return () => window.clearTimeout(id);
  }, [typing, refreshTyping]);

  const selected = conversations?.find((c) => c.id === selectedId) ?? null;
  const groupLast = useGroupLastMessages(conversations);
  const selectedGroupId = selected?.kind === 'group' ? selected.groupId : undefined;
  const { group: selectedGroup, error: groupError, setGroup } = useGroup(selectedGroupId, revision);
  const chatShown = selected !== null && !searchInFront;
  const chatVisible = selected !== null && !(narrow && searchInFront);

  // Read receipts: the open conversation is marked read while the user can actually see it (the
  // window visible and focused, the chat not hidden behind search). The core sends the receipt
  // (if the setting allows), so the outbox is drained afterwards.
  const unreadInSelected = selected?.unreadCount ?? 0;
  useEffect(() => {
    if (!selectedId || unreadInSelected === 0 || !visible || !focused || !chatVisible) return;
    let cancelled = false;
    api.conversations
      .markRead({ conversationId: selectedId })
      .then(() => {
        sync.current?.kick();
        if (!cancelled) void refreshConversations();
      })
      .catch(() => {
        /* not fatal: the badge stays until the next try */
      });
    return () => {
      cancelled = true;
    };
  }, [api, selectedId, unreadInSelected, visible, focused, chatVisible, refreshConversations]);

  // The unread count: in the window title everywhere, and on the dock/taskbar and tray in Electron.
  const unread = conversations ? unreadTotal(conversations) : 0;
  useEffect(() => {
    document.title = documentTitle(unread);
    api.app.setBadgeCount({ count: unread }).catch(() => undefined);
  }, [api, unread, settings?.language]);
  useEffect(
    () => () => {
      // locked: no count may linger
      document.title = documentTitle(0);
      api.app.setBadgeCount({ count: 0 }).catch(() => undefined);
    },
    [api],
  );

  const askedPermission = useRef(false);
  const onSent = useCallback(() => {
    sync.current?.kick();
    void refreshConversations();
    // the first message the user sends is a sensible moment to ask (never at start-up)
    if (!askedPermission.current) {
      askedPermission.current = true;
      void requestNotificationPermission();
    }
  }, [refreshConversations]);

  const kick = useCallback(() => sync.current?.kick(), []);

  const refreshStatus = useCallback(async () => {
    onStatus(await api.app.status({}));
  }, [api, onStatus]);

  const openSearchHit = useCallback((hit: SearchResult) => {
    setJump({ messageId: hit.messageId, token: ++jumps.current });
    setSelectedId(hit.conversationId);
    setSearchInFront(false);
  }, []);

  const openSearch = useCallback(() => {
    setPanel(null);
    setSearchOpen(true);
    setSearchInFront(true);
    setFocusSearch((n) => n + 1);
  }, []);
  // after the panel is shown (it may have been hidden behind the chat in a narrow window):
  // the cursor goes to the box, with the previous query selected
  useEffect(() => {
    if (focusSearch === 0) return;
    searchInput.current?.focus();
    searchInput.current?.select();
  }, [focusSearch]);

  const closeSearch = useCallback(() => {
    setSearchOpen(false);
    setSearchInFront(false);
    setSearchQuery('');
  }, []);
  // closing search gives focus back to the button that opens it
  const wasSearching = useRef(false);
  useEffect(() => {
    if (wasSearching.current && !searchOpen) document.querySelector<HTMLElement>('[data-testid="search-button"]')?.focus();
    wasSearching.current = searchOpen;
  }, [searchOpen]);

  const openSwitcher = useCallback(() => setPanel({ kind: 'quick-switcher' }), []);
  useShortcuts({ search: openSearch, jump: openSwitcher });

  // Back (narrow windows): return focus to where we came from (the search result or the conversation).
  const returnFocusTo = useRef<string | null>(null);
  const back = useCallback(() => {
    returnFocusTo.current = selectedId;
    setSelectedId(null);
    setJump(null);
  }, [selectedId]);
  useEffect(() => {
    const id = returnFocusTo.current;
    if (!id || selectedId) return;
    returnFocusTo.current = null;
    if (searchOpen) {
      searchInput.current?.focus();
      return;
    }
    const el = [...document.querySelectorAll<HTMLElement>('[data-testid="conversation"]')].find((b) => b.dataset.conversationId === id);
    el?.focus();
  }, [selectedId, searchOpen]);

  const toggleMute = useCallback(() => {
    if (!selected) return;
    api.conversations
      .setMuted({ conversationId: selected.id, muted: !selected.muted })
      .then(() => refreshConversations())
      .catch((e: unknown) => setListError(errorMessage(e)));
  }, [api, selected, refreshConversations]);

  const acceptIdentity = useCallback(async () => {
    if (!selected) return;
    await api.verify.acceptIdentity({ username: selected.peer });
    await refreshConversations();
  }, [api, selected, refreshConversations]);

  const openLink = useCallback((href: string) => setPanel({ kind: 'link', href }), []);
  const refreshList = useCallback(() => void refreshConversations(), [refreshConversations]);

  const typingIds = new Set(typing.map((s) => s.conversationId));
  const groupNames = new Map((conversations ?? []).filter((c) => c.kind === 'group').map((c) => [c.id, conversationName(c)]));
  const typingByConversation = new Map<string, string[]>();
  for (const s of typing) typingByConversation.set(s.conversationId, [...(typingByConversation.get(s.conversationId) ?? []), s.peer]);
  const typingNames = selected ? (typingByConversation.get(selected.id) ?? []) : [];

  // Sending to a group: sessions first with members we have none with yet (e.g. just added by someone else).
  const beforeGroupSend = useCallback(async () => {
    if (selectedGroupId && serverUrl) await openGroupSessions(api, serverUrl, { groupId: selectedGroupId });
  }, [api, serverUrl, selectedGroupId]);
  const openGroupMembers = useCallback(() => setPanel({ kind: 'group-members' }), []);

  const searchPanel = searchOpen ? (
    <SearchPanel
      query={searchQuery}
      onQuery={setSearchQuery}
      inputRef={searchInput}
      openedMessageId={jump && selectedId ? jump.messageId : null}
      groupNames={groupNames}
      onOpen={openSearchHit}
      onClose={closeSearch}
    />
  ) : null;

  return (
    <div className={chatShown ? 'main main--chat-open' : 'main'} data-testid="main">
      <Sidebar
        username={status.username ?? ''}
        conversations={conversations}
        typingIds={typingIds}
        typingNames={typingByConversation}
        groupLast={groupLast}
        error={listError}
        selectedId={selected?.id ?? null}
        connection={connection}
        connectionDetail={syncError}
        canLock={canLock}
        searchPanel={searchPanel}
        onSelect={openConversation}
        onAddContact={() => setPanel({ kind: 'add-contact' })}
        onNewGroup={() => setPanel({ kind: 'new-group' })}
        onSearch={openSearch}
        onSettings={() => setPanel({ kind: 'settings' })}
        onLock={onLock}
      />
      <section className="pane" aria-label={selected ? conversationName(selected) : undefined}>
        {selected ? (
          <ChatView
            key={selected.id}
            conversation={selected}
            revision={revision}
            connection={connection}
            jump={jump}
            peerTyping={typingIds.has(selected.id)}
            {...(selected.kind === 'group'
              ? { typingNames, group: selectedGroup, onGroupInfo: openGroupMembers, beforeSend: beforeGroupSend }
              : {})}
            onBack={back}
            onSent={onSent}
            onOutbox={kick}
            onShowSafetyNumber={() => setPanel({ kind: 'safety-number', peer: selected.peer })}
            onToggleMute={toggleMute}
            onAcceptIdentity={acceptIdentity}
            onOpenLink={openLink}
            onConversationChanged={refreshList}
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
            openConversation(conversationId);
            void refreshConversations();
          }}
        />
      ) : null}
      {panel?.kind === 'new-group' ? (
        <NewGroupDialog
          serverUrl={serverUrl}
          ownUsername={status.username ?? ''}
          onClose={() => setPanel(null)}
          onCreated={(conversationId) => {
            setPanel(null);
            sync.current?.kick(); // the encrypted invitations are in the outbox
            openConversation(conversationId);
            void refreshConversations();
          }}
        />
      ) : null}
      {panel?.kind === 'group-members' && selectedGroupId ? (
        <MembersPanel
          group={selectedGroup}
          loadError={groupError}
          serverUrl={serverUrl}
          ownUsername={status.username ?? ''}
          onClose={() => setPanel(null)}
          onChanged={(g) => {
            setGroup(g);
            sync.current?.kick(); // the change goes out to the members
            void refreshConversations();
          }}
        />
      ) : null}
      {panel?.kind === 'safety-number' ? <SafetyNumberDialog peer={panel.peer} onClose={() => setPanel(null)} onChanged={refreshList} /> : null}
      {panel?.kind === 'settings' ? <SettingsDialog status={status} canLock={canLock} refreshStatus={refreshStatus} onClose={() => setPanel(null)} /> : null}
      {panel?.kind === 'quick-switcher' ? (
        <QuickSwitcher
          conversations={conversations ?? []}
          onClose={() => setPanel(null)}
          onOpen={(id) => {
            setPanel(null);
            openConversation(id);
          }}
        />
      ) : null}
      {panel?.kind === 'link' ? <LinkDialog href={panel.href} onClose={() => setPanel(null)} /> : null}
    </div>
  );
}
