// The rows every scenario returns, the goals they are judged by, the table printed at the end,
// and bench/results.json (an array of rows; see docs/PERFORMANCE.md).
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { round } from './stats.js';

export const ResultRowSchema = z.object({
  scenario: z.string().min(1),
  metric: z.string().min(1),
  value: z.number().finite(),
  unit: z.string().min(1),
  /** measured in the same run, on the same machine */
  baseline: z.object({ name: z.string().min(1), value: z.number().finite() }).nullable(),
  /** value / baseline.value */
  ratio: z.number().finite().nullable(),
  goal: z.string().min(1),
  /** whether the goal is met; null for rows that only inform */
  met: z.boolean().nullable(),
});
export type ResultRow = z.infer<typeof ResultRowSchema>;
export const ResultsSchema = z.array(ResultRowSchema);

/** A target for one row: its text (as in the issue) and the check. */
export interface Goal {
  text: string;
  check: ((row: { value: number; ratio: number | null }) => boolean) | null;
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 3 });

export const goals = {
  /** value ≤ limit (a time, a size) */
  atMost: (limit: number, unit: string): Goal => ({ text: `≤ ${fmt(limit)} ${unit}`, check: (r) => r.value <= limit }),
  /** value ≥ limit (a rate) */
  atLeast: (limit: number, unit: string): Goal => ({ text: `≥ ${fmt(limit)} ${unit}`, check: (r) => r.value >= limit }),
  ratioAtMost: (limit: number): Goal => ({ text: `ratio ≤ ${fmt(limit)}`, check: (r) => r.ratio !== null && r.ratio <= limit }),
  ratioAtLeast: (limit: number): Goal => ({ text: `ratio ≥ ${fmt(limit)}`, check: (r) => r.ratio !== null && r.ratio >= limit }),
  all: (...parts: Goal[]): Goal => ({
    text: parts.map((p) => p.text).join(' and '),
    check: (r) => parts.every((p) => p.check === null || p.check(r)),
  }),
  /** no target: the row explains another one */
  info: (): Goal => ({ text: 'info', check: null }),
};

export interface RowInput {
  metric: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number } | null;
  goal: Goal;
}

/** Builds a row: rounds the figures, computes the ratio and whether the goal is met. */
export function makeRow(scenario: string, input: RowInput): ResultRow {
  const value = round(input.value);
  const baseline = input.baseline ? { name: input.baseline.name, value: round(input.baseline.value) } : null;
  const ratio = input.baseline && input.baseline.value !== 0 ? round(input.value / input.baseline.value, 3) : null;
  const met = input.goal.check ? input.goal.check({ value: input.value, ratio: input.baseline ? input.value / input.baseline.value : null }) : null;
  return ResultRowSchema.parse({ scenario, metric: input.metric, value, unit: input.unit, baseline, ratio, goal: input.goal.text, met });
}

/** Reads a results file; [] if it does not exist or is not a valid results array. */
export function readResults(path: string): ResultRow[] {
  try {
    const parsed = ResultsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/**
 * Writes `rows` to `path`, keeping the rows of scenarios this run did not touch (so
 * `npm run bench -- crypto` refreshes only the crypto rows), then reads the file back and
 * validates it. Returns what the file now holds.
 */
export function writeResults(path: string, rows: readonly ResultRow[], ranScenarios: readonly string[]): ResultRow[] {
  const ran = new Set(ranScenarios);
  const kept = readResults(path).filter((r) => !ran.has(r.scenario));
  const all = [...kept, ...rows];
  writeFileSync(path, `${JSON.stringify(all, null, 2)}\n`);
  return ResultsSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** A plain-text table of rows. */
export function formatTable(rows: readonly ResultRow[]): string {
  const header = ['scenario', 'metric', 'value', 'baseline', 'ratio', 'goal', 'met'];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)}` : '—',
    r.ratio === null ? '—' : fmt(r.ratio),
    r.goal,
    r.met === null ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The same rows as a Markdown table (for docs/PERFORMANCE.md). */
export function formatMarkdown(rows: readonly ResultRow[]): string {
  const out = ['| scenario | metric | value | baseline (same run) | ratio | goal | met |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    out.push(
      `| ${r.scenario} | ${r.metric} | ${fmt(r.value)} ${r.unit} | ${r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)}` : '—'} | ${
        r.ratio === null ? '—' : fmt(r.ratio)
      } | ${r.goal} | ${r.met === null ? '' : r.met ? 'yes' : '**no**'} |`,
    );
  }
  return out.join('\n');
}
