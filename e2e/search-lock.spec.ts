// Local history (issue 5) through the real UI: Alice and Bob chat through a real relay; Alice's
// history is long enough that the messages she looks for are not on the first page. Search finds
// a Korean and an English message and jumps to each; lock wipes the window, unlock brings it back;
// a wrong passphrase is refused; auto-lock fires after the idle minutes (Playwright's clock); a
// changed passphrase is the only one that works afterwards.
import { expect, test, type Page } from '@playwright/test';
import type { WebHost } from '../main/web-host/host.js';
import { relayIn, tempDir, webHostFor } from './support/harness.js';
import { conversationWith, register, send, shoot } from './support/ui.js';

const KOREAN = '암호화된 메시지를 보냈어요';
const ENGLISH = 'The report is encrypted end to end';
/** more than a page (50) after the two targets, so neither is in the first page */
const FILLER = 70;
const filler = (i: number) => `Filler message number ${i}`;

const ALICE_PASS = 'alice correct horse';
const ALICE_NEXT = 'alice battery staple moon';

// Throwaway profiles: Argon2id INTERACTIVE instead of MODERATE keeps the spec quick.
process.env.REFUGE_ARGON2 = 'interactive';


/** The screen at 1280×800 and 480×800, light and dark, into e2e/screenshots/ (ignored by git). */
async function unlock(page: Page, passphrase: string) {
  await page.getByTestId('unlock-passphrase').fill(passphrase);
  await page.getByTestId('unlock-button').click();
  await expect(page.getByTestId('main')).toBeVisible();
}

/** Nothing decrypted is left in the page: not in the DOM, not in its text. */
async function expectNoMessageText(page: Page, texts: string[]) {
  const html = await page.content();
  for (const text of texts) expect(html, `“${text}” is still in the DOM`).not.toContain(text);
  await expect(page.locator('[data-testid="message"], [data-testid="conversation"], [data-testid="search-result"]')).toHaveCount(0);
}

