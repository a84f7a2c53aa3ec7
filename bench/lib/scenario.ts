// What a scenario is, and what the harness hands it. A scenario is one file in bench/scenarios/
// whose default export is defineScenario({...}), plus one line in bench/scenarios/index.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRow, type ResultRow, type RowInput } from './results.js';

export interface ScenarioContext {
  /** tiny sizes: checks that the scenario runs and reports, in seconds (npm test) */
  readonly quick: boolean;
  /** repetitions to take the median of (the harness default, or --reps) */
  readonly reps: number;
  /** a fresh private temp folder, removed after the scenario */
  tmp(prefix: string): string;
  /** registers a cleanup (closing a relay, a core...), run in reverse order after the scenario */
  defer(cleanup: () => unknown): void;
  /** progress for the console (stderr), prefixed with the scenario name */
  log(message: string): void;
  /** builds a result row of this scenario (ratio and `met` computed) */
  row(input: RowInput): ResultRow;
  /** quick ? small : full */
  size<T>(full: T, small: T): T;
}

export interface Scenario {
  /** the name on the command line and in results.json */
  readonly name: string;
  /** one line: what is measured against what */
  readonly description: string;
  run(ctx: ScenarioContext): Promise<ResultRow[]>;
}

export function defineScenario(scenario: Scenario): Scenario {
  if (!/^[a-z][a-z0-9_]*$/.test(scenario.name)) throw new Error(`scenario name ${scenario.name} must be lower_snake_case`);
  return scenario;
}

/** The context for one scenario run and its cleanup. */
export function createContext(name: string, options: { quick: boolean; reps: number; log: (line: string) => void }) {
  const cleanups: Array<() => unknown> = [];
  const ctx: ScenarioContext = {
    quick: options.quick,
    reps: options.reps,
    tmp(prefix) {
      const dir = mkdtempSync(join(tmpdir(), `refuge-bench-${prefix}-`));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
    log(message) {
      options.log(`[${name}] ${message}`);
    },
    row(input) {
      return makeRow(name, input);
    },
    size(full, small) {
      return options.quick ? small : full;
    },
  };
  async function cleanup(): Promise<void> {
    while (cleanups.length > 0) {
      const fn = cleanups.pop();
      try {
        await fn?.();
      } catch (error) {
        options.log(`[${name}] cleanup failed: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }
  return { ctx, cleanup };
}
