// App-wide keyboard shortcuts. "mod" is Cmd on macOS and Ctrl elsewhere. One table: search
// (F), lock (L), jump to a conversation (K); the labels feed tooltips.
import { useLayoutEffect, useRef } from 'react';

export type ShortcutId = 'search' | 'lock' | 'jump';

export const SHORTCUTS: Record<ShortcutId, { key: string }> = {
  search: { key: 'f' },
  lock: { key: 'l' },
  jump: { key: 'k' },
};

type NavigatorWithUAData = Navigator & { userAgentData?: { platform?: string } };

export function isMac(): boolean {
  if (typeof navigator === 'undefined') return false;
  const nav = navigator as NavigatorWithUAData;
  return /mac|iphone|ipad/i.test(nav.userAgentData?.platform ?? nav.platform ?? '');
}

type KeyLike = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'> & { code?: string };

/** Which shortcut a key press is, if any (mod+key, no Alt/Shift). */
export function matchShortcut(e: KeyLike, mac = isMac()): ShortcutId | null {
  const mod = mac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  if (!mod || e.altKey || e.shiftKey) return null;
  // the letter on the key; with a non-Latin layout (Korean 2-set gives 'ㄹ' for F) the physical key
  const key = /^[a-z]$/i.test(e.key) ? e.key.toLowerCase() : /^Key[A-Z]$/.test(e.code ?? '') ? (e.code ?? '').slice(3).toLowerCase() : '';
  for (const [id, s] of Object.entries(SHORTCUTS) as Array<[ShortcutId, { key: string }]>) {
    if (s.key === key) return id;
  }
  return null;
}

/** "Ctrl+F" / "⌘F", for tooltips and aria-keyshortcuts. */
export function shortcutLabel(id: ShortcutId, mac = isMac()): string {
  const key = SHORTCUTS[id].key.toUpperCase();
  return mac ? `⌘${key}` : `Ctrl+${key}`;
}

export function ariaShortcut(id: ShortcutId, mac = isMac()): string {
  return `${mac ? 'Meta' : 'Control'}+${SHORTCUTS[id].key.toUpperCase()}`;
}

/** Listens on the window while mounted; handlers may change between renders. */
export function useShortcuts(handlers: Partial<Record<ShortcutId, () => void>>): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  // A layout effect: the listener is in place before the screen is first painted, so a shortcut
  // pressed the moment the window shows is not lost (a passive effect runs after the paint).
  useLayoutEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing) return;
      const id = matchShortcut(e);
      const handler = id ? ref.current[id] : undefined;
      if (!handler) return;
      e.preventDefault();
      handler();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
