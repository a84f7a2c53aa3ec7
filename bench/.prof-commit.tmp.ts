import Database from '@signalapp/sqlcipher';
const stats = new Map<string, { n: number; ms: number }>();
const orig = Database.prototype.exec;
(Database.prototype as any).exec = function (this: Database, sql: string) {
  const t = performance.now();
  try { return orig.call(this, sql); } finally {
    const key = sql.startsWith('SAVEPOINT') || sql.startsWith('RELEASE') ? 'savepoint' : sql.split(' ')[0]!;
    const s = stats.get(key) ?? { n: 0, ms: 0 }; s.n++; s.ms += performance.now() - t; stats.set(key, s);
  }
};
const { createContext } = await import('./lib/scenario.js');
const { registry } = await import('./scenarios/index.js');
const scenario = (await registry[process.argv[2] ?? 'store']!()).default;
const { ctx, cleanup } = createContext(process.argv[2] ?? 'store', { quick: false, reps: 2, log: console.log });
await scenario.run(ctx);
for (const [k, v] of stats) console.log(k, v.n, 'calls', v.ms.toFixed(0), 'ms', (v.ms / v.n).toFixed(3), 'ms/call');
await cleanup(); process.exit(0);
