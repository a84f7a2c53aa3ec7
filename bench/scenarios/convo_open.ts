// convo_open: opening a conversation of 100,000 messages, i.e. messages.list for its newest 50
// through core.handle (request validation, the store's query, row mapping), against a raw
// SQLCipher select of the same 50 rows on the same database file. Goal: ≤ 20 ms.
// Reported twice: right after unlocking (cold page cache: what opening the app and clicking
// the conversation costs) and on repeated opens (warm).
import { join } from 'node:path';
import { DB_FILE } from '../../main/core/store/index.js';
import { historyProfile } from '../lib/fixtures.js';
import { profileKey, unlockProfile } from '../lib/profile.js';
import { openExistingDatabase } from '../lib/rawdb.js';
import { goals } from '../lib/results.js';
import { defineScenario } from '../lib/scenario.js';
import { median, repeat } from '../lib/stats.js';

const PAGE = 50;

export default defineScenario({
  name: 'convo_open',
  description: 'first 50 messages of a 100,000-message conversation (messages.list) vs a raw SQLCipher select of 50 rows',
  async run(ctx) {
    const history = await historyProfile(ctx.size(100_000, 2_000), ctx.log);
    const key = await profileKey(history.dir);
    ctx.defer(() => key.fill(0));
    const warmCalls = ctx.size(200, 10);

    const rawSelect = (db: ReturnType<typeof openExistingDatabase>) => {
      const rows = db
        .prepare('SELECT id, conversation_id, sender, outgoing, text, sent_at, received_at, status FROM messages WHERE conversation_id = ? ORDER BY sent_at DESC, seq DESC LIMIT ?')
        .all([history.conversationId, PAGE]);
      if (rows.length !== PAGE) throw new Error(`raw select returned ${rows.length} rows`);
    };

    const samples = await repeat(
      ctx.reps,
      async () => {
        // Raw, cold: a fresh connection, then the select.
        const raw = openExistingDatabase(join(history.dir, DB_FILE), key);
        let start = performance.now();
        rawSelect(raw);
        const rawCold = performance.now() - start;
        const rawWarm: number[] = [];
        for (let i = 0; i < warmCalls; i++) {
          start = performance.now();
          rawSelect(raw);
          rawWarm.push(performance.now() - start);
        }
        raw.close();

        // Core, cold: unlock, then open the conversation as the UI does.
        const profile = await unlockProfile(history.dir);
        try {
          const open = async () => {
            const t0 = performance.now();
            const page = await profile.api.messages.list({ conversationId: history.conversationId, limit: PAGE });
            const ms = performance.now() - t0;
            if (page.messages.length !== PAGE || !page.hasMore) throw new Error('messages.list returned a short page');
            return ms;
          };
          const coreCold = await open();
          const coreWarm: number[] = [];
          for (let i = 0; i < warmCalls; i++) coreWarm.push(await open());
          // The conversation list shown at launch (information only).
          start = performance.now();
          await profile.api.conversations.list({});
          const list = performance.now() - start;
          return { rawCold, rawWarm: median(rawWarm), coreCold, coreWarm: median(coreWarm), list };
        } finally {
          profile.core.close();
        }
      },
      ctx.quick ? 0 : 1,
    );
    const m = (f: (s: (typeof samples)[number]) => number) => median(samples.map(f));
    ctx.log(`cold ${m((s) => s.coreCold).toFixed(2)} ms (raw ${m((s) => s.rawCold).toFixed(2)}), warm ${m((s) => s.coreWarm).toFixed(3)} ms (raw ${m((s) => s.rawWarm).toFixed(3)})`);
    return [
      ctx.row({
        metric: 'first_50_after_unlock',
        value: m((s) => s.coreCold),
        unit: 'ms',
        baseline: { name: 'raw select, new connection', value: m((s) => s.rawCold) },
        goal: goals.atMost(20, 'ms'),
      }),
      ctx.row({
        metric: 'first_50_warm',
        value: m((s) => s.coreWarm),
        unit: 'ms',
        baseline: { name: 'raw select', value: m((s) => s.rawWarm) },
        goal: goals.atMost(20, 'ms'),
      }),
      ctx.row({ metric: 'conversation_list', value: m((s) => s.list), unit: 'ms', baseline: null, goal: goals.info() }),
    ];
  },
});
