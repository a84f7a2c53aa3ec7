import type { ConversationSummary } from '../../api.js';
import { Avatar } from '../../components/Avatar.js';
import { ConnectionIndicator } from '../../components/ConnectionIndicator.js';
import { IconCompose, IconLock } from '../../components/Icons.js';
import { t } from '../../i18n/index.js';
import type { ConnectionState } from '../../sync.js';
import { ConversationList } from './ConversationList.js';

export function Sidebar(props: {
  username: string;
  conversations: ConversationSummary[] | null;
  error: string | null;
  selectedId: string | null;
  connection: ConnectionState;
  connectionDetail: string | null;
  canLock: boolean;
  onSelect: (id: string) => void;
  onAddContact: () => void;
  onLock: () => void;
}) {
  return (
    <nav className="sidebar" aria-label={t('sidebar.conversations')}>
      <header className="sidebar__header">
        <h1 className="sidebar__title">{t('sidebar.title')}</h1>
        <div className="sidebar__actions">
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
          {props.canLock ? (
            <button
              type="button"
              className="icon-button"
              aria-label={t('sidebar.lock')}
              title={t('sidebar.lock')}
              data-testid="lock-button"
              onClick={props.onLock}
            >
              <IconLock />
            </button>
          ) : null}
        </div>
      </header>
      {props.error ? (
        <p className="sidebar__error" role="alert">
          {props.error}
        </p>
      ) : null}
      <ConversationList conversations={props.conversations} selectedId={props.selectedId} onSelect={props.onSelect} />
      <footer className="sidebar__footer">
        <Avatar name={props.username || '?'} size="sm" />
        <span className="sidebar__me" title={t('sidebar.signedInAs', { name: props.username })} data-testid="own-username">
          {props.username}
        </span>
        <ConnectionIndicator state={props.connection} detail={props.connectionDetail} />
      </footer>
    </nav>
  );
}
