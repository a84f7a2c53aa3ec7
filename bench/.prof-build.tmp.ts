import { historyProfile, disposeFixtures } from './lib/fixtures.js';
await historyProfile(100000, console.log);
disposeFixtures();
process.exit(0);
