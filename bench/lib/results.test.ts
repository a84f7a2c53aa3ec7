// The harness's own arithmetic: a wrong quantile or ratio would misreport every scenario.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatTable, goals, makeRow, ResultsSchema, writeResults } from './results.js';
import { median, quantile, round } from './stats.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('stats', () => {
  it('interpolates quantiles between closest ranks and ignores input order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.99)).toBeCloseTo(49.6);
    expect(quantile([7], 0.99)).toBe(7);
    expect(() => quantile([], 0.5)).toThrow();
  });

  it('rounds to significant digits', () => {
    expect(round(12345.678)).toBe(12350);
    expect(round(0.00123456)).toBe(0.001235);
  });
});

describe('result rows', () => {
  it('computes the ratio against the baseline and judges the goal', () => {
    const slow = makeRow('crypto', { metric: 'x', value: 12, unit: 'µs', baseline: { name: 'raw', value: 3 }, goal: goals.ratioAtMost(3) });
    expect(slow).toMatchObject({ ratio: 4, met: false, goal: 'ratio ≤ 3' });
    const both = goals.all(goals.atLeast(10_000, '/s'), goals.ratioAtLeast(0.5));
    expect(makeRow('relay', { metric: 'r', value: 12_000, unit: 'env/s', baseline: { name: 'bare', value: 30_000 }, goal: both }).met).toBe(false);
    expect(makeRow('relay', { metric: 'r', value: 12_000, unit: 'env/s', baseline: { name: 'bare', value: 20_000 }, goal: both }).met).toBe(true);
    const info = makeRow('memory', { metric: 'heap', value: 10, unit: 'MB', goal: goals.info() });
    expect(info).toMatchObject({ baseline: null, ratio: null, met: null });
  });

  it('replaces only the rows of the scenarios that ran, and writes a valid array', () => {
    dir = mkdtempSync(join(tmpdir(), 'refuge-bench-test-'));
    const file = join(dir, 'results.json');
    const row = (scenario: string, value: number) => makeRow(scenario, { metric: 'm', value, unit: 'ms', goal: goals.atMost(5, 'ms') });
    writeResults(file, [row('a', 1), row('b', 2)], ['a', 'b']);
    const saved = writeResults(file, [row('b', 9)], ['b']);
    expect(saved.map((r) => [r.scenario, r.value])).toEqual([
      ['a', 1],
      ['b', 9],
    ]);
    expect(ResultsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8'))).success).toBe(true);
    writeFileSync(file, '{ not json');
    expect(writeResults(file, [row('c', 3)], ['c']).map((r) => r.scenario)).toEqual(['c']);
    expect(formatTable(saved)).toContain('≤ 5 ms');
  });
});
