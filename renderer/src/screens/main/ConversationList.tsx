import { useEffect, useState } from 'react';
import type { ConversationSummary, Message } from '../../api.js';
import { Avatar } from '../../components/Avatar.js';
import { IconAlert, IconBellOff, IconCheck, IconCheckDouble, IconClock, IconRead, IconWarning } from '../../components/Icons.js';
import { conversationName, formatFullTime, formatListTime, previewText } from '../../format.js';
import { t, tp } from '../../i18n/index.js';
import { useSettings } from '../../settings/SettingsContext.js';
import { groupPreview, typingText } from './groups/events.js';

/** Re-render once a minute so "today" times roll over to weekdays. */
function useMinuteClock(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 60_000);
    return () => window.clearInterval(id);
  }, []);
  return now;
}

function LastStatus({ status }: { status: string }) {
  switch (status) {
    case 'sending':
      return <IconClock className="conv__status" />;
    case 'sent':
      return <IconCheck className="conv__status" />;
    case 'delivered':
      return <IconCheckDouble className="conv__status" />;
    case 'read':
      return <IconRead className="conv__status conv__status--read" />;
    case 'failed':
      return <IconAlert className="conv__status conv__status--failed" />;
    default:
      return null;
  }
}

/** The newest message of a group, when it is the one its summary describes (fetched separately: it says who sent it). */
function matchingLast(c: ConversationSummary, groupLast: ReadonlyMap<string, Message> | undefined): Message | undefined {
  const last = c.lastMessage;
  const m = groupLast?.get(c.id);
  return last && m && m.sentAt === last.sentAt && m.outgoing === last.outgoing && m.text === last.text ? m : undefined;
}

export function ConversationList({
  conversations,
  typingIds,
  typingNames,
  groupLast,
  selectedId,
  onSelect,
}: {
  conversations: ConversationSummary[] | null;
  typingIds: ReadonlySet<string>;
  /** who is typing, by conversation (a group's line names them) */
  typingNames?: ReadonlyMap<string, readonly string[]>;
  /** groups' newest messages (sender, membership event) by conversation id */
  groupLast?: ReadonlyMap<string, Message>;
  selectedId: string | null;
  onSelect: (id: string) => void;
}) {
  const now = useMinuteClock();
  const showRead = useSettings().settings?.receipts ?? true;
  if (conversations === null) {
    return (
      <p className="sidebar__placeholder" role="status">
        {t('sidebar.loading')}
      </p>
    );
  }
  if (conversations.length === 0) {
    return (
      <div className="sidebar__placeholder" data-testid="conversations-empty">
        <p className="sidebar__placeholder-title">{t('sidebar.empty')}</p>
        <p>{t('sidebar.emptyHint')}</p>
      </div>
    );
  }
  return (
    <ul className="conv-list" role="list" aria-label={t('sidebar.conversations')} data-testid="conversation-list">
      {conversations.map((c) => {
        const last = c.lastMessage;
        const key = c.id.replace(/[^A-Za-z0-9_-]/g, "_");
        const ids = { preview: `conv-${key}-preview`, time: `conv-${key}-time`, unread: `conv-${key}-unread` };
        const describedBy = [ids.preview, last ? ids.time : null, c.unreadCount > 0 ? ids.unread : null].filter(Boolean).join(' ');
        const selected = c.id === selectedId;
        const name = conversationName(c);
        const typing = typingIds.has(c.id);
        const isGroup = c.kind === 'group';
        const groupMessage = isGroup ? matchingLast(c, groupLast) : undefined;
        return (
          <li key={c.id} className="conv-list__item" role="listitem">
            <button
              type="button"
              className={selected ? 'conv conv--selected' : 'conv'}
              aria-current={selected ? 'true' : undefined}
              aria-label={name}
              aria-describedby={describedBy}
              data-testid="conversation"
              data-peer={c.peer}
              data-kind={c.kind ?? 'direct'}
              data-group-id={c.groupId}
              data-conversation-id={c.id}
              data-unread={c.unreadCount}
              data-muted={c.muted ? 'true' : undefined}
              onClick={() => onSelect(c.id)}
            >
              <Avatar name={name} group={isGroup} />
              <span className="conv__body">
                <span className="conv__top">
                  <span className="conv__name">{name}</span>
                  {c.muted ? (
                    <span className="conv__muted" data-testid="conversation-muted" title={t('chat.muted')}>
                      <IconBellOff className="conv__muted-icon" />
                      <span className="sr-only">{t('chat.muted')}</span>
                    </span>
                  ) : null}
                  {last ? (
                    <time id={ids.time} className="conv__time" dateTime={new Date(last.sentAt).toISOString()} title={formatFullTime(last.sentAt)}>
                      {formatListTime(last.sentAt, now)}
                    </time>
                  ) : null}
                </span>
                <span className="conv__bottom">
                  <span id={ids.preview} className={last || typing ? 'conv__preview' : 'conv__preview conv__preview--none'} data-testid="conversation-preview">
                    {typing ? (
                      <span className="conv__preview-text conv__typing" data-testid="conversation-typing">
                        {isGroup ? typingText(typingNames?.get(c.id) ?? []) : t('sidebar.typing')}
                      </span>
                    ) : c.identityChanged ? (
                      <span className="conv__preview-text conv__changed" data-testid="conversation-identity-changed">
                        <IconWarning className="conv__status conv__status--failed" />
                        {t('sidebar.identityChanged')}
                      </span>
                    ) : null}
                    {typing || c.identityChanged ? null : last?.outgoing ? <LastStatus status={last.status === 'read' && !showRead ? 'delivered' : last.status} /> : null}
                    {typing || c.identityChanged ? null : groupMessage ? (
                      <span className="conv__preview-text">{previewText(groupPreview(groupMessage))}</span>
                    ) : last ? (
                      <span className="conv__preview-text">
                        {last.outgoing ? t('sidebar.you') : ''}
                        {previewText(last.text)}
                      </span>
                    ) : (
                      <span className="conv__preview-text">{t('sidebar.noMessages')}</span>
                    )}
                  </span>
                  {c.unreadCount > 0 ? (
                    <span className="badge" id={ids.unread} data-testid="unread-badge">
                      <span aria-hidden="true">{c.unreadCount > 99 ? '99+' : c.unreadCount}</span>
                      <span className="sr-only">{tp('unread', c.unreadCount)}</span>
                    </span>
                  ) : null}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
