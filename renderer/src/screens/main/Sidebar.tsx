import { useState, type ReactNode } from 'react';
import type { ConversationSummary, Message } from '../../api.js';
import { Avatar } from '../../components/Avatar.js';
import { ConnectionIndicator } from '../../components/ConnectionIndicator.js';
import { IconClose, IconCompose, IconLock, IconSearch, IconSettings, IconUsers } from '../../components/Icons.js';
import { filterByName } from '../../format.js';
import { t } from '../../i18n/index.js';
import { ariaShortcut, shortcutLabel } from '../../keyboard.js';
import type { ConnectionState } from '../../sync.js';
import { ConversationList } from './ConversationList.js';

export function Sidebar(props: {
  username: string;
  conversations: ConversationSummary[] | null;
  /** conversations where the peer is typing */
  typingIds: ReadonlySet<string>;
  /** who is typing, by conversation */
  typingNames?: ReadonlyMap<string, readonly string[]>;
  /** groups' newest messages, for their previews */
  groupLast?: ReadonlyMap<string, Message>;
  error: string | null;
  selectedId: string | null;
  connection: ConnectionState;
  connectionDetail: string | null;
  canLock: boolean;
  /** shown instead of the header and the conversation list (message search) */
  searchPanel: ReactNode | null;
  onSelect: (id: string) => void;
  onAddContact: () => void;
  onNewGroup?: () => void;
  onSearch: () => void;
  onSettings: () => void;
  onLock: () => void;
}) {
  const searchLabel = `${t('sidebar.search')} (${shortcutLabel('search')})`;
  const lockLabel = `${t('sidebar.lock')} (${shortcutLabel('lock')})`;
  const [filter, setFilter] = useState('');
  const all = props.conversations;
  const shown = all && filter.trim() ? filterByName(all, filter) : all;
  return (
    <nav className="sidebar" aria-label={t('sidebar.conversations')}>
      {props.searchPanel ?? (
        <header className="sidebar__header">
          <h1 className="sidebar__title">{t('sidebar.title')}</h1>
          <div className="sidebar__actions">
            <button
              type="button"
              className="icon-button"
              aria-label={t('sidebar.search')}
              aria-keyshortcuts={ariaShortcut('search')}
              title={searchLabel}
              data-testid="search-button"
              onClick={props.onSearch}
            >
              <IconSearch />
            </button>
            <button
              type="button"
              className="icon-button"
              aria-label={t('sidebar.addContact')}
              title={t('sidebar.addContact')}
              data-testid="add-contact-button"
              onClick={props.onAddContact}
            >
              <IconCompose />
            </button>
            {props.onNewGroup ? (
              <button
                type="button"
                className="icon-button"
                aria-label={t('sidebar.newGroup')}
                title={t('sidebar.newGroup')}
                data-testid="new-group-button"
                onClick={props.onNewGroup}
              >
                <IconUsers />
              </button>
            ) : null}
            {props.canLock ? (
              <button
                type="button"
                className="icon-button"
                aria-label={t('sidebar.lock')}
                aria-keyshortcuts={ariaShortcut('lock')}
                title={lockLabel}
                data-testid="lock-button"
                onClick={props.onLock}
              >
                <IconLock />
              </button>
            ) : null}
          </div>
        </header>
      )}
      {props.error ? (
        <p className="sidebar__error" role="alert">
          {props.error}
        </p>
      ) : null}
      {props.searchPanel || !all || all.length === 0 ? null : (
        <div className="conv-filter">
          <IconSearch className="conv-filter__icon" />
          <input
            type="text"
            className="conv-filter__input"
            aria-label={t('sidebar.filter')}
            placeholder={t('sidebar.filter')}
            data-testid="conversation-filter"
            value={filter}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setFilter(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape' && filter) {
                e.preventDefault();
                setFilter('');
              }
            }}
          />
          {filter ? (
            <button type="button" className="icon-button conv-filter__clear" aria-label={t('sidebar.filterClear')} title={t('sidebar.filterClear')} onClick={() => setFilter('')}>
              <IconClose />
            </button>
          ) : null}
        </div>
      )}
      {props.searchPanel ? null : shown && shown.length === 0 && filter.trim() ? (
        <p className="sidebar__placeholder" role="status" data-testid="conversations-no-match">
          {t('sidebar.filterNone', { query: filter.trim() })}
        </p>
      ) : (
        <ConversationList conversations={shown} typingIds={props.typingIds} typingNames={props.typingNames} groupLast={props.groupLast} selectedId={props.selectedId} onSelect={props.onSelect} />
      )}
      <footer className="sidebar__footer">
        <Avatar name={props.username || '?'} size="sm" />
        <span className="sidebar__me" title={t('sidebar.signedInAs', { name: props.username })} data-testid="own-username">
          {props.username}
        </span>
        <ConnectionIndicator state={props.connection} detail={props.connectionDetail} />
        <button
          type="button"
          className="icon-button sidebar__settings"
          aria-label={t('sidebar.settings')}
          title={t('sidebar.settings')}
          data-testid="settings-button"
          onClick={props.onSettings}
        >
          <IconSettings />
        </button>
      </footer>
    </nav>
  );
}
