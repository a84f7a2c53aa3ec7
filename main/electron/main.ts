// The Electron main process: app lifecycle, the window, the IPC wiring of the contract.
// The only place besides the preload that imports 'electron'.
import { app, BrowserWindow, ipcMain, Menu, nativeImage, net, protocol, session, shell, Tray, type IpcMainInvokeEvent } from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { channels, RefugeError, type Channel, type IpcReply } from '../../shared/ipc/contract.js';
import { ipcChannelName } from '../../shared/ipc/electron-channel.js';
import { startRelay } from '../../server/relay.js';
import { Core } from '../core/service/core.js';
import { passphraseProtectorFactory } from '../core/service/protectors.js';
import { EMBEDDED_RELAY_PORT } from '../core/paths.js';
import { contentSecurityPolicy } from '../web-host/csp.js';
import { osKeychainUsable, SafeStorageKeyProtector } from './safe-storage-protector.js';
import { openPreferences } from './preferences.js';
import { isAppUrl, isExternalLink, mainWindowOptions } from './window-options.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APP_SCHEME = 'refuge';
const APP_ORIGIN = `${APP_SCHEME}://app`;
const rendererDir = path.join(root, 'dist/renderer');

// Tests and portable installs may point the app at another data folder and relay.
if (process.env.REFUGE_USER_DATA) app.setPath('userData', path.resolve(process.env.REFUGE_USER_DATA));

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void start();
}

async function start(): Promise<void> {
  await app.whenReady();
  const prefs = await openPreferences();
  const dataDir = app.getPath('userData');

  // The embedded relay, unless the user configured a server of their own.
  let serverUrl = process.env.REFUGE_SERVER_URL ?? prefs.get('serverUrl');
  let relay: Awaited<ReturnType<typeof startRelay>> | null = null;
  if (!serverUrl) {
    relay = await startRelay({ dataDir: path.join(dataDir, 'relay'), port: EMBEDDED_RELAY_PORT });
    serverUrl = relay.url;
  }

  const keychain = osKeychainUsable();
  const passphraseProtector = passphraseProtectorFactory();
  // The renderer reports the unread count (app.setBadgeCount); the badge and tray exist once the window does.
  let showBadge: ((count: number) => void) | null = null;
  const core = await Core.open({
    profileDir: path.join(dataDir, 'profile'),
    defaultServerUrl: serverUrl,
    passphraseRequired: !keychain,
    protector: (passphrase) => (keychain && !passphrase ? new SafeStorageKeyProtector() : passphraseProtector(passphrase)),
    onBadgeCount: (count) => showBadge?.(count),
  });

  serveRenderer();
  registerIpc(core);
  const window = createWindow(prefs);
  showBadge = createBadge(window);

  app.on('second-instance', () => {
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => {
    core.close();
    void relay?.close();
  });
}

/** Serves the renderer build under refuge://app with a strict CSP (file:// cannot carry headers). */
function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = path.resolve(rendererDir, relative);
    if (url.host !== 'app' || !file.startsWith(rendererDir + path.sep)) return new Response('Not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', contentSecurityPolicy());
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
}

function fromOurPage(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return frame !== null && frame.parent === null && isAppUrl(frame.url, APP_ORIGIN);
}

function registerIpc(core: Core): void {
  for (const channel of channels) {
    ipcMain.handle(ipcChannelName(channel), async (event, request: unknown): Promise<IpcReply<unknown>> => {
      if (!fromOurPage(event)) return { ok: false, error: { code: 'FORBIDDEN', message: 'Request refused.' } };
      try {
        return { ok: true, value: await core.handle(channel as Channel, request) };
      } catch (error) {
        const e = error instanceof RefugeError ? error : new RefugeError('INTERNAL', 'Something went wrong inside Refuge.');
        return { ok: false, error: { code: e.code, message: e.message } };
      }
    });
  }
}

/**
 * The unread count on the dock/taskbar (app.setBadgeCount: macOS dock, Linux launchers; Windows
 * has no count badge, so the tray carries it there) and in a tray icon whose menu opens the window.
 */
function createBadge(window: BrowserWindow): (count: number) => void {
  let tray: Tray | null = null;
  try {
    const icon = nativeImage.createFromPath(path.join(root, 'dist/electron/icon.png'));
    tray = new Tray(icon.isEmpty() ? icon : icon.resize({ width: 16, height: 16 }));
  } catch {
    tray = null; // some Linux desktops have no tray: the badge alone still works
  }
  const show = () => {
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };
  tray?.on('click', show);
  const update = (count: number) => {
    app.setBadgeCount(count);
    if (!tray) return;
    const label = count === 0 ? 'No unread messages' : count === 1 ? '1 unread message' : `${count} unread messages`;
    tray.setToolTip(count === 0 ? 'Refuge' : `Refuge — ${label}`);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Open Refuge', click: show },
        { label, enabled: false },
        { type: 'separator' },
        { label: 'Quit Refuge', role: 'quit' },
      ]),
    );
  };
  update(0);
  app.on('before-quit', () => tray?.destroy());
  return update;
}

function createWindow(prefs: Awaited<ReturnType<typeof openPreferences>>): BrowserWindow {
  const window = new BrowserWindow(mainWindowOptions(path.join(root, 'dist/preload/preload.cjs'), prefs.get('windowBounds')));
  if (prefs.get('windowMaximized')) window.maximize();

  // Nothing opens inside the app: links go to the system browser, and only http(s).
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, APP_ORIGIN)) event.preventDefault();
  });
  // Notifications for new messages; writing to the clipboard for "Copy text". Nothing else.
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) =>
    callback(permission === 'notifications' || permission === 'clipboard-sanitized-write'),
  );

  const saveBounds = () => {
    prefs.set('windowMaximized', window.isMaximized());
    if (!window.isMaximized()) prefs.set('windowBounds', window.getBounds());
  };
  window.on('close', saveBounds);
  window.once('ready-to-show', () => window.show());
  void window.loadURL(`${APP_ORIGIN}/index.html`);
  return window;
}
