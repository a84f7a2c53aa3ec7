// Which screen: decided by the core's app.status (no account → onboarding, locked → unlock, ready → main).
import { useCallback, useEffect, useState } from 'react';
import { errorMessage, useRefuge, type AppStatus } from './api.js';
import { t } from './i18n/index.js';
import { MainScreen } from './screens/main/MainScreen.js';
import { Onboarding } from './screens/Onboarding.js';
import { Fatal, Splash } from './screens/Splash.js';
import { Unlock } from './screens/Unlock.js';

export function App() {
  const api = useRefuge();
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [fatal, setFatal] = useState<string | null>(null);

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

  if (fatal) return <Fatal message={fatal} onRetry={() => void load()} />;
  if (!status) return <Splash />;
  switch (status.state) {
    case 'no-account':
    case 'unregistered':
      return <Onboarding status={status} onStatus={setStatus} />;
    case 'locked':
      return <Unlock status={status} onStatus={setStatus} />;
    case 'ready':
      return <MainScreen status={status} onStatus={setStatus} />;
  }
}