test('search finds Korean and English messages and jumps to them; lock, unlock, auto-lock and a new passphrase work', async ({ browser }) => {
  test.setTimeout(240_000);
  const relay = await relayIn(tempDir('e2e-relay-search'));
  const hosts: WebHost[] = [];
  try {
    const aliceHost = await webHostFor(tempDir('e2e-alice-search'), relay.url);
    const bobHost = await webHostFor(tempDir('e2e-bob-search'), relay.url);
    hosts.push(aliceHost, bobHost);
    const aliceContext = await browser.newContext();
    // Fake timers that run in real time until fast-forwarded (auto-lock below).
    await aliceContext.clock.install();
    const alice = await aliceContext.newPage();
    const bob = await (await browser.newContext()).newPage();

    await register(alice, aliceHost.url, 'alice', ALICE_PASS);
    await register(bob, bobHost.url, 'bob', 'bob battery staple');

    // Alice adds Bob and writes in Korean; Bob answers in English.
    await alice.getByTestId('add-contact-button').click();
    await alice.getByTestId('add-contact-username').fill('bob');
    await alice.getByTestId('add-contact-submit').click();
    await conversationWith(alice, 'bob').click();
    await send(alice, KOREAN);
    await conversationWith(bob, 'alice').click();
    await expect(bob.getByTestId('message-text').filter({ hasText: KOREAN })).toBeVisible();
    await send(bob, ENGLISH);
    await expect(alice.getByTestId('message-text').filter({ hasText: ENGLISH })).toBeVisible();

    // Then a long tail of messages: real sends through Alice's core (encrypted, queued in the
    // outbox); the last one through the UI, which flushes the outbox to the relay.
    const conversationId = await conversationWith(alice, 'bob').getAttribute('data-conversation-id');
    expect(conversationId).toBeTruthy();
    await alice.evaluate(
      async ({ id, count }) => {
        for (let i = 1; i < count; i++) await window.refuge.messages.send({ conversationId: id, text: `Filler message number ${i}` });
      },
      { id: conversationId ?? '', count: FILLER },
    );
    await send(alice, filler(FILLER));
    await expect(bob.getByTestId('message-text').filter({ hasText: filler(FILLER) })).toBeVisible();

    // Lock now (the shortcut): the unlock screen, and nothing decrypted left in the page.
    await alice.keyboard.press('Control+L');
    await expect(alice.getByTestId('unlock')).toBeVisible();
    await expectNoMessageText(alice, [KOREAN, ENGLISH, filler(FILLER), filler(FILLER - 1)]);

    // A wrong passphrase is refused with a clear error. Guessing on gets a growing delay: the
    // core refuses attempts for a while and says how long; the button waits that long.
    const unlockButton = alice.getByTestId('unlock-button');
    const unlockError = alice.getByTestId('unlock-passphrase-error');
    await alice.getByTestId('unlock-passphrase').fill('not my passphrase');
    await unlockButton.click();
    await expect(unlockError).toContainText(/wrong passphrase/i);
    await expect(alice.getByTestId('unlock')).toBeVisible();
    // each wrong guess doubles the window, so a guess soon lands inside one whatever the machine's speed
    for (let attempt = 2; attempt <= 10; attempt++) {
      await expect(unlockButton).toBeEnabled();
      await alice.getByTestId('unlock-passphrase').fill(`wrong guess ${attempt}`);
      await unlockButton.click();
      await expect(alice.locator('form[aria-busy="true"]')).toHaveCount(0);
      await expect(unlockError).not.toBeEmpty();
      if (/too many attempts/i.test((await unlockError.textContent()) ?? '')) break;
    }
    await expect(unlockError).toContainText(/too many attempts.*try again in \d+ (second|minute)/i);
    await expect(unlockButton).toBeDisabled();
    await expect(unlockButton).toHaveAttribute('data-waiting', 'true');
    // once the wait is over, the right passphrase opens the app again
    await expect(unlockButton).toBeEnabled({ timeout: 60_000 });
    await unlock(alice, ALICE_PASS);

    // The conversation opens at the newest message; the two targets are pages back.
    await conversationWith(alice, 'bob').click();
    await expect(alice.getByTestId('message-text').filter({ hasText: filler(FILLER) })).toBeVisible();
    await expect(alice.getByTestId('message-text').filter({ hasText: KOREAN })).toHaveCount(0);
    await expect(alice.getByTestId('message-text').filter({ hasText: ENGLISH })).toHaveCount(0);

    // Ctrl+F, type-ahead: `메시지` finds `메시지를` (Korean word with a particle), highlighted.
    await alice.keyboard.press('Control+F');
    const input = alice.getByTestId('search-input');
    await expect(input).toBeFocused();
    await input.fill('메시지');
    const korean = alice.getByTestId('search-result').filter({ hasText: KOREAN });
    await expect(korean).toHaveCount(1);
    await expect(korean.locator('mark').first()).toContainText('메시지');
    await expect(korean).toHaveAttribute('data-peer', 'bob');
    await shoot(alice, 'search-results');

    // Keyboard: arrows to the Korean result, Enter jumps to it.
    const options = alice.getByTestId('search-result');
    const index = await korean.evaluate((el) => (el.parentElement ? [...el.parentElement.children].indexOf(el) : -1));
    expect(index).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < index; i++) await input.press('ArrowDown');
    await expect(korean).toHaveAttribute('aria-selected', 'true');
    await input.press('Enter');
    const koreanMessage = alice.getByTestId('message').filter({ hasText: KOREAN });
    await expect(koreanMessage).toHaveAttribute('data-jump-target', 'true');
    await expect(koreanMessage).toBeInViewport();
    await expect(alice.getByTestId('message-list')).toHaveAttribute('data-window', 'detached');
    await shoot(alice, 'jumped-to-message');

    // "Jump to latest" replaces the window with the newest page.
    await alice.getByTestId('jump-to-latest').click();
    await expect(alice.getByTestId('message-text').filter({ hasText: filler(FILLER) })).toBeInViewport();
    await expect(alice.getByTestId('message-list')).toHaveAttribute('data-window', 'latest');

    // `encrypt` finds `encrypted` (English prefix); clicking the result jumps to Bob's message.
    await alice.keyboard.press('Control+F');
    await input.fill('encrypt');
    const english = options.filter({ hasText: ENGLISH });
    await expect(english).toHaveCount(1);
    await expect(english.locator('mark').first()).toContainText(/encrypt/i);
    await english.click();
    const englishMessage = alice.getByTestId('message').filter({ hasText: ENGLISH });
    await expect(englishMessage).toHaveAttribute('data-jump-target', 'true');
    await expect(englishMessage).toBeInViewport();
    await expect(englishMessage).toHaveAttribute('data-direction', 'incoming');

    // Scrolling down from there pages forward (messages.list after) until the newest message,
    // each message once, in order.
    const log = alice.getByTestId('message-list');
    await expect(async () => {
      await log.evaluate((el) => el.scrollBy(0, el.clientHeight));
      await expect(log).toHaveAttribute('data-window', 'latest', { timeout: 1_000 });
    }).toPass();
    await log.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await expect(alice.getByTestId('message-text').filter({ hasText: filler(FILLER) })).toBeInViewport();
    const texts = await alice.getByTestId('message-text').allTextContents();
    const start = texts.indexOf(ENGLISH);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(texts.slice(start + 1)).toEqual(Array.from({ length: FILLER }, (_, i) => filler(i + 1)));

    // Esc closes search and gives the conversation list back.
    await alice.getByTestId('search-input').press('Escape');
    await expect(alice.getByTestId('search-panel')).toHaveCount(0);
    await expect(conversationWith(alice, 'bob')).toBeVisible();

    // Settings → Security: auto-lock after 1 minute.
    await alice.getByTestId('settings-button').click();
    const settings = alice.getByTestId('settings-dialog');
    await expect(settings).toBeVisible();
    await settings.getByTestId('settings-autolock').selectOption('1');
    await expect(settings.getByTestId('settings-autolock-saved')).not.toBeEmpty();
    await shoot(alice, 'settings');
    await alice.keyboard.press('Escape');
    await expect(settings).toHaveCount(0);

    // Idle for a bit over a minute (no input): Refuge locks itself and says why.
    await alice.clock.fastForward('01:05');
    await expect(alice.getByTestId('unlock')).toBeVisible();
    await expect(alice.getByTestId('unlock-notice')).toHaveAttribute('data-reason', 'idle');
    await expectNoMessageText(alice, [KOREAN, ENGLISH, filler(FILLER)]);
    await unlock(alice, ALICE_PASS);

    // Change the passphrase: the current one must be right; afterwards only the new one unlocks.
    await alice.getByTestId('settings-button').click();
    await settings.getByTestId('change-passphrase-current').fill('not my passphrase');
    await settings.getByTestId('change-passphrase-new').fill(ALICE_NEXT);
    await settings.getByTestId('change-passphrase-confirm').fill(ALICE_NEXT);
    await settings.getByTestId('change-passphrase-submit').click();
    await expect(settings.getByTestId('change-passphrase-current-error')).toContainText(/wrong passphrase/i);
    await settings.getByTestId('change-passphrase-current').fill(ALICE_PASS);
    await settings.getByTestId('change-passphrase-submit').click();
    await expect(settings.getByTestId('change-passphrase-done')).not.toBeEmpty();
    await alice.keyboard.press('Escape');
    await alice.getByTestId('lock-button').click();
    await expect(alice.getByTestId('unlock')).toBeVisible();
    await alice.getByTestId('unlock-passphrase').fill(ALICE_PASS);
    await alice.getByTestId('unlock-button').click();
    await expect(alice.getByTestId('unlock-passphrase-error')).toContainText(/wrong passphrase/i);
    await unlock(alice, ALICE_NEXT);
    await conversationWith(alice, 'bob').click();
    await expect(alice.getByTestId('message-text').filter({ hasText: filler(FILLER) })).toBeVisible();
  } finally {
    for (const host of hosts) await host.close();
    await relay.close();
  }
});
