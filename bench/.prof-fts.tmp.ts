import { mkdtempSync } from 'node:fs';
import { openRawDatabase } from './lib/rawdb.js';
import { chatText } from './lib/profile.js';
function make() {
  const db = openRawDatabase(mkdtempSync('/tmp/refuge-bench-fts-'));
  db.prepare("INSERT INTO conversations (id, kind, peer, created_at, updated_at) VALUES ('c1', 'direct', 'p', 0, 0)").run();
  return { db, ins: db.prepare('INSERT INTO messages (id, conversation_id, sender, outgoing, text, sent_at, received_at, status, search_terms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'), n: 0 };
}
const A = make(), B = make(); if (process.argv[2] === 'nofts') { A.db.exec('DROP TRIGGER messages_fts_insert'); }
function batch(x: ReturnType<typeof make>, savepoints: boolean) {
  const s = process.cpuUsage(); const t = performance.now();
  x.db.exec('BEGIN IMMEDIATE');
  for (let i = 0; i < 200; i++) {
    if (savepoints) x.db.exec('SAVEPOINT sp');
    x.ins.run([crypto.randomUUID(), 'c1', 'p', 0, chatText(80), ++x.n, x.n, 'received', '']);
    if (savepoints) x.db.exec('RELEASE sp');
  }
  x.db.exec('COMMIT');
  const u = process.cpuUsage(s);
  return { cpu: (u.user + u.system) / 1000, wall: performance.now() - t };
}
const res = { a: { cpu: 0, wall: 0 }, b: { cpu: 0, wall: 0 } };
for (let r = 0; r < 40; r++) { const a = batch(A, false), b = batch(B, false); if (r >= 5) { res.a.cpu += a.cpu; res.a.wall += a.wall; res.b.cpu += b.cpu; res.b.wall += b.wall; } }
console.log('per 200 rows: no savepoints cpu', (res.a.cpu / 35).toFixed(1), 'wall', (res.a.wall / 35).toFixed(1), '| savepoint per row cpu', (res.b.cpu / 35).toFixed(1), 'wall', (res.b.wall / 35).toFixed(1));
