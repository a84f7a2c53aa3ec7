import Database from '@signalapp/sqlcipher';
const stats = new Map<string, { n: number; ms: number }>();
for (const m of ['exec', 'run'] as const) {
  const orig = (Database.prototype as any)[m];
  (Database.prototype as any)[m] = function (this: any, ...a: any[]) { const t = performance.now(); try { return orig.apply(this, a); } finally { const k = m + (m === 'exec' ? ':' + String(a[0]).split(' ')[0] : ''); const s = stats.get(k) ?? { n: 0, ms: 0 }; s.n++; s.ms += performance.now() - t; stats.set(k, s); } };
}
const { historyProfile, disposeFixtures } = await import('./lib/fixtures.js');
await historyProfile(100000, console.log);
for (const [k, v] of stats) console.log(k, v.n, v.ms.toFixed(0), 'ms');
disposeFixtures();
process.exit(0);
