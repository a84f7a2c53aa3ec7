// Encrypted backups (issue 7) through the real UI: Alice and Bob chat through a real relay;
// Alice exports a backup from Settings → Backups and watches its progress; her old computer is
// gone; on a fresh install (a new web host with an empty profile) she restores it from the
// welcome screen, sees her history, and she and Bob keep talking both ways without re-adding.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { WebHost } from '../main/web-host/host.js';
import { findPlaintext } from './support/plaintext.js';
import { relayIn, tempDir, webHostFor } from './support/harness.js';
import { register, conversationWith, send } from './support/ui.js';

const HELLO = '안녕하세요 Bob, 백업 전에 보내는 메시지';
const REPLY = 'Hi Alice — got it before your backup';
const AFTER = 'Alice here again, restored on a new computer';
const AFTER_REPLY = 'Welcome back, restored Alice!';
const BACKUP_PASS = 'backup passphrase for alice 백업';

// Throwaway profiles: Argon2id INTERACTIVE instead of MODERATE keeps the spec quick.
process.env.REFUGE_ARGON2 = 'interactive';

/** Records every state and text the progress element shows, so a quick job is still seen running. */
async function watchProgress(page: Page, testId: string) {
  await page.evaluate((id) => {
    const seen: string[] = [];
    (window as unknown as { __progress: string[] }).__progress = seen;
    const record = () => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      if (el) seen.push(`${el.getAttribute('data-state')}|${el.getAttribute('data-phase')}|${el.textContent ?? ''}`);
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }, testId);
}

async function progressSeen(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __progress: string[] }).__progress);
}

test('export a backup with progress, restore it on a fresh install, see the history and keep chatting', async ({ browser }) => {
  test.setTimeout(240_000);
  const relay = await relayIn(tempDir('e2e-relay-backup'));
  const filesDir = tempDir('e2e-backup-files');
  const backupFile = path.join(filesDir, 'alice.refuge-backup');
  const hosts: WebHost[] = [];
  try {
    const aliceHost = await webHostFor(tempDir('e2e-alice-backup'), relay.url);
    const bobHost = await webHostFor(tempDir('e2e-bob-backup'), relay.url);
    hosts.push(aliceHost, bobHost);
    const alice = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();
    await register(alice, aliceHost.url, 'alice', 'alice correct horse');
    await register(bob, bobHost.url, 'bob', 'bob battery staple');

    await alice.getByTestId('add-contact-button').click();
    await alice.getByTestId('add-contact-username').fill('bob');
    await alice.getByTestId('add-contact-submit').click();
    await conversationWith(alice, 'bob').click();
    await send(alice, HELLO);
    await conversationWith(bob, 'alice').click();
    await expect(bob.getByTestId('message-text').filter({ hasText: HELLO })).toBeVisible();
    await send(bob, REPLY);
    await expect(alice.getByTestId('message-text').filter({ hasText: REPLY })).toBeVisible();

    // Settings → Backups: a relative path and a short passphrase are refused before anything runs.
    await alice.getByTestId('settings-button').click();
    const settings = alice.getByTestId('settings-dialog');
    await settings.locator('[data-testid="settings-tab"][data-section="backups"]').click();
    await expect(settings.getByTestId('backups-section')).toBeVisible();
    await settings.getByTestId('backup-export-path').fill('alice.refuge-backup');
    await settings.getByTestId('backup-export-passphrase').fill('short');
    await settings.getByTestId('backup-export-submit').click();
    await expect(settings.getByTestId('backup-export-path-error')).toBeVisible();
    await expect(settings.getByTestId('backup-export-passphrase-error')).toBeVisible();

    await settings.getByTestId('backup-export-path').fill(backupFile);
    await settings.getByTestId('backup-export-passphrase').fill(BACKUP_PASS);
    await expect(settings.getByTestId('backup-export-strength')).not.toHaveAttribute('data-strength', '');
    await settings.getByTestId('backup-export-confirm').fill(BACKUP_PASS);
    await watchProgress(alice, 'backup-progress');
    await settings.getByTestId('backup-export-submit').click();
    const progress = settings.getByTestId('backup-progress');
    await expect(progress).toHaveAttribute('data-state', 'done');
    await expect(settings.getByTestId('backup-progress-text')).toHaveText(/^2 of 2 messages · \d+ KB$/);
    await expect(settings.getByTestId('backup-export-done')).toContainText('alice.refuge-backup');
    // It was seen running (deriving the key first) before it was done.
    const seen = await progressSeen(alice);
    expect(seen.some((s) => s.startsWith('running|kdf|'))).toBe(true);
    expect(seen.at(-1)).toMatch(/^done\|stream\|2 of 2 messages/);
    expect(readdirSync(filesDir)).toEqual(['alice.refuge-backup']);
    expect(findPlaintext([filesDir], [HELLO, REPLY, BACKUP_PASS, 'alice correct horse'])).toEqual([]);

    // Exporting to the same file again is refused: backups never overwrite.
    await settings.getByTestId('backup-export-passphrase').fill(BACKUP_PASS);
    await settings.getByTestId('backup-export-confirm').fill(BACKUP_PASS);
    await settings.getByTestId('backup-export-submit').click();
    await expect(settings.getByTestId('backup-export-path-error')).toContainText(/already exists/i);
    await alice.keyboard.press('Escape');

    // Alice's old computer is gone.
    await aliceHost.close();
    hosts.splice(hosts.indexOf(aliceHost), 1);
    await alice.context().close();

    // A fresh install: restore from the welcome screen.
    const newHost = await webHostFor(tempDir('e2e-alice-restored'), relay.url);
    hosts.push(newHost);
    const restored = await (await browser.newContext()).newPage();
    await restored.goto(newHost.url);
    await restored.getByTestId('onboarding-restore').click();
    await expect(restored.getByTestId('restore')).toBeVisible();
    await restored.getByTestId('restore-path').fill(backupFile);
    await restored.getByTestId('restore-backup-passphrase').fill('not the backup passphrase');
    await restored.getByTestId('restore-profile-passphrase').fill('alice new computer');
    await restored.getByTestId('restore-profile-passphrase-confirm').fill('alice new computer');
    await restored.getByTestId('restore-submit').click();
    await expect(restored.getByTestId('restore-backup-passphrase-error')).toContainText(/wrong backup passphrase/i);

    await restored.getByTestId('restore-backup-passphrase').fill(BACKUP_PASS);
    await restored.getByTestId('restore-submit').click();
    await expect(restored.getByTestId('main')).toBeVisible();
    await expect(restored.getByTestId('own-username')).toContainText('alice');
    await conversationWith(restored, 'bob').click();
    await expect(restored.getByTestId('message-text').filter({ hasText: HELLO })).toBeVisible();
    await expect(restored.getByTestId('message-text').filter({ hasText: REPLY })).toBeVisible();

    // Nobody re-adds anybody: the restored Alice and Bob keep talking, both ways.
    await send(restored, AFTER);
    await expect(bob.getByTestId('message-text').filter({ hasText: AFTER })).toBeVisible();
    await send(bob, AFTER_REPLY);
    await expect(restored.getByTestId('message-text').filter({ hasText: AFTER_REPLY })).toBeVisible();
  } finally {
    for (const host of hosts) await host.close();
    await relay.close();
  }
});
