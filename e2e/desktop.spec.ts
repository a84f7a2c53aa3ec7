// The desktop experience (issue 6) through the real UI: Alice and Bob in two Chromium contexts,
// each with their own web host and profile, against one real relay. Receipts change state on
// both sides (and stop when turned off), typing shows and clears, notifications are raised
// (the Notification API is replaced by a recorder), replies/links/copy/quick switcher work, a
// real identity-key change (Bob deletes his account and registers again from a new computer)
// shows the banner and holds sending until accepted, the UI switches to Korean with no English
// left, and dark mode applies. Screenshots of the main screens land in e2e/screenshots/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import type { WebHost } from '../main/web-host/host.js';
import { authenticate, withRelay } from '../shared/sync/index.js';
import { relayIn, tempDir, webHostFor } from './support/harness.js';
import { register, conversationWith, SHOTS, shoot as shootStem } from './support/ui.js';

// Throwaway profiles: Argon2id INTERACTIVE instead of MODERATE keeps the spec quick.
process.env.REFUGE_ARGON2 = 'interactive';

const ALICE_PASS = 'alice correct horse';
const BOB_PASS = 'bob battery staple';

type Recorded = { title: string; body: string; tag: string };
type RecorderWindow = Window & { __notifications: Recorded[]; __opened: unknown[][] };

/** Replaces the Notification API with a recorder that reports permission 'granted'. */
function recordNotifications() {
  const log: Array<{ title: string; body: string; tag: string }> = [];
  class RecordingNotification extends EventTarget {
    static permission = 'granted';
    static requestPermission() {
      return Promise.resolve('granted');
    }
    onclick: (() => void) | null = null;
    constructor(title: string, options: { body?: string; tag?: string } = {}) {
      super();
      log.push({ title, body: options.body ?? '', tag: options.tag ?? '' });
    }
    close() {}
  }
  Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true, writable: true });
  Object.defineProperty(window, '__notifications', { value: log, configurable: true });
}

const notifications = (page: Page) => page.evaluate(() => [...(window as unknown as RecorderWindow).__notifications]);

/** The screen at 1280×800 and 480×800, light and dark (system theme), into e2e/screenshots/. */
async function shoot(page: Page, name: string) {
  await shootStem(page, `desktop-${name}`);
}

/** The screen as it is (e.g. a forced theme), at both widths. */
async function shootAsIs(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  for (const width of [1280, 480]) {
    await page.setViewportSize({ width, height: 800 });
    await page.screenshot({ path: path.join(SHOTS, `desktop-${name}-${width}.png`), animations: 'disabled' });
  }
  await page.setViewportSize(size);
}

async function addContact(page: Page, username: string) {
  await page.getByTestId('add-contact-button').click();
  await page.getByTestId('add-contact-username').fill(username);
  await page.getByTestId('add-contact-submit').click();
  await expect(conversationWith(page, username)).toBeVisible();
}

/** A message bubble by its exact text (a reply's quote holds the quoted text too). */
function message(page: Page, text: string) {
  return page.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });
}

async function send(page: Page, text: string) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
  await expect(message(page, text)).toBeVisible();
}

async function openSettings(page: Page, section: string) {
  await page.getByTestId('settings-button').click();
  const dialog = page.getByTestId('settings-dialog');
  await dialog.locator(`[data-testid="settings-tab"][data-section="${section}"]`).click();
  await expect(dialog.getByTestId(`settings-section-${section}`)).toBeVisible();
  return dialog;
}

async function closeSettings(page: Page) {
  await page.getByTestId('settings-dialog').getByTestId('modal-close').click();
  await expect(page.getByTestId('settings-dialog')).toHaveCount(0);
}

