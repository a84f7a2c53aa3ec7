// app.setBadgeCount reaches the host's hook (Electron: dock/taskbar badge and tray), and only a count does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ARGON2ID_PRESETS, PassphraseKeyProtector } from '../vault/index.js';
import { Core } from './core.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function coreWith(onBadgeCount?: (n: number) => void): Promise<Core> {
  const dir = mkdtempSync(join(tmpdir(), 'refuge-app-shell-'));
  dirs.push(dir);
  return Core.open({
    profileDir: dir,
    defaultServerUrl: 'http://127.0.0.1:9',
    passphraseRequired: true,
    protector: (p) => new PassphraseKeyProtector(p ?? 'x', { params: ARGON2ID_PRESETS.min }),
    ...(onBadgeCount ? { onBadgeCount } : {}),
  });
}

describe('app.setBadgeCount', () => {
  it('passes the count to the host hook, including 0 to clear it', async () => {
    const seen: number[] = [];
    const core = await coreWith((n) => seen.push(n));
    expect(await core.handle('app.setBadgeCount', { count: 7 })).toEqual({ ok: true });
    await core.handle('app.setBadgeCount', { count: 0 });
    expect(seen).toEqual([7, 0]);
    core.close();
  });

  it('refuses what is not a count, and is a no-op without a shell', async () => {
    const seen: number[] = [];
    const core = await coreWith((n) => seen.push(n));
    await expect(core.handle('app.setBadgeCount', { count: -1 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(core.handle('app.setBadgeCount', { count: 1.5 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(core.handle('app.setBadgeCount', { count: 2, name: 'alice' })).resolves.toEqual({ ok: true });
    expect(seen).toEqual([2]);
    core.close();
    const bare = await coreWith();
    expect(await bare.handle('app.setBadgeCount', { count: 3 })).toEqual({ ok: true });
    bare.close();
  });
});
