// The app's window is hardened: the options the app uses come from mainWindowOptions, so
// asserting them here asserts the app. (Runs in Node: only types come from 'electron'.)
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../web-host/csp.js';
import { isAppUrl, isExternalLink, mainWindowOptions } from './window-options.js';

describe('Electron hardening', () => {
  const options = mainWindowOptions('/app/dist/preload/preload.cjs');

  it('isolates the renderer: context isolation, sandbox, no Node, no webview, no insecure content', () => {
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist/preload/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('remembers window bounds but defaults to 1280x800', () => {
    expect(options).toMatchObject({ width: 1280, height: 800 });
    expect(mainWindowOptions('p', { x: 5, y: 6, width: 900, height: 700 })).toMatchObject({ x: 5, y: 6, width: 900, height: 700 });
  });

  it('only our own origin counts as the app; only http(s) links leave for the system browser', () => {
    expect(isAppUrl('refuge://app/index.html', 'refuge://app')).toBe(true);
    expect(isAppUrl('refuge://app.evil/index.html', 'refuge://app')).toBe(false);
    expect(isAppUrl('https://example.com/', 'refuge://app')).toBe(false);
    expect(isAppUrl('not a url', 'refuge://app')).toBe(false);
    expect(isExternalLink('https://example.com/a?b')).toBe(true);
    expect(isExternalLink('file:///etc/passwd')).toBe(false);
    expect(isExternalLink('javascript:alert(1)')).toBe(false);
    expect(isExternalLink('smb://host/share')).toBe(false);
  });

  it('the CSP allows only our own scripts and styles: no inline, no eval, no plugins, no framing', () => {
    const csp = contentSecurityPolicy();
    const directives = new Map(csp.split(';').map((d) => { const [name = '', ...values] = d.trim().split(/\s+/); return [name, values]; }));
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });
});
