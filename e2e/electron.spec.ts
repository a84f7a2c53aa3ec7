// The first conversation in the real Electron app: Alice in Electron, Bob in Chromium through
// a web host, one real relay. The Electron binary is downloaded on a user's first launch;
// where it is absent (as here, offline) this spec skips and prints why.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test, type Page } from '@playwright/test';
import { findPlaintext } from './support/plaintext.js';
import { relayIn, tempDir, webHostFor } from './support/harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HELLO = '안녕하세요 Bob 👋';
const REPLY = 'Hello from the browser side';

function electronBinary(): string | null {
  const pkg = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = path.join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = path.join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();
const reason = 'the Electron binary is not installed (offline machine: it downloads on first launch), so the Electron spec cannot run here';
if (!binary) console.log(`electron.spec: skipped — ${reason}`);

async function register(page: Page, username: string, passphrase: string) {
  await page.getByTestId('onboarding-username').fill(username);
  // Where the OS keychain protects the key, the app asks for no passphrase.
  if (await page.getByTestId('onboarding-passphrase').isVisible()) {
    await page.getByTestId('onboarding-passphrase').fill(passphrase);
    await page.getByTestId('onboarding-passphrase-confirm').fill(passphrase);
  }
  await page.getByTestId('onboarding-create').click();
  await expect(page.getByTestId('main')).toBeVisible();
}

test.describe('Electron app', () => {
  test.skip(!binary, reason);

  test('hardened window; Alice in Electron chats with Bob in the browser', async ({ browser }) => {
    process.env.REFUGE_ARGON2 = 'interactive';
    const relayDir = tempDir('electron-relay');
    const aliceData = tempDir('electron-alice');
    const relay = await relayIn(relayDir);
    const bobHost = await webHostFor(tempDir('electron-bob'), relay.url);
    const app = await electron.launch({
      executablePath: binary ?? undefined,
      args: [root],
      env: { ...process.env, REFUGE_USER_DATA: aliceData, REFUGE_SERVER_URL: relay.url },
    });
    try {
      const alice = await app.firstWindow();
      const exposed = await alice.evaluate(() => ({
        refuge: Object.keys((window as unknown as { refuge: object }).refuge).sort(),
        require: typeof (window as unknown as { require?: unknown }).require,
        process: typeof (window as unknown as { process?: unknown }).process,
      }));
      expect(exposed.require).toBe('undefined');
      expect(exposed.process).toBe('undefined');
      expect(exposed.refuge).toContain('messages');

      const bob = await (await browser.newContext()).newPage();
      await bob.goto(bobHost.url);
      await register(bob, 'bob', 'bob battery staple');
      await register(alice, 'alice', 'alice correct horse');

      await alice.getByTestId('add-contact-button').click();
      await alice.getByTestId('add-contact-username').fill('bob');
      await alice.getByTestId('add-contact-submit').click();
      await alice.locator('[data-testid="conversation"][aria-label="bob"]').click();
      await alice.getByTestId('composer').fill(HELLO);
      await alice.getByTestId('composer').press('Enter');

      await bob.locator('[data-testid="conversation"][aria-label="alice"]').click();
      await expect(bob.getByTestId('message-text').filter({ hasText: HELLO })).toBeVisible();
      await bob.getByTestId('composer').fill(REPLY);
      await bob.getByTestId('composer').press('Enter');
      await expect(alice.getByTestId('message-text').filter({ hasText: REPLY })).toBeVisible();
    } finally {
      await app.close();
      await bobHost.close();
      await relay.close();
    }
    expect(findPlaintext([relayDir, aliceData], [HELLO, REPLY])).toEqual([]);
  });
});
