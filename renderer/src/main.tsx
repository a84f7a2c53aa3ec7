// Entry point of the renderer: waits for the bridge (window.refuge), then mounts the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RefugeContext, waitForRefuge } from './api.js';
import { App } from './App.js';
import { applyStoredTheme } from './appearance/theme.js';
import { t } from './i18n/index.js';
import { Fatal } from './screens/Splash.js';
import './styles/base.css';
import './styles/gate.css';
import './styles/main.css';
import './styles/search.css';
import './styles/settings.css';
import './styles/desktop.css';
import './styles/groups.css';

applyStoredTheme();

const container = document.getElementById('root');
if (!container) throw new Error('#root is missing from index.html');
const root = createRoot(container);

async function boot() {
  const api = await waitForRefuge();
  if (!api) {
    root.render(<Fatal message={t('app.noBridge')} onRetry={() => window.location.reload()} />);
    return;
  }
  root.render(
    <StrictMode>
      <RefugeContext.Provider value={api}>
        <App />
      </RefugeContext.Provider>
    </StrictMode>,
  );
}

void boot();
