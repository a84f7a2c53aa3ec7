// Small statistics and timing helpers. Benchmarks report medians of several repetitions, so a
// burst of load from a neighbour moves one sample, not the figure.

/** The q-quantile (0..1) of `values` by linear interpolation between closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of an empty list');
  if (!(q >= 0 && q <= 1)) throw new RangeError('q must be within 0..1');
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function now(): number {
  return performance.now();
}

/** Runs `fn` and returns how long it took, in ms. */
export async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Runs `measure` (which returns one sample) `reps` times after `warmup` discarded runs and
 * returns the samples. Pairs of measurements that share a baseline should be interleaved by
 * the caller (baseline, subject, baseline, subject, ...) so slow phases of a noisy machine hit both.
 */
export async function repeat<T>(reps: number, measure: (rep: number) => Promise<T> | T, warmup = 0): Promise<T[]> {
  for (let i = 0; i < warmup; i++) await measure(-1 - i);
  const samples: T[] = [];
  for (let i = 0; i < reps; i++) samples.push(await measure(i));
  return samples;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rounds to `digits` significant digits (for printing and for results.json). */
export function round(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const factor = 10 ** (digits - 1 - magnitude);
  return Math.round(value * factor) / factor;
}

/** Resolves when `predicate` is true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 60_000, everyMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
