// The chat header's "more" menu (menu button pattern): mute notifications for this conversation
// and the safety number. Arrows move, Esc or Tab closes, focus returns to the button.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { IconBellOff, IconMore, IconShield, IconUsers } from '../../components/Icons.js';
import { t } from '../../i18n/index.js';

/** A direct chat offers its safety number; a group offers its members panel instead. */
export function ChatMenu({
  muted,
  onToggleMute,
  onSafetyNumber,
  onGroupInfo,
}: {
  muted: boolean;
  onToggleMute: () => void;
  onSafetyNumber?: (() => void) | undefined;
  onGroupInfo?: (() => void) | undefined;
}) {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const items = () => [...(menu.current?.querySelectorAll<HTMLElement>('[role^="menuitem"]') ?? [])];

  useEffect(() => {
    if (!open) return;
    items()[0]?.focus();
    const onDown = (e: MouseEvent) => {
      const target = e.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  function close(focusButton: boolean) {
    setOpen(false);
    if (focusButton) button.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const list = items();
    const i = list.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close(true);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      list[(i + step + list.length) % list.length]?.focus();
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      (e.key === 'Home' ? list[0] : list[list.length - 1])?.focus();
    } else if (e.key === 'Tab') {
      setOpen(false);
    }
  }

  function choose(run: () => void) {
    close(true);
    run();
  }

  return (
    <div className="menu-anchor">
      <button
        ref={button}
        type="button"
        className="icon-button"
        aria-label={t('chat.menu')}
        title={t('chat.menu')}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        data-testid="chat-menu-button"
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        <IconMore />
      </button>
      {open ? (
        <div ref={menu} className="menu" role="menu" id={menuId} aria-label={t('chat.menu')} data-testid="chat-menu" onKeyDown={onKeyDown}>
          <button
            type="button"
            role="menuitemcheckbox"
            aria-checked={muted}
            className="menu__item"
            tabIndex={-1}
            data-testid="menu-mute"
            onClick={() => choose(onToggleMute)}
          >
            <IconBellOff className="menu__icon" />
            <span>{t('chat.mute')}</span>
            <span className="menu__check" aria-hidden="true">
              {muted ? '✓' : ''}
            </span>
          </button>
          {onSafetyNumber ? (
            <button type="button" role="menuitem" className="menu__item" tabIndex={-1} data-testid="menu-safety-number" onClick={() => choose(onSafetyNumber)}>
              <IconShield className="menu__icon" />
              <span>{t('chat.safetyNumber')}</span>
            </button>
          ) : null}
          {onGroupInfo ? (
            <button type="button" role="menuitem" className="menu__item" tabIndex={-1} data-testid="menu-group-info" onClick={() => choose(onGroupInfo)}>
              <IconUsers className="menu__icon" />
              <span>{t('group.info')}</span>
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
