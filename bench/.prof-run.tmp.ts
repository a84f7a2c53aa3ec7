// profile one scenario in-process: node --cpu-prof --import tsx bench/.prof-run.tmp.ts NAME [quick]
import { createContext } from './lib/scenario.js';
import { registry } from './scenarios/index.js';
const name = process.argv[2] as string;
const scenario = (await registry[name]!()).default;
const { ctx, cleanup } = createContext(name, { quick: process.argv[3] === 'quick', reps: Number(process.env.REPS ?? 3), log: console.log });
console.log(await scenario.run(ctx));
await cleanup();
process.exit(0);
