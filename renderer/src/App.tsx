// Which screen: decided by the core's app.status (no account → onboarding, locked → unlock, ready →
// the unlocked session). Locking unmounts the session subtree: every decrypted conversation,
// message and search result held in React state goes with it, and the relay connection stops.
import { useCallback, useEffect, useState } from 'react';
import { errorMessage, useRefuge, type AppStatus } from './api.js';
import { t, useLanguage } from './i18n/index.js';
import type { LockReason } from './lock/reason.js';
import { Session } from './session/Session.js';
import { Onboarding } from './screens/Onboarding.js';
import { Fatal, Splash } from './screens/Splash.js';
import { Unlock } from './screens/Unlock.js';

export function App() {
  const api = useRefuge();
  // a language change re-renders every screen from here (t() reads the current table)
  useLanguage();
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [fatal, setFatal] = useState<string | null>(null);
  /** why the app is locked now (shown on the unlock screen); null after a fresh start */
  const [lockReason, setLockReason] = useState<LockReason | null>(null);
  const [lockError, setLockError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setFatal(null);
    try {
      setStatus(await api.app.status({}));
    } catch (e) {
      setFatal(errorMessage(e, t('app.noBridge')));
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const onStatus = useCallback((next: AppStatus) => {
    if (next.state === 'ready') {
      setLockReason(null);
      setLockError(null);
    }
    setStatus(next);
  }, []);

  const lock = useCallback(
    async (reason: LockReason) => {
      // Drop the unlocked UI first, whatever the core answers: the session subtree unmounts in this render.
      setStatus((s) => (s && s.state === 'ready' ? { ...s, state: 'locked' } : s));
      setLockReason(reason);
      setLockError(null);
      try {
        setStatus(await api.vault.lock({}));
      } catch (e) {
        setLockError(errorMessage(e));
      }
    },
    [api],
  );

  if (fatal) return <Fatal message={fatal} onRetry={() => void load()} />;
  if (!status) return <Splash />;
  switch (status.state) {
    case 'no-account':
    case 'unregistered':
      return <Onboarding status={status} onStatus={onStatus} />;
    case 'locked':
      return <Unlock status={status} onStatus={onStatus} reason={lockReason} lockError={lockError} />;
    case 'ready':
      return <Session status={status} onStatus={onStatus} onLock={(reason) => void lock(reason)} />;
  }
}
