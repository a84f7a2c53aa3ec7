// Message search in the sidebar: a combobox (focus stays in the box) over a listbox of ranked
// results. Arrows move, Enter opens the message in its conversation, Esc closes the panel.
import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { useRefuge, type SearchResult } from '../../../api.js';
import { Avatar } from '../../../components/Avatar.js';
import { IconBack, IconClose, IconSearch } from '../../../components/Icons.js';
import { formatFullTime, formatListTime } from '../../../format.js';
import { t, tp } from '../../../i18n/index.js';
import { SEARCH_LIMIT, useMessageSearch } from '../../../search/useMessageSearch.js';
import { Snippet } from './Snippet.js';

export function SearchPanel({
  query,
  onQuery,
  inputRef,
  openedMessageId,
  groupNames,
  onOpen,
  onClose,
}: {
  /** kept by the caller so the query survives opening a result (and narrow windows' back button) */
  query: string;
  onQuery: (q: string) => void;
  inputRef: RefObject<HTMLInputElement | null>;
  /** the result last opened, marked in the list */
  openedMessageId: string | null;
  /** group conversations' names by conversation id (a group's hit has no peer) */
  groupNames?: ReadonlyMap<string, string>;
  onOpen: (hit: SearchResult) => void;
  onClose: () => void;
}) {
  const api = useRefuge();
  const search = useMessageSearch(api, query);
  const [active, setActive] = useState(0);
  const listId = useId();
  const optionId = (i: number) => `${listId}-opt-${i}`;
  const listRef = useRef<HTMLUListElement>(null);
  const results = search.results;

  // new results: start at the top
  useEffect(() => setActive(0), [results]);

  // keep the active option in view while arrowing through a long list
  useLayoutEffect(() => {
    const el = listRef.current?.children[active];
    if (el instanceof HTMLElement) el.scrollIntoView({ block: 'nearest' });
  }, [active]);

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.nativeEvent.isComposing || e.keyCode === 229) return; // composing Korean: keys belong to the IME
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        setActive((i) => Math.min(results.length - 1, i + 1));
        break;
      case 'ArrowUp':
        e.preventDefault();
        setActive((i) => Math.max(0, i - 1));
        break;
      case 'PageDown':
        e.preventDefault();
        setActive((i) => Math.min(results.length - 1, i + 8));
        break;
      case 'PageUp':
        e.preventDefault();
        setActive((i) => Math.max(0, i - 8));
        break;
      case 'Enter': {
        e.preventDefault();
        const hit = results[active];
        if (hit) onOpen(hit);
        break;
      }
      case 'Escape':
        e.preventDefault();
        onClose();
        break;
    }
  }

  const trimmed = query.trim();
  const showResults = trimmed !== '' && search.query !== '' && !search.error && results.length > 0;
  let statusText = '';
  if (!trimmed) statusText = t('search.hint');
  else if (search.error) statusText = '';
  else if (search.loading && search.query !== trimmed) statusText = t('search.searching');
  else if (results.length === 0) statusText = t('search.none', { query: search.query || trimmed });
  else statusText = results.length >= SEARCH_LIMIT ? t('search.top', { count: results.length }) : tp('search.count', results.length);

  return (
    <div className="search" data-testid="search-panel" role="search" aria-label={t('search.label')}>
      <div className="search__bar">
        <button type="button" className="icon-button search__back" aria-label={t('search.close')} title={t('search.close')} data-testid="search-close" onClick={onClose}>
          <IconBack />
        </button>
        <div className="search__field">
          <IconSearch className="search__icon" />
          <input
            ref={inputRef}
            className="search__input"
            type="search"
            role="combobox"
            aria-label={t('search.label')}
            aria-expanded={showResults}
            aria-controls={listId}
            aria-autocomplete="list"
            aria-activedescendant={showResults && results[active] ? optionId(active) : undefined}
            placeholder={t('search.placeholder')}
            data-testid="search-input"
            value={query}
            onChange={(e) => onQuery(e.target.value)}
            onKeyDown={onKeyDown}
            autoComplete="off"
            spellCheck={false}
            dir="auto"
            autoFocus
          />
          {query ? (
            <button
              type="button"
              className="search__clear"
              aria-label={t('search.clear')}
              title={t('search.clear')}
              onClick={() => {
                onQuery('');
                inputRef.current?.focus();
              }}
            >
              <IconClose />
            </button>
          ) : null}
        </div>
      </div>
      <p className={trimmed ? 'search__status' : 'search__status search__status--hint'} role="status" data-testid={trimmed ? 'search-status' : 'search-hint'} aria-live="polite">
        {search.loading && search.query === trimmed ? <span className="spinner search__spinner" aria-hidden="true" /> : null}
        {statusText}
      </p>
      {search.error && trimmed ? (
        <p className="form-error search__error" role="alert" data-testid="search-error">
          {t('search.error', { message: search.error })}
        </p>
      ) : null}
      <ul
        ref={listRef}
        id={listId}
        className="search__results"
        role="listbox"
        aria-label={t('search.results')}
        aria-busy={search.loading}
        data-testid="search-results"
        hidden={!showResults}
      >
        {showResults
          ? results.map((hit, i) => {
              const groupName = groupNames?.get(hit.conversationId);
              const title = groupName ?? hit.peer;
              return (
                <li
                  key={`${hit.conversationId}:${hit.messageId}`}
                  id={optionId(i)}
                  role="option"
                  aria-selected={i === active}
                  className={[
                    'result',
                    i === active ? 'result--active' : '',
                    hit.messageId === openedMessageId ? 'result--opened' : '',
                  ]
                    .filter(Boolean)
                    .join(' ')}
                  data-testid="search-result"
                  data-message-id={hit.messageId}
                  data-conversation-id={hit.conversationId}
                  data-peer={hit.peer}
                  onMouseMove={() => {
                    if (i !== active) setActive(i);
                  }}
                  onMouseDown={(e) => e.preventDefault() /* keep focus in the search box */}
                  onClick={() => onOpen(hit)}
                >
                  <Avatar name={title} size="sm" group={groupName !== undefined} />
                  <span className="result__body">
                    <span className="result__top">
                      <span className="result__peer">{title}</span>
                      <time className="result__time" dateTime={new Date(hit.sentAt).toISOString()} title={formatFullTime(hit.sentAt)}>
                        {formatListTime(hit.sentAt)}
                      </time>
                    </span>
                    <span className="result__snippet" data-testid="search-snippet" dir="auto">
                      {hit.outgoing ? (
                        <span className="result__you">{t('sidebar.you')}</span>
                      ) : groupName !== undefined ? (
                        <span className="result__you">{t('group.preview', { name: hit.sender, text: '' })}</span>
                      ) : null}
                      <Snippet text={hit.snippet.text} highlights={hit.snippet.highlights} />
                    </span>
                  </span>
                </li>
              );
            })
          : null}
      </ul>
    </div>
  );
}