/** Visible UI text (and accessible names, titles, placeholders) with Latin words, outside user content. */
async function englishLeft(page: Page, allowed: string[]): Promise<string[]> {
  return page.evaluate((allow) => {
    const USER_CONTENT =
      '[data-testid="message-text"], .quote__text, .quote__sender, .conv__name, .conv__preview-text, [data-testid="own-username"], [data-testid="chat-peer-name"], .composer__reply-text, .safety__name, [translate="no"], option, .avatar';
    const strip = (s: string) => allow.reduce((acc, word) => acc.split(word).join(''), s);
    const latin = (s: string) => /[A-Za-z]{2,}/.test(strip(s));
    const out: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest(USER_CONTENT) || el.closest('script, style')) continue;
      if (!el.checkVisibility()) continue;
      if (latin(n.textContent ?? '')) out.push((n.textContent ?? '').trim());
    }
    for (const el of document.querySelectorAll<HTMLElement>('[aria-label], [title], [placeholder]')) {
      // a quote's accessible name carries the quoted (user) text
      if (!el.checkVisibility() || el.closest(`${USER_CONTENT}, .quote`)) continue;
      for (const attr of ['aria-label', 'title', 'placeholder']) {
        const v = el.getAttribute(attr);
        if (v && latin(v)) out.push(`${attr}="${v}"`);
      }
    }
    return out;
  }, allowed);
}

test.describe.configure({ mode: 'serial' });

let relay: Awaited<ReturnType<typeof relayIn>>;
const hosts: WebHost[] = [];
let aliceContext: BrowserContext;
let bobContext: BrowserContext;
let alice: Page;
let bob: Page;
let bobHost: WebHost;

async function newUserPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  await context.addInitScript(recordNotifications);
  return { context, page: await context.newPage() };
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  relay = await relayIn(tempDir('e2e-relay-desktop'));
  const aliceHost = await webHostFor(tempDir('e2e-alice-desktop'), relay.url);
  bobHost = await webHostFor(tempDir('e2e-bob-desktop'), relay.url);
  hosts.push(aliceHost, bobHost);
  ({ context: aliceContext, page: alice } = await newUserPage(browser));
  ({ context: bobContext, page: bob } = await newUserPage(browser));
  await register(alice, aliceHost.url, 'alice', ALICE_PASS);
  await register(bob, bobHost.url, 'bob', BOB_PASS);
  await addContact(alice, 'bob');
});

test.afterAll(async () => {
  await aliceContext?.close();
  await bobContext?.close();
  for (const host of hosts) await host.close();
  await relay?.close();
});

test('receipts: sent, delivered, read on both sides; off stops read', async () => {
  test.setTimeout(180_000);
  const status = (page: Page, text: string) => message(page, text);

  // Bob is away (his page, and with it his relay connection, is gone): Alice's message is only "sent".
  const bobUrl = bob.url();
  await bob.goto('about:blank');
  await conversationWith(alice, 'bob').click();
  await send(alice, 'Are you there?');
  await expect(status(alice, 'Are you there?')).toHaveAttribute('data-status', 'sent');
  await expect(status(alice, 'Are you there?').getByTestId('message-status')).toHaveAttribute('title', 'Sent');

  // Bob comes back: the message reaches his device, Alice sees "delivered"; Bob has one unread.
  await bob.goto(bobUrl);
  await expect(bob.getByTestId('main')).toBeVisible();
  await expect(conversationWith(bob, 'alice')).toHaveAttribute('data-unread', '1');
  await expect(bob).toHaveTitle('(1) Refuge');
  await expect(status(alice, 'Are you there?')).toHaveAttribute('data-status', 'delivered');

  // Bob opens the chat: it is read on his side (badge gone) and "read" on Alice's.
  await conversationWith(bob, 'alice').click();
  await expect(message(bob, 'Are you there?')).toBeVisible();
  await expect(conversationWith(bob, 'alice')).toHaveAttribute('data-unread', '0');
  await expect(bob).toHaveTitle('Refuge');
  await expect(status(alice, 'Are you there?')).toHaveAttribute('data-status', 'read');
  await expect(status(alice, 'Are you there?').getByTestId('message-status')).toHaveAttribute('title', 'Read');

  // The other way round: Alice has the chat open, so Bob's reply is read at once.
  await send(bob, 'Yes, here.');
  await expect(message(alice, 'Yes, here.')).toBeVisible();
  await expect(status(bob, 'Yes, here.')).toHaveAttribute('data-status', 'read');
  await shoot(alice, 'chat');

  // Bob turns read receipts off: he no longer sends them...
  const settings = await openSettings(bob, 'privacy');
  await expect(settings.getByTestId('settings-receipts')).toBeChecked();
  await settings.getByTestId('settings-receipts').uncheck();
  await expect(settings.getByTestId('settings-privacy-saved')).not.toBeEmpty();
  await expect(settings.getByTestId('settings-receipts')).not.toBeChecked();
  await shoot(bob, 'settings-privacy');
  await closeSettings(bob);

  await send(alice, 'Still there?');
  await expect(message(bob, 'Still there?')).toBeVisible();
  await expect(conversationWith(bob, 'alice')).toHaveAttribute('data-unread', '0'); // Bob's markRead ran
  await send(bob, 'Mostly.'); // queued after any receipt Bob would have sent
  await expect(message(alice, 'Mostly.')).toBeVisible();
  await expect(status(alice, 'Still there?')).toHaveAttribute('data-status', 'delivered');

  // ...and no longer shows Alice's: she reads "Mostly." (her receipts are on), his stays "delivered".
  await expect(conversationWith(alice, 'bob')).toHaveAttribute('data-unread', '0');
  await send(alice, 'OK.');
  await expect(message(bob, 'OK.')).toBeVisible();
  await expect(status(bob, 'Mostly.')).toHaveAttribute('data-status', 'delivered');
  // not just hidden by the UI: Bob's core never took Alice's receipt in
  const stored = await bob.evaluate(async (id) => {
    const page = await window.refuge.messages.list({ conversationId: id, limit: 50 });
    return page.messages.find((m) => m.text === 'Mostly.')?.status;
  }, (await conversationWith(bob, 'alice').getAttribute('data-conversation-id')) ?? '');
  expect(stored).toBe('delivered');

  // Back on for the rest.
  const again = await openSettings(bob, 'privacy');
  await again.getByTestId('settings-receipts').check();
  await expect(again.getByTestId('settings-receipts')).toBeChecked();
  await closeSettings(bob);
});

