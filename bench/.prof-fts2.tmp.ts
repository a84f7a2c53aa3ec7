import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { keyDatabase } from './lib/rawdb.js';
import { chatText } from './lib/profile.js';
function setup(fts: string | null) {
  const db = new Database(join(mkdtempSync('/tmp/refuge-bench-fts-'), 'x.db'), { cacheStatements: true });
  keyDatabase(db, new Uint8Array(32).fill(1));
  db.initTokenizer();
  db.pragma('journal_mode = WAL'); db.exec('PRAGMA synchronous = FULL');
  db.exec('CREATE TABLE m (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, text TEXT)');
  if (fts) {
    db.exec(`CREATE VIRTUAL TABLE f USING fts5(text, content='m', content_rowid='seq', ${fts})`);
    db.exec(`CREATE TRIGGER ti AFTER INSERT ON m BEGIN INSERT INTO f (rowid, text) VALUES (new.seq, new.text); END`);
  }
  return db;
}
function run(label: string, fts: string | null, secure = false) {
  const db = setup(fts);
  if (secure) db.exec("INSERT INTO f (f, rank) VALUES ('secure-delete', 1)");
  const ins = db.prepare('INSERT INTO m (id, text) VALUES (?, ?)');
  const times: number[] = [];
  for (let b = 0; b < 40; b++) {
    const t = performance.now();
    db.exec('BEGIN');
    for (let i = 0; i < 200; i++) ins.run([crypto.randomUUID(), chatText(80)]);
    db.exec('COMMIT');
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(label.padEnd(40), 'median ms/200:', times[20]!.toFixed(1));
  db.close();
}
run('no fts', null);
run('unicode61', "tokenize='unicode61'");
run('signal_tokenizer', "tokenize='signal_tokenizer'");
run('signal_tokenizer prefix 2 3', "tokenize='signal_tokenizer', prefix='2 3'");
run('signal_tokenizer prefix 2 3 secure-delete', "tokenize='signal_tokenizer', prefix='2 3'", true);
run('no fts', null);
