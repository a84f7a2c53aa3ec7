// Ctrl/Cmd+K: jump to a conversation by typing part of its name. A combobox over a listbox:
// arrows move, Enter opens, Esc closes (the Modal's cancel).
import { useId, useMemo, useState, type KeyboardEvent } from 'react';
import type { ConversationSummary } from '../../api.js';
import { Avatar } from '../../components/Avatar.js';
import { Modal } from '../../components/Modal.js';
import { conversationName, filterByName } from '../../format.js';
import { t, tp } from '../../i18n/index.js';

export function QuickSwitcher({
  conversations,
  onOpen,
  onClose,
}: {
  conversations: ConversationSummary[];
  onOpen: (id: string) => void;
  onClose: () => void;
}) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const listId = useId();
  const matches = useMemo(() => filterByName(conversations, query), [conversations, query]);
  const current = Math.min(active, Math.max(0, matches.length - 1));
  const optionId = (i: number) => `${listId}-opt-${i}`;

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (matches.length === 0) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((current + step + matches.length) % matches.length);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const c = matches[current];
      if (c) onOpen(c.id);
    }
  }

  return (
    <Modal title={t('switcher.title')} onClose={onClose} testId="quick-switcher" closeLabel={t('common.close')}>
      <div className="switcher">
        <input
          className="field__input"
          type="text"
          role="combobox"
          aria-label={t('switcher.label')}
          aria-expanded="true"
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={matches.length > 0 ? optionId(current) : undefined}
          placeholder={t('switcher.placeholder')}
          data-testid="quick-switcher-input"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
          data-autofocus
          autoComplete="off"
          spellCheck={false}
        />
        <ul className="switcher__list" role="listbox" id={listId} aria-label={t('sidebar.conversations')}>
          {matches.map((c, i) => {
            const name = conversationName(c);
            return (
              <li
                key={c.id}
                id={optionId(i)}
                role="option"
                aria-selected={i === current}
                className={i === current ? 'switcher__option switcher__option--active' : 'switcher__option'}
                data-testid="quick-switcher-option"
                data-peer={c.peer}
                onMouseEnter={() => setActive(i)}
                onClick={() => onOpen(c.id)}
              >
                <Avatar name={name} size="sm" group={c.kind === 'group'} />
                <span className="switcher__name">{name}</span>
                {c.unreadCount > 0 ? <span className="switcher__unread">{tp('unread', c.unreadCount)}</span> : null}
              </li>
            );
          })}
        </ul>
        {matches.length === 0 ? (
          <p className="switcher__empty" role="status">
            {t('switcher.none', { query: query.trim() })}
          </p>
        ) : null}
      </div>
    </Modal>
  );
}
