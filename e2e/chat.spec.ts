// Alice and Bob, each in their own browser context with their own web host and profile,
// against one real relay: register, add, chat both ways, restart Bob, and audit the disks.
import { expect, test, type Page } from '@playwright/test';
import type { WebHost } from '../main/web-host/host.js';
import { findPlaintext } from './support/plaintext.js';
import { relayIn, tempDir, webHostFor } from './support/harness.js';
import { register, conversationWith, send } from './support/ui.js';

const HELLO = '안녕하세요 Bob 👋';
const REPLY = 'Hi Alice — 잘 받았어요!';

// Throwaway profiles: Argon2id INTERACTIVE instead of MODERATE keeps the spec quick.
process.env.REFUGE_ARGON2 = 'interactive';

test('Alice and Bob chat end to end; history survives a restart; nothing readable on disk', async ({ browser }) => {
  const relayDir = tempDir('e2e-relay');
  const aliceDir = tempDir('e2e-alice');
  const bobDir = tempDir('e2e-bob');
  const relay = await relayIn(relayDir);
  const hosts: WebHost[] = [];
  try {
    const aliceHost = await webHostFor(aliceDir, relay.url);
    let bobHost = await webHostFor(bobDir, relay.url);
    hosts.push(aliceHost, bobHost);
    const alice = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();

    await register(alice, aliceHost.url, 'alice', 'alice correct horse');
    await register(bob, bobHost.url, 'bob', 'bob battery staple');

    // Alice adds Bob by username and writes first.
    await alice.getByTestId('add-contact-button').click();
    await alice.getByTestId('add-contact-username').fill('bob');
    await alice.getByTestId('add-contact-submit').click();
    await expect(conversationWith(alice, 'bob')).toBeVisible();
    await conversationWith(alice, 'bob').click();
    await send(alice, HELLO);

    // Bob receives it live, opens the conversation, and replies.
    await expect(conversationWith(bob, 'alice')).toBeVisible();
    await conversationWith(bob, 'alice').click();
    await expect(bob.getByTestId('message-text').filter({ hasText: HELLO })).toBeVisible();
    await send(bob, REPLY);

    await expect(alice.getByTestId('message-text').filter({ hasText: REPLY })).toBeVisible();
    // Alice's first message reached Bob's device: its delivery receipt came back.
    await expect(alice.getByTestId('message').filter({ hasText: HELLO }).getByTestId('message-status')).toHaveAttribute('title', /delivered|read/i);

    // Bob's web host restarts: his history is still there after unlocking.
    await bobHost.close();
    hosts.splice(hosts.indexOf(bobHost), 1);
    bobHost = await webHostFor(bobDir, relay.url);
    hosts.push(bobHost);
    await bob.goto(bobHost.url);
    await bob.getByTestId('unlock-passphrase').fill('wrong passphrase');
    await bob.getByTestId('unlock-button').click();
    await expect(bob.getByTestId('unlock-passphrase-error')).toContainText(/wrong passphrase/i);
    await bob.getByTestId('unlock-passphrase').fill('bob battery staple');
    await bob.getByTestId('unlock-button').click();
    await conversationWith(bob, 'alice').click();
    await expect(bob.getByTestId('message-text').filter({ hasText: HELLO })).toBeVisible();
    await expect(bob.getByTestId('message-text').filter({ hasText: REPLY })).toBeVisible();
  } finally {
    for (const host of hosts) await host.close();
    await relay.close();
  }

  // Every file the relay and both profiles left behind (databases, WAL, keyring, temp files).
  expect(findPlaintext([relayDir, aliceDir, bobDir], [HELLO, REPLY])).toEqual([]);
});

test('the web host refuses a bridge connection without the token or from another origin', async () => {
  const relay = await relayIn(tempDir('e2e-relay2'));
  const host = await webHostFor(tempDir('e2e-carol'), relay.url);
  try {
    const attempt = (query: string, origin: string) =>
      new Promise<number>((resolve) => {
        const url = `${host.origin.replace('http', 'ws')}/__refuge/bridge${query}`;
        void import('ws').then(({ default: WebSocket }) => {
          const ws = new WebSocket(url, { headers: { Origin: origin } });
          ws.on('open', () => {
            ws.close();
            resolve(101);
          });
          ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          ws.on('error', () => resolve(0));
        });
      });
    const token = new URL(host.url).hash.replace('#token=', '');
    expect(await attempt('', host.origin)).toBe(403);
    expect(await attempt('?token=wrong', host.origin)).toBe(403);
    expect(await attempt(`?token=${token}`, 'http://evil.example')).toBe(403);
    expect(await attempt(`?token=${token}`, host.origin)).toBe(101);
  } finally {
    await host.close();
    await relay.close();
  }
});
