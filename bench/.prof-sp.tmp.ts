import { mkdtempSync } from 'node:fs';
import { openRawDatabase } from './lib/rawdb.js';
const db = openRawDatabase(mkdtempSync('/tmp/refuge-bench-sp-'));
const N = 20000;
db.exec('BEGIN IMMEDIATE');
let t = performance.now();
for (let i = 0; i < N; i++) { db.exec('SAVEPOINT refuge_sp_1'); db.exec('RELEASE refuge_sp_1'); }
console.log('savepoint+release exec us', ((performance.now() - t) * 1000 / N).toFixed(2));
const sp = db.prepare('SAVEPOINT refuge_sp_1'); const rel = db.prepare('RELEASE refuge_sp_1');
t = performance.now();
for (let i = 0; i < N; i++) { sp.run(); rel.run(); }
console.log('savepoint+release prepared us', ((performance.now() - t) * 1000 / N).toFixed(2));
const sel = 'SELECT 1 FROM processed_envelopes WHERE id = ?';
t = performance.now();
for (let i = 0; i < N; i++) db.prepare(sel, { pluck: true }).get(['x' + i]);
console.log('prepare(cached)+get us', ((performance.now() - t) * 1000 / N).toFixed(2));
const st = db.prepare(sel, { pluck: true });
t = performance.now();
for (let i = 0; i < N; i++) st.get(['x' + i]);
console.log('held stmt get us', ((performance.now() - t) * 1000 / N).toFixed(2));
db.exec('COMMIT');
