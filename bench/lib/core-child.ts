// Run in a child process by the memory scenario: opens a profile the way the app does at launch
// (Core.open, unlock, the conversation list, the newest conversation's first page and a few
// pages back), then reports this process's memory as one JSON line on stdout. A separate
// process, so nothing of the harness (fixtures, other scenarios) is counted.
//   node --import tsx --expose-gc bench/lib/core-child.ts PROFILE_DIR
import { unlockProfile } from './profile.js';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: core-child.ts PROFILE_DIR');
  const profile = await unlockProfile(dir);
  const conversations = await profile.api.conversations.list({});
  let pages = 0;
  const first = conversations[0];
  if (first) {
    let before: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await profile.api.messages.list({ conversationId: first.id, limit: 50, ...(before ? { before } : {}) });
      pages++;
      before = page.messages[0]?.id;
      if (!page.hasMore || !before) break;
    }
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc?.();
  const usage = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, conversations: conversations.length, pages })}\n`);
  profile.core.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`core-child: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