test('typing shows on the other side and clears when the draft is cleared', async () => {
  // Both have the chat open. Alice types (key by key): Bob sees it in the header and the list.
  await alice.getByTestId('composer').pressSequentially('Let me think', { delay: 20 });
  await expect(bob.getByTestId('typing-indicator')).toBeVisible();
  await expect(bob.getByTestId('typing-indicator')).toContainText('alice');
  await expect(conversationWith(bob, 'alice').getByTestId('conversation-typing')).toBeVisible();
  await shoot(bob, 'typing');

  // She clears the draft: "stopped typing" goes out and the indicator goes away at once.
  await alice.getByTestId('composer').fill('');
  await expect(bob.getByTestId('typing-indicator')).toHaveCount(0);
  await expect(conversationWith(bob, 'alice').getByTestId('conversation-typing')).toHaveCount(0);

  // Sending also ends it.
  await alice.getByTestId('composer').pressSequentially('Done', { delay: 20 });
  await expect(bob.getByTestId('typing-indicator')).toBeVisible();
  await alice.getByTestId('composer').press('Enter');
  await expect(message(bob, 'Done')).toBeVisible();
  await expect(bob.getByTestId('typing-indicator')).toHaveCount(0);
});

test('notifications: raised for new messages, honouring privacy, mute and the open chat', async () => {
  await bob.evaluate(() => (window as unknown as RecorderWindow).__notifications.splice(0));

  // The chat is open and the window focused: no notification for it.
  await send(alice, 'You are looking at this');
  await expect(message(bob, 'You are looking at this')).toBeVisible();
  expect(await notifications(bob)).toEqual([]);

  // No chat open (a fresh page): a notification with name and text, and the title counts it.
  await bob.reload();
  await expect(bob.getByTestId('empty-state')).toBeVisible();
  await send(alice, 'Lunch at noon?');
  await expect.poll(() => notifications(bob)).toEqual([expect.objectContaining({ title: 'alice', body: 'Lunch at noon?' })]);
  await expect(bob).toHaveTitle('(1) Refuge');

  // Name only: the text stays out of the notification.
  const settings = await openSettings(bob, 'notifications');
  await expect(settings.getByTestId('notifications-permission')).toHaveAttribute('data-permission', 'granted');
  await settings.getByTestId('settings-notifications').selectOption('name-only');
  await expect(settings.getByTestId('settings-notifications-saved')).not.toBeEmpty();
  await shoot(bob, 'settings-notifications');
  await closeSettings(bob);
  await send(alice, 'The secret plan');
  await expect.poll(async () => (await notifications(bob)).length).toBe(2);
  const second = (await notifications(bob))[1];
  expect(second?.title).toBe('alice');
  expect(second?.body).not.toContain('secret');
  expect(second?.body).toBe('New message');

  // Muted (from the chat's menu): no notification, and the title no longer counts it.
  await conversationWith(bob, 'alice').click();
  await bob.getByTestId('chat-menu-button').click();
  await expect(bob.getByTestId('chat-menu')).toBeVisible();
  await expect(bob.getByTestId('menu-mute')).toHaveAttribute('aria-checked', 'false');
  await shoot(bob, 'chat-menu');
  await bob.getByTestId('menu-mute').click();
  await expect(bob.getByTestId('chat-menu')).toHaveCount(0);
  await expect(bob.getByTestId('chat-muted')).toBeVisible();
  await expect(conversationWith(bob, 'alice').getByTestId('conversation-muted')).toBeVisible();
  await bob.reload();
  await expect(bob.getByTestId('empty-state')).toBeVisible();
  await send(alice, 'Muted message');
  await expect(conversationWith(bob, 'alice').getByTestId('conversation-preview')).toContainText('Muted message');
  await expect(conversationWith(bob, 'alice')).toHaveAttribute('data-unread', '1');
  await expect(bob).toHaveTitle('Refuge');
  expect(await notifications(bob)).toEqual([]); // (the reload started a fresh recorder)

  // Unmute and back to name and text for the rest.
  await conversationWith(bob, 'alice').click();
  await bob.getByTestId('chat-menu-button').click();
  await expect(bob.getByTestId('menu-mute')).toHaveAttribute('aria-checked', 'true');
  await bob.getByTestId('menu-mute').click();
  await expect(bob.getByTestId('chat-muted')).toHaveCount(0);
  const back = await openSettings(bob, 'notifications');
  await back.getByTestId('settings-notifications').selectOption('name-and-text');
  await expect(back.getByTestId('settings-notifications-saved')).not.toBeEmpty();
  await closeSettings(bob);
});

