// UI steps the Playwright specs share: onboarding, finding a conversation, sending, screenshots.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Page } from '@playwright/test';

/** e2e/screenshots (gitignored): every run leaves the main screens there for anyone to look at. */
export const SHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');

/** Creates an account through the onboarding screen of a web host and waits for the main screen. */
export async function register(page: Page, url: string, username: string, passphrase: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId('onboarding-username').fill(username);
  await page.getByTestId('onboarding-passphrase').fill(passphrase);
  await page.getByTestId('onboarding-passphrase-confirm').fill(passphrase);
  await page.getByTestId('onboarding-create').click();
  await expect(page.getByTestId('main')).toBeVisible();
  await expect(page.getByTestId('own-username')).toContainText(username);
}

export function conversationWith(page: Page, peer: string) {
  return page.locator(`[data-testid="conversation"][data-peer="${peer}"]`);
}

/** Sends from the open conversation's composer and waits for the bubble. */
export async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
  await expect(page.getByTestId('message-text').filter({ hasText: text })).toBeVisible();
}

/** Screenshots at 1280 and 480 wide, light and dark: `<stem>-<width>-<scheme>.png`. */
export async function shoot(page: Page, stem: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const width of [1280, 480]) {
      await page.setViewportSize({ width, height: 800 });
      await page.screenshot({ path: path.join(SHOTS, `${stem}-${width}-${scheme}.png`), animations: 'disabled' });
    }
  }
  await page.setViewportSize(size);
  await page.emulateMedia({ colorScheme: 'light' });
}

/** A group's entry in the conversation list, by the group's name. */
export function groupConversation(page: Page, name: string) {
  return page.locator('[data-testid="conversation"][data-kind="group"]').filter({ has: page.locator('.conv__name', { hasText: name }) });
}

/** A message bubble by its exact text (a reply's quote holds the quoted text too). */
export function bubble(page: Page, text: string) {
  return page.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });
}
