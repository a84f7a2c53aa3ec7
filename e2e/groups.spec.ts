// Group chats through the real UI (issue 8): Alice, Bob and Carol, each in their own Chromium
// context with their own web host and profile, against one real relay. Alice creates a group of
// three from the "New group" dialog (an unknown username is refused by name first), all three
// chat and see each other's names, Alice removes Carol from the members panel, and the removal
// shows on every side in that reader's words; Carol's composer is gone and she never receives
// what Bob sends next. Then Alice makes Bob an admin, renames the group and adds Carol back, and
// the events read in Korean too. Screenshots of the new-group dialog, the group chat and the
// members panel (light and dark, wide and narrow) land in e2e/screenshots/.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import type { WebHost } from '../main/web-host/host.js';
import { relayIn, tempDir, webHostFor } from './support/harness.js';
import { bubble, conversationWith, groupConversation, register, send, shoot } from './support/ui.js';

// Throwaway profiles: Argon2id INTERACTIVE instead of MODERATE keeps the spec quick.
process.env.REFUGE_ARGON2 = 'interactive';

const GROUP = 'Weekend trip';
const AFTER_REMOVAL = 'Carol cannot read this one';
const RENAMED = 'Weekend trip 🏕️';

test('a group of three: create, chat with names, remove a member, who sees what after', async ({ browser }) => {
  test.setTimeout(240_000);
  const relay = await relayIn(tempDir('e2e-relay-groups'));
  const hosts: WebHost[] = [];
  const contexts: BrowserContext[] = [];
  const open = async (name: string): Promise<Page> => {
    const host = await webHostFor(tempDir(`e2e-${name}-groups`), relay.url);
    hosts.push(host);
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await register(page, host.url, name, `${name} correct horse battery`);
    return page;
  };
  try {
    const alice = await open('alice');
    const bob = await open('bob');
    const carol = await open('carol');

    // Alice starts a group by typing usernames (she has no contacts yet). A name the relay does
    // not know is refused by name, and nothing is created.
    await alice.getByTestId('new-group-button').click();
    const dialog = alice.getByTestId('new-group-dialog');
    await dialog.getByTestId('new-group-name').fill(GROUP);
    for (const name of ['bob', 'carol', 'nobody']) {
      await dialog.getByTestId('new-group-username').fill(name);
      await dialog.getByTestId('new-group-username').press('Enter');
    }
    await expect(dialog.getByTestId('new-group-member')).toHaveCount(3);
    await dialog.getByTestId('new-group-submit').click();
    await expect(dialog.getByTestId('new-group-error')).toContainText('nobody');
    await expect(dialog.locator('[data-testid="new-group-member"][data-failed="true"]')).toHaveAttribute('data-username', 'nobody');
    await expect(alice.locator('[data-testid="conversation"][data-kind="group"]')).toHaveCount(0);
    await shoot(alice, 'groups-new');
    await dialog.locator('[data-testid="new-group-member"][data-username="nobody"]').getByRole('button').click();
    await expect(dialog.getByTestId('new-group-member')).toHaveCount(2);
    await dialog.getByTestId('new-group-submit').click();

    // The group opens for Alice: its name, three members, and the creation as a system line.
    await expect(alice.getByTestId('new-group-dialog')).toHaveCount(0);
    await expect(alice.getByTestId('chat-peer-name')).toHaveText(GROUP);
    await expect(alice.getByTestId('chat-member-count')).toHaveText('3 members');
    await expect(alice.getByTestId('system-message')).toHaveText(`You created the group “${GROUP}”`);

    // Bob and Carol find it in their lists and see who created it.
    for (const page of [bob, carol]) {
      await expect(groupConversation(page, GROUP)).toBeVisible();
      await groupConversation(page, GROUP).click();
      await expect(page.getByTestId('system-message')).toHaveText(`alice created the group “${GROUP}”`);
      await expect(page.getByTestId('chat-member-count')).toHaveText('3 members');
    }

    // All three write; each sees the others' messages under the sender's name, never their own.
    const lines: Array<[Page, string, string]> = [
      [alice, 'alice', 'Who brings the tent?'],
      [bob, 'bob', 'I will, it sleeps three.'],
      [carol, 'carol', 'Then I bring the snacks 🍫'],
    ];
    for (const [page, , text] of lines) {
      await send(page, text);
      for (const [reader] of lines) await expect(bubble(reader, text)).toBeVisible();
    }
    for (const [page, sender, text] of lines) {
      for (const [reader] of lines) {
        const line = bubble(reader, text);
        await expect(line).toBeVisible();
        if (reader === page) {
          await expect(line).toHaveAttribute('data-direction', 'outgoing');
          await expect(line.getByTestId('message-sender')).toHaveCount(0);
        } else {
          await expect(line).toHaveAttribute('data-direction', 'incoming');
          await expect(line.getByTestId('message-sender')).toHaveText(sender);
        }
      }
    }
    // Per-member receipts and typing: Bob and Carol have the group open, so Alice's first message
    // is read by both; Bob types and the others see his name.
    const status = bubble(alice, 'Who brings the tent?').getByTestId('message-status');
    await expect(status).toHaveAttribute('data-read-by', /bob/);
    await expect(status).toHaveAttribute('data-read-by', /carol/);
    await expect(status).toHaveAttribute('title', /Read by/);
    await bob.getByTestId('composer').pressSequentially('Maybe', { delay: 20 });
    await expect(alice.getByTestId('typing-indicator')).toHaveText('bob is typing…');
    await expect(carol.getByTestId('typing-indicator')).toHaveText('bob is typing…');
    await expect(groupConversation(alice, GROUP).getByTestId('conversation-typing')).toHaveText('bob is typing…');
    await bob.getByTestId('composer').fill('');
    await expect(alice.getByTestId('typing-indicator')).toHaveCount(0);

    // Search finds group messages under the group's name, with their sender.
    await bob.getByTestId('search-button').click();
    await bob.getByTestId('search-input').fill('snacks');
    const hit = bob.getByTestId('search-result');
    await expect(hit).toHaveCount(1);
    await expect(hit).toContainText(GROUP);
    await expect(hit.getByTestId('search-snippet')).toContainText('carol: Then I bring the snacks');
    await bob.getByTestId('search-close').click();
    await expect(bob.getByTestId('search-panel')).toHaveCount(0);

    // The list says whose the last message is.
    await expect(groupConversation(alice, GROUP).getByTestId('conversation-preview')).toContainText('carol: Then I bring the snacks');
    await shoot(alice, 'groups-chat');

    // The members panel: three members, Alice the admin; she removes Carol after confirming.
    await alice.getByTestId('chat-group-info').click();
    const panel = alice.getByTestId('group-panel');
    await expect(panel.getByTestId('group-member')).toHaveCount(3);
    await expect(member(panel, 'alice').getByTestId('group-member-admin')).toBeVisible();
    await expect(member(panel, 'bob').getByTestId('group-member-admin')).toHaveCount(0);
    await shoot(alice, 'groups-members');
    await member(panel, 'carol').getByTestId('group-member-remove').click();
    await expect(panel.getByTestId('group-confirm')).toContainText('carol');
    await expect(panel.getByTestId('group-member')).toHaveCount(3); // nothing happens before the confirmation
    await panel.getByTestId('group-confirm-ok').click();
    await expect(panel.getByTestId('group-member')).toHaveCount(2);
    await expect(member(panel, 'carol')).toHaveCount(0);
    await expect(panel.getByTestId('group-panel-count')).toHaveText('2 members');
    await alice.keyboard.press('Escape');
    await expect(alice.getByTestId('group-panel')).toHaveCount(0);

    // The removal, on every side, in that reader's words.
    await expect(alice.getByTestId('system-message').last()).toHaveText('You removed carol');
    await expect(bob.getByTestId('system-message').last()).toHaveText('alice removed carol');
    await expect(carol.getByTestId('system-message').last()).toHaveText('alice removed you');
    await expect(bob.getByTestId('chat-member-count')).toHaveText('2 members');

    // Carol keeps the history but can no longer write.
    await expect(carol.getByTestId('group-left-notice')).toBeVisible();
    await expect(carol.getByTestId('composer')).toHaveCount(0);
    await expect(bubble(carol, 'Who brings the tent?')).toBeVisible();
    await shoot(carol, 'groups-removed');

    // Bob writes after the removal: Alice reads it, Carol never receives it. To know Carol has
    // had everything Bob sent by then, Bob sends her a direct message afterwards (the relay
    // delivers a mailbox in order) and she waits for that.
    await send(bob, AFTER_REMOVAL);
    await expect(bubble(alice, AFTER_REMOVAL)).toBeVisible();
    await expect(bubble(alice, AFTER_REMOVAL).getByTestId('message-sender')).toHaveText('bob');
    await bob.getByTestId('add-contact-button').click();
    await bob.getByTestId('add-contact-username').fill('carol');
    await bob.getByTestId('add-contact-submit').click();
    await conversationWith(bob, 'carol').click();
    await send(bob, 'Sorry you were removed');
    await expect(conversationWith(carol, 'bob')).toBeVisible();
    await conversationWith(carol, 'bob').click();
    await expect(bubble(carol, 'Sorry you were removed')).toBeVisible();
    await groupConversation(carol, GROUP).click();
    await expect(carol.getByTestId('system-message').last()).toHaveText('alice removed you');
    await expect(carol.getByTestId('message-text').filter({ hasText: AFTER_REMOVAL })).toHaveCount(0);
    // not merely hidden: Carol's own store never got it
    const stored = await carol.evaluate(async () => {
      const texts: string[] = [];
      for (const c of await window.refuge.conversations.list({})) {
        const page = await window.refuge.messages.list({ conversationId: c.id, limit: 200 });
        texts.push(...page.messages.map((m) => m.text));
      }
      return texts;
    });
    expect(stored).toContain('Who brings the tent?');
    expect(stored).not.toContain(AFTER_REMOVAL);

    // Bob's own "New group" dialog offers his contacts (Alice and Carol are contacts since the group).
    await bob.getByTestId('new-group-button').click();
    const bobDialog = bob.getByTestId('new-group-dialog');
    await expect(bobDialog.getByTestId('new-group-contact')).toHaveCount(2);
    await bobDialog.locator('[data-testid="new-group-contact"][data-username="alice"]').check();
    await expect(bobDialog.getByTestId('new-group-count')).toHaveText('1 person selected');
    await shoot(bob, 'groups-new-contacts');
    await bob.keyboard.press('Escape');
    await expect(bob.getByTestId('new-group-dialog')).toHaveCount(0);

    // Alice, still admin, makes Bob an admin, renames the group and adds Carol back.
    await groupConversation(bob, GROUP).click();
    await alice.getByTestId('group-info-button').click();
    const again = alice.getByTestId('group-panel');
    await member(again, 'bob').getByTestId('group-member-toggle-admin').click();
    await expect(member(again, 'bob').getByTestId('group-member-admin')).toBeVisible();
    await expect(bob.getByTestId('system-message').last()).toHaveText('alice made you an admin');
    await again.getByTestId('group-rename-input').fill(RENAMED);
    await again.getByTestId('group-rename-submit').click();
    await expect(again.getByRole('heading', { name: RENAMED })).toBeVisible();
    await expect(bob.getByTestId('chat-peer-name')).toHaveText(RENAMED);
    await expect(bob.getByTestId('system-message').last()).toHaveText(`alice renamed the group to “${RENAMED}”`);
    await again.getByTestId('group-add-username').fill('carol');
    await again.getByTestId('group-add-submit').click();
    await expect(member(again, 'carol')).toBeVisible();
    await expect(again.getByTestId('group-panel-count')).toHaveText('3 members');
    await alice.keyboard.press('Escape');
    await expect(carol.getByTestId('system-message').last()).toHaveText('alice added you');
    await expect(carol.getByTestId('group-left-notice')).toHaveCount(0);
    await expect(carol.getByTestId('composer')).toBeVisible();
    await expect(groupConversation(carol, RENAMED)).toBeVisible();

    // Carol, not an admin, only sees the members and "Leave"; she leaves after confirming.
    await carol.getByTestId('chat-group-info').click();
    const carolPanel = carol.getByTestId('group-panel');
    await expect(carolPanel.getByTestId('group-member')).toHaveCount(3);
    await expect(carolPanel.getByTestId('group-member-remove')).toHaveCount(0);
    await expect(carolPanel.getByTestId('group-add-username')).toHaveCount(0);
    await shoot(carol, 'groups-members-not-admin');
    await carolPanel.getByTestId('group-leave').click();
    await expect(carolPanel.getByTestId('group-confirm')).toBeVisible();
    await carolPanel.getByTestId('group-confirm-ok').click();
    await expect(carol.getByTestId('group-panel')).toHaveCount(0);
    await expect(carol.getByTestId('system-message').last()).toHaveText('You left the group');
    await expect(carol.getByTestId('group-left-notice')).toBeVisible();
    await expect(alice.getByTestId('system-message').last()).toHaveText('carol left the group');
    await expect(bob.getByTestId('chat-member-count')).toHaveText('2 members');

    // In Korean, the same events read in Korean (from their fields, not the English fallback).
    await alice.getByTestId('settings-button').click();
    const settings = alice.getByTestId('settings-dialog');
    await settings.locator('[data-testid="settings-tab"][data-section="appearance"]').click();
    await settings.getByTestId('settings-language').selectOption('ko');
    await expect(alice.locator('html')).toHaveAttribute('lang', 'ko');
    await alice.keyboard.press('Escape');
    await expect(alice.getByTestId('system-message').first()).toHaveText(`“${GROUP}” 그룹을 만들었습니다`);
    const korean = alice.getByTestId('system-message');
    await expect(korean.filter({ hasText: 'carol님을 내보냈습니다' })).toHaveCount(1);
    await expect(korean.filter({ hasText: 'bob님을 관리자로 지정했습니다' })).toHaveCount(1);
    await expect(korean.filter({ hasText: 'carol님을 초대했습니다' })).toHaveCount(1);
    await expect(korean.last()).toHaveText('carol님이 그룹을 나갔습니다');
    await expect(alice.getByTestId('chat-member-count')).toHaveText('멤버 2명');
    await alice.getByTestId('group-info-button').click();
    await expect(alice.getByTestId('group-leave')).toHaveText('그룹 나가기');
    await shoot(alice, 'groups-members-ko');
  } finally {
    for (const context of contexts) await context.close();
    for (const host of hosts) await host.close();
    await relay.close();
  }
});

function member(panel: ReturnType<Page['getByTestId']>, username: string) {
  return panel.locator(`[data-testid="group-member"][data-username="${username}"]`);
}