test('replies, links, copy, day separators and the quick switcher', async () => {
  // A link arrives: rendered as a link, opened only after a confirmation, outside the app.
  await send(bob, 'The notes are at https://example.org/notes?id=7.');
  const link = message(alice, 'The notes are at https://example.org/notes?id=7.').getByTestId('message-link');
  await expect(link).toHaveText('https://example.org/notes?id=7');
  await alice.evaluate(() => {
    const w = window as unknown as RecorderWindow;
    w.__opened = [];
    window.open = (...args: unknown[]) => {
      w.__opened.push(args);
      return null;
    };
  });
  const before = alice.url();
  await link.click();
  const dialog = alice.getByTestId('link-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('link-dialog-url')).toHaveText('https://example.org/notes?id=7');
  await shoot(alice, 'link-dialog');
  await dialog.getByTestId('link-dialog-cancel').click();
  await expect(dialog).toHaveCount(0);
  expect(await alice.evaluate(() => (window as unknown as RecorderWindow).__opened)).toEqual([]);
  await link.click();
  await alice.getByTestId('link-dialog-open').click();
  expect(await alice.evaluate(() => (window as unknown as RecorderWindow).__opened)).toEqual([['https://example.org/notes?id=7', '_blank', 'noopener,noreferrer']]);
  expect(alice.url()).toBe(before);

  // Copy text.
  const original = message(alice, 'Lunch at noon?');
  await original.hover();
  await original.getByTestId('message-copy').click();
  await expect(original.getByTestId('message-copy')).toHaveAttribute('data-copied', 'true');
  expect(await alice.evaluate(() => navigator.clipboard.readText())).toBe('Lunch at noon?');

  // Reply: the quote shows in the composer, then in both bubbles; clicking it shows the original.
  await original.hover();
  await original.getByTestId('message-reply').click();
  await expect(alice.getByTestId('composer-reply')).toContainText('Lunch at noon?');
  await expect(alice.getByTestId('composer')).toBeFocused();
  await send(alice, 'Noon works.');
  await expect(alice.getByTestId('composer-reply')).toHaveCount(0);
  const reply = message(bob, 'Noon works.');
  await expect(reply.getByTestId('message-quote')).toContainText('Lunch at noon?');
  await expect(message(alice, 'Noon works.').getByTestId('message-quote')).toContainText('You');
  await reply.getByTestId('message-quote').click();
  await expect(message(bob, 'Lunch at noon?')).toHaveAttribute('data-jump-target', 'true');
  await expect(bob.getByTestId('day-separator').first()).toHaveText('Today');
  await shoot(bob, 'reply');

  // Ctrl+K: jump to a conversation by name; Esc closes.
  await alice.keyboard.press('Control+K');
  const switcher = alice.getByTestId('quick-switcher');
  await expect(switcher).toBeVisible();
  await expect(alice.getByTestId('quick-switcher-input')).toBeFocused();
  await alice.keyboard.press('Escape');
  await expect(switcher).toHaveCount(0);
  await alice.reload();
  await expect(alice.getByTestId('empty-state')).toBeVisible();
  await alice.keyboard.press('Control+K');
  await alice.getByTestId('quick-switcher-input').fill('bo');
  await expect(alice.getByTestId('quick-switcher-option')).toHaveCount(1);
  await expect(alice.getByTestId('quick-switcher-option')).toHaveAttribute('aria-selected', 'true');
  await shoot(alice, 'quick-switcher');
  await alice.getByTestId('quick-switcher-input').press('Enter');
  await expect(switcher).toHaveCount(0);
  await expect(alice.getByTestId('chat')).toHaveAttribute('data-peer', 'bob');

  // The conversation filter in the sidebar.
  await alice.getByTestId('conversation-filter').fill('zz');
  await expect(alice.getByTestId('conversations-no-match')).toBeVisible();
  await alice.getByTestId('conversation-filter').press('Escape');
  await expect(conversationWith(alice, 'bob')).toBeVisible();
});

test('a changed identity key shows a banner and holds sending until accepted', async ({ browser }) => {
  test.setTimeout(180_000);
  // Alice has verified Bob's safety number.
  await alice.getByTestId('safety-number-button').click();
  const safety = alice.getByTestId('safety-number-dialog');
  await expect(safety.getByTestId('safety-qr')).toBeVisible();
  await expect(safety.getByTestId('safety-verified')).toHaveAttribute('data-verified', 'false');
  await safety.getByTestId('safety-verify-button').click();
  await expect(safety.getByTestId('safety-verified')).toHaveAttribute('data-verified', 'true');
  const oldDigits = await safety.getByTestId('safety-number').getAttribute('data-digits');
  expect(oldDigits).toMatch(/^\d{60}$/);
  await shoot(alice, 'safety-number');
  await alice.keyboard.press('Escape');
  await expect(safety).toHaveCount(0);

  // Bob deletes his account on the relay (signed by his device key, through his own core), then
  // registers the same username on a new computer: a new identity key.
  await withRelay(relay.url, async (client) => {
    await authenticate(client, {
      signChallenge: (challenge) => bob.evaluate((c) => window.refuge.relay.signChallenge({ challenge: c }), challenge),
    });
    await client.request('account.delete', { username: 'bob' });
  });
  await bobContext.close();
  await bobHost.close();
  hosts.splice(hosts.indexOf(bobHost), 1);
  const newHost = await webHostFor(tempDir('e2e-bob2-desktop'), relay.url);
  hosts.push(newHost);
  ({ context: bobContext, page: bob } = await newUserPage(browser));
  await register(bob, newHost.url, 'bob', 'bob new laptop passphrase');
  await addContact(bob, 'alice');
  await conversationWith(bob, 'alice').click();
  await send(bob, 'New laptop, same Bob.');

  // Alice: the message is let in, but the conversation says what happened and sending is held.
  await expect(message(alice, 'New laptop, same Bob.')).toBeVisible();
  const banner = alice.getByTestId('identity-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('bob');
  await expect(alice.getByTestId('composer')).toBeDisabled();
  await expect(alice.getByTestId('composer-held')).toBeVisible();
  await expect(alice.getByTestId('send-button')).toBeDisabled();
  await expect(conversationWith(alice, 'bob').getByTestId('conversation-identity-changed')).toBeVisible();
  await shoot(alice, 'identity-changed');

  // The safety number is the new one (the same on Bob's new computer), and no longer verified.
  await banner.getByTestId('identity-banner-view').click();
  await expect(safety.getByTestId('safety-changed-note')).toBeVisible();
  await expect(safety.getByTestId('safety-verified')).toHaveAttribute('data-verified', 'false');
  const newDigits = await safety.getByTestId('safety-number').getAttribute('data-digits');
  expect(newDigits).not.toBe(oldDigits);
  await bob.getByTestId('safety-number-button').click();
  await expect(bob.getByTestId('safety-number')).toHaveAttribute('data-digits', newDigits ?? 'missing');
  await bob.keyboard.press('Escape');
  await alice.keyboard.press('Escape');

  // Accepting releases the hold; the next message reaches Bob's new computer.
  await banner.getByTestId('identity-accept').click();
  await expect(banner).toHaveCount(0);
  await expect(alice.getByTestId('composer')).toBeEnabled();
  await send(alice, 'Welcome back.');
  await expect(message(bob, 'Welcome back.')).toBeVisible();
});

test('Korean with no English left on the main screens; dark mode applies', async () => {
  test.setTimeout(180_000);
  await shoot(alice, 'list-and-chat');

  // Korean from the settings.
  const settings = await openSettings(alice, 'appearance');
  await settings.getByTestId('settings-language').selectOption('ko');
  await expect(alice.locator('html')).toHaveAttribute('lang', 'ko');
  await expect(settings.locator('[data-testid="settings-tab"][data-section="appearance"]')).toHaveText('화면');
  const allowed = ['alice', 'bob', 'Refuge', 'Ctrl', 'http://127.0.0.1'];
  for (const section of ['security', 'appearance', 'notifications', 'privacy', 'backups', 'server']) {
    await settings.locator(`[data-testid="settings-tab"][data-section="${section}"]`).click();
    await expect(settings.getByTestId(`settings-section-${section}`)).toBeVisible();
    expect(await englishLeft(alice, allowed), `settings → ${section}`).toEqual([]);
  }
  await shoot(alice, 'settings-server-ko');
  await closeSettings(alice);

  // The main screen: list, chat header, messages' chrome, composer -- everything but user content.
  await expect(alice.getByTestId('chat')).toBeVisible();
  await expect(alice.getByTestId('day-separator').first()).toHaveText('오늘');
  expect(await englishLeft(alice, allowed), 'main screen').toEqual([]);
  await alice.getByTestId('safety-number-button').click();
  expect(await englishLeft(alice, allowed), 'safety number').toEqual([]);
  await alice.keyboard.press('Escape');
  await alice.keyboard.press('Control+K');
  expect(await englishLeft(alice, allowed), 'quick switcher').toEqual([]);
  await alice.keyboard.press('Escape');
  await shoot(alice, 'chat-ko');

  // Dark mode from the settings, whatever the system says.
  await alice.emulateMedia({ colorScheme: 'light' });
  const background = () => alice.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(await background()).toBe('rgb(255, 255, 255)');
  const appearance = await openSettings(alice, 'appearance');
  await appearance.getByTestId('settings-theme').selectOption('dark');
  await expect(alice.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect.poll(background).toBe('rgb(18, 19, 22)');
  await shootAsIs(alice, 'settings-appearance-dark-forced');
  await closeSettings(alice);
  await shootAsIs(alice, 'chat-ko-dark-forced');

  // Back to English and the system theme.
  const restore = await openSettings(alice, 'appearance');
  await restore.getByTestId('settings-theme').selectOption('system');
  await restore.getByTestId('settings-language').selectOption('en');
  await expect(alice.locator('html')).toHaveAttribute('lang', 'en');
  await expect(alice.locator('html')).not.toHaveAttribute('data-theme', /./);
  await shoot(alice, 'settings-appearance');
  await closeSettings(alice);
});
