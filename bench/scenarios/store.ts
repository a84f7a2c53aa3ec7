// store: how many received messages per second the core stores when they arrive in relay-sized
// batches (envelopes.receive with 200 envelopes from 10 contacts: decrypt, dedupe, store, queue
// receipts, one transaction per batch), against raw SQLCipher inserts of the same message rows
// in the same batches into a database with the same schema and settings. Goal: ratio ≥ 0.5.
import { join } from 'node:path';
import { DB_FILE } from '../../main/core/store/index.js';
import type { DeliveredEnvelope } from '../../shared/protocol/envelope.js';
import { DELIVERY_BATCH } from '../../shared/protocol/events.js';
import { createProfile, envelopesFrom, establishPeers, profileKey } from '../lib/profile.js';
import { openExistingDatabase, openRawDatabase } from '../lib/rawdb.js';
import { goals } from '../lib/results.js';
import { defineScenario } from '../lib/scenario.js';
import { median, repeat } from '../lib/stats.js';

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export default defineScenario({
  name: 'store',
  description: 'messages stored/s by envelopes.receive in batches of 200 vs raw SQLCipher inserts of the same rows',
  async run(ctx) {
    const perRep = ctx.size(10_000, 400);
    const contacts = ctx.size(10, 2);
    const dir = ctx.tmp('store-profile');
    const profile = await createProfile(dir, 'receiver');
    ctx.defer(() => profile.core.close());
    const peers = await establishPeers(profile, profile.registration, contacts);

    // The rows the core wrote are read back (all columns, whatever the schema has by now) and
    // inserted into a fresh database with the same schema: "the same rows", exactly.
    const key = await profileKey(dir);
    const coreDb = openExistingDatabase(join(dir, DB_FILE), key);
    key.fill(0);
    ctx.defer(() => coreDb.close());
    const raw = openRawDatabase(ctx.tmp('store-raw'));
    ctx.defer(() => raw.close());
    const columnsOf = (table: string) =>
      coreDb
        .prepare(`SELECT name FROM pragma_table_info('${table}')`, { pluck: true })
        .all()
        .filter((name): name is string => typeof name === 'string');
    const columns = columnsOf('messages')
      .filter((name) => name !== 'seq')
      .join(', ');
    const slots = columns.split(', ').map(() => '?').join(', ');
    const insert = raw.prepare(`INSERT INTO messages (${columns}) VALUES (${slots})`);
    const readBack = coreDb.prepare(`SELECT ${columns} FROM messages WHERE seq > ? ORDER BY seq`);
    const maxSeq = coreDb.prepare('SELECT coalesce(max(seq), 0) FROM messages', { pluck: true });
    const copyConversations = (ids: Set<string>) => {
      const cols = columnsOf('conversations').join(', ');
      for (const id of ids) {
        const row = coreDb.prepare(`SELECT ${cols} FROM conversations WHERE id = ?`).get([id]);
        if (row) raw.prepare(`INSERT OR IGNORE INTO conversations (${cols}) VALUES (${cols.split(', ').map(() => '?').join(', ')})`).run(Object.values(row));
      }
    };

    const samples = await repeat(
      ctx.reps,
      async () => {
        // As the relay delivers them: JSON off a socket (flat strings), 200 per batch.
        const envelopes = JSON.parse(JSON.stringify(envelopesFrom(peers, profile.registration.username, perRep))) as DeliveredEnvelope[];
        const before = Number(maxSeq.get());
        let coreMs = 0;
        for (const batch of batches(envelopes, DELIVERY_BATCH)) {
          const start = performance.now();
          const { results } = await profile.api.envelopes.receive({ envelopes: batch });
          coreMs += performance.now() - start;
          const bad = results.find((r) => r.outcome !== 'stored' || !r.message);
          if (bad) throw new Error(`envelope ${bad.outcome}: ${bad.reason ?? ''}`);
        }
        const fetched = readBack.all([before]);
        if (fetched.length !== perRep) throw new Error(`the core stored ${fetched.length} rows for ${perRep} envelopes`);
        copyConversations(new Set(fetched.map((row) => String(row['conversation_id']))));
        const rows = fetched.map((row) => Object.values(row));
        let rawMs = 0;
        for (const batch of batches(rows, DELIVERY_BATCH)) {
          const start = performance.now();
          raw.exec('BEGIN IMMEDIATE');
          for (const values of batch) insert.run(values);
          raw.exec('COMMIT');
          rawMs += performance.now() - start;
        }
        // The receipts the core queued would be sent by sync; clear them so the outbox stays small.
        for (;;) {
          const { envelopes: queued } = await profile.api.outbox.pending({ limit: 1000 });
          if (queued.length === 0) break;
          await profile.api.outbox.markSent({ ids: queued.map((e) => e.id) });
        }
        return { core: (perRep / coreMs) * 1000, raw: (perRep / rawMs) * 1000 };
      },
      ctx.quick ? 0 : 1,
    );
    const core = median(samples.map((s) => s.core));
    const rawRate = median(samples.map((s) => s.raw));
    ctx.log(`core ${core.toFixed(0)}/s, raw ${rawRate.toFixed(0)}/s`);
    return [
      ctx.row({
        metric: 'messages_stored_per_s',
        value: core,
        unit: 'msg/s',
        baseline: { name: 'raw SQLCipher inserts', value: rawRate },
        goal: goals.ratioAtLeast(0.5),
      }),
    ];
  },
});
