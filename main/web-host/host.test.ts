// The web host serves the renderer with the same strict CSP as the app, and nothing outside
// the renderer build.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../e2e/support/harness.js';
import { contentSecurityPolicy } from './csp.js';
import { startWebHost, type WebHost } from './host.js';

let host: WebHost;
const staticDir = tempDir('webhost-static');

beforeAll(async () => {
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>');
  writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  const bridge = path.join(tempDir('webhost-bridge'), 'refuge-bridge.js');
  writeFileSync(bridge, '/* bridge */');
  host = await startWebHost({ profileDir: tempDir('webhost-profile'), defaultServerUrl: 'http://127.0.0.1:1', staticDir, bridgeScript: bridge });
});
afterAll(async () => {
  await host.close();
});

describe('web host responses', () => {
  it('carry the strict CSP and inject the bridge before the app scripts', async () => {
    const res = await fetch(`${host.origin}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(contentSecurityPolicy());
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<script src="./refuge-bridge.js"></script>\n</head>');
    const asset = await fetch(`${host.origin}/assets/app.js`);
    expect(asset.headers.get('content-security-policy')).toBe(contentSecurityPolicy());
  });

  it('serves nothing outside the renderer build', async () => {
    for (const probe of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/../../secret']) {
      const res = await fetch(`${host.origin}${probe}`);
      expect(res.status).toBe(404);
    }
    expect((await fetch(`${host.origin}/`, { method: 'POST' })).status).toBe(405);
  });
});
