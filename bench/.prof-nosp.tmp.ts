// Experiment: the store scenario with nested Store.transaction calls joining the outer one without a savepoint.
const { Store } = await import('../main/core/store/store.js');
const orig = Store.prototype.transaction;
let depth = 0;
if (process.argv[2] === 'nosp') {
  (Store.prototype as any).transaction = function (this: any, fn: () => unknown) {
    if (depth > 0) return fn();
    depth++;
    try { return orig.call(this, fn); } finally { depth--; }
  };
}
const { createContext } = await import('./lib/scenario.js');
const { registry } = await import('./scenarios/index.js');
const scenario = (await registry.store!()).default;
const { ctx, cleanup } = createContext('store', { quick: false, reps: 3, log: console.log });
await scenario.run(ctx);
await cleanup(); process.exit(0);
