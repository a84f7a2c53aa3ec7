// The one place the main window's security-relevant options are decided, so a test can
// assert them without launching Electron (only types come from 'electron' here).
import type { BrowserWindowConstructorOptions } from 'electron';

export interface WindowBounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function mainWindowOptions(preloadPath: string, bounds?: WindowBounds): BrowserWindowConstructorOptions {
  return {
    width: bounds?.width ?? 1280,
    height: bounds?.height ?? 800,
    ...(bounds ? { x: bounds.x, y: bounds.y } : {}),
    minWidth: 420,
    minHeight: 500,
    title: 'Refuge',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: true,
    },
  };
}

/** Only our own pages may be shown in the window: everything else is refused. */
export function isAppUrl(url: string, appOrigin: string): boolean {
  try {
    // Compare scheme and host: URL.origin is "null" for custom schemes outside Electron.
    const candidate = new URL(url);
    const app = new URL(appOrigin);
    return candidate.protocol === app.protocol && candidate.host === app.host && candidate.username === '' && candidate.password === '';
  } catch {
    return false;
  }
}

/** Links the user confirmed open in the system browser, and only http(s). */
export function isExternalLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
