// The scenario registry: one line per scenario, in the order `npm run bench` runs them.
// To add one: write bench/scenarios/NAME.ts (default export: defineScenario({...})) and add
// its line here. Loading is lazy, so a scenario's dependencies load only when it runs.
import type { Scenario } from '../lib/scenario.js';

export const registry: Record<string, () => Promise<{ default: Scenario }>> = {
  crypto: () => import('./crypto.js'),
  send: () => import('./send.js'),
  relay: () => import('./relay.js'),
  relay_cluster: () => import('./relay_cluster.js'),
  startup: () => import('./startup.js'),
  convo_open: () => import('./convo_open.js'),
  store: () => import('./store.js'),
  memory: () => import('./memory.js'),
  search: () => import('./search.js'),
  group_send: () => import('./group_send.js'),
  backup: () => import('./backup.js'),
};
