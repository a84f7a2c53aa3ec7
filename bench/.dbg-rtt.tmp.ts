import { createContext } from './lib/scenario.js';
import { bareClient, startRelayProcess, opaqueBody } from './lib/net.js';
import { quantile, sleep } from './lib/stats.js';
const { ctx, cleanup } = createContext('dbg', { quick: true, reps: 1, log: console.log });
const { bareUrl } = await startRelayProcess(ctx);
const socket = await bareClient(ctx, bareUrl);
const body = opaqueBody(600);
for (const gap of [0, 20]) {
  const lat: number[] = [];
  for (let i = 0; i < 100; i++) { const t0 = performance.now(); await socket.emitWithAck('echo', { body }); lat.push(performance.now() - t0); if (gap) await sleep(gap); }
  console.log('gap', gap, 'p50', quantile(lat, 0.5).toFixed(2), 'p99', quantile(lat, 0.99).toFixed(2));
}
await cleanup(); process.exit(0);
