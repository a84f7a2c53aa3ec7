// `npm run bench [-- [--quick] [--reps N] [--out FILE] [--markdown] [SCENARIO ...]]`
// Runs the scenarios (all, or the ones named) one after another in this process, prints a
// table, and writes the rows to bench/results.json (bench/results.quick.json with --quick).
// --quick runs every scenario with tiny sizes: it checks that each runs and reports well-formed
// rows (npm test runs it), never whether a goal is met. Goals never fail the run.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMarkdown, formatTable, type ResultRow, ResultRowSchema, writeResults } from './lib/results.js';
import { disposeFixtures } from './lib/fixtures.js';
import { createContext } from './lib/scenario.js';
import { registry } from './scenarios/index.js';

const HERE = resolve(fileURLToPath(import.meta.url), '..');
const USAGE = `usage: npm run bench -- [--quick] [--reps N] [--out FILE] [--markdown] [SCENARIO ...]
  --quick     tiny sizes, 1 repetition: checks every scenario runs and reports (npm test)
  --reps N    repetitions to take the median of (default 5; some scenarios cap it)
  --out FILE  where to write the rows (default bench/results.json, or results.quick.json)
  --markdown  print the table as Markdown (for docs/PERFORMANCE.md)
scenarios: ${Object.keys(registry).join(', ')}`;

interface Options {
  quick: boolean;
  markdown: boolean;
  reps: number | undefined;
  out: string | undefined;
  names: string[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = { quick: false, markdown: false, reps: undefined, out: undefined, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--markdown') options.markdown = true;
    else if (arg === '--reps' || arg === '--out') {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      if (arg === '--out') options.out = value;
      else {
        const reps = Number(value);
        if (!Number.isInteger(reps) || reps < 1 || reps > 50) throw new Error('--reps must be 1..50');
        options.reps = reps;
      }
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else if (!(arg in registry)) throw new Error(`unknown scenario ${arg}`);
    else options.names.push(arg);
  }
  return options;
}

/** Per scenario: a hung scenario must not hang `npm test`. */
const TIMEOUT_MS = { quick: 60_000, full: 240_000 };

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const names = options.names.length > 0 ? options.names : Object.keys(registry);
  const reps = options.reps ?? (options.quick ? 1 : 5);
  const out = resolve(options.out ?? resolve(HERE, options.quick ? 'results.quick.json' : 'results.json'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  const rows: ResultRow[] = [];
  const failures: string[] = [];

  for (const name of names) {
    const load = registry[name];
    if (!load) continue;
    const scenario = (await load()).default;
    const { ctx, cleanup } = createContext(name, { quick: options.quick, reps, log });
    const t0 = performance.now();
    log(`[${name}] ${scenario.description}`);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeoutMs = options.quick ? TIMEOUT_MS.quick : TIMEOUT_MS.full;
      const produced = await Promise.race([
        scenario.run(ctx),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
      if (produced.length === 0) throw new Error('reported no rows');
      for (const row of produced) {
        const checked = ResultRowSchema.parse(row);
        if (checked.scenario !== name) throw new Error(`reported a row for ${checked.scenario}`);
        rows.push(checked);
      }
      log(`[${name}] done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (error) {
      failures.push(name);
      log(`[${name}] FAILED: ${(error as Error)?.stack ?? String(error)}`);
    } finally {
      clearTimeout(timer);
      await cleanup();
    }
  }

  disposeFixtures();
  // A failed scenario's old rows go too: stale figures next to fresh ones would mislead.
  const saved = writeResults(out, rows, names);
  process.stdout.write(`\n${options.markdown ? formatMarkdown(rows) : formatTable(rows)}\n\n`);
  const missed = rows.filter((r) => r.met === false).length;
  process.stdout.write(
    `${rows.length} rows from ${names.length - failures.length}/${names.length} scenarios in ${((performance.now() - started) / 1000).toFixed(1)} s` +
      `${options.quick ? ' (quick: sizes too small for the goals to mean anything)' : `; goals missed: ${missed}`}\n` +
      `wrote ${saved.length} rows to ${out}\n`,
  );
  if (failures.length > 0) process.stdout.write(`FAILED: ${failures.join(', ')}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error)?.message ?? String(error)}\n${USAGE}\n`);
    process.exit(2);
  },
);
