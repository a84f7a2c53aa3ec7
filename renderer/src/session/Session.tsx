// The unlocked session: everything that exists only while the vault is open. App renders it for
// status 'ready' and unmounts it on lock, so its state (conversations, messages, search results,
// settings) and the relay connection it owns are discarded, not hidden.
import { useCallback, useLayoutEffect } from 'react';
import { applyTheme } from '../appearance/theme.js';
import { setLanguage } from '../i18n/index.js';
import type { AppStatus } from '../api.js';
import { useShortcuts } from '../keyboard.js';
import type { LockReason } from '../lock/reason.js';
import { useIdleLock } from '../lock/useIdleLock.js';
import { MainScreen } from '../screens/main/MainScreen.js';
import { SettingsProvider, useSettings } from '../settings/SettingsContext.js';

type Props = { status: AppStatus; onStatus: (s: AppStatus) => void; onLock: (reason: LockReason) => void };

export function Session(props: Props) {
  return (
    <SettingsProvider>
      <SessionBody {...props} />
    </SettingsProvider>
  );
}

function SessionBody({ status, onStatus, onLock }: Props) {
  const { settings } = useSettings();
  // Theme and language follow the settings as soon as they load or change (before paint).
  const theme = settings?.theme;
  const language = settings?.language;
  useLayoutEffect(() => {
    if (theme) applyTheme(theme);
  }, [theme]);
  useLayoutEffect(() => {
    if (language) setLanguage(language);
  }, [language]);
  // Locking only means something when unlocking needs the passphrase (with the OS keychain alone
  // the unlock screen would open straight away).
  const canLock = status.passphraseRequired;
  const minutes = canLock ? (settings?.autoLockMinutes ?? 0) : 0;
  const lockNow = useCallback(() => onLock({ kind: 'manual' }), [onLock]);
  useIdleLock(minutes, () => onLock({ kind: 'idle', minutes }));
  useShortcuts({ lock: canLock ? lockNow : undefined });
  return <MainScreen status={status} onStatus={onStatus} canLock={canLock} onLock={lockNow} />;
}
