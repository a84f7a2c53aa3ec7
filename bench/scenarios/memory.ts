// memory: resident memory of a fresh process running the core with a 100,000-message profile
// open (unlocked, conversation list loaded, the big conversation opened and paged back 10
// times), against the same process with an empty profile. Measured in a child process so the
// harness's own heap does not count. Goal: ≤ 200 MB.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';
import { emptyProfile, historyProfile } from '../lib/fixtures.js';
import { goals } from '../lib/results.js';
import { defineScenario } from '../lib/scenario.js';
import { median, repeat } from '../lib/stats.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const CHILD = resolve(ROOT, 'bench/lib/core-child.ts');
const MB = 1024 * 1024;

const ReportSchema = z.object({ rss: z.number(), heapUsed: z.number(), external: z.number(), conversations: z.number(), pages: z.number() });

function measure(dir: string): Promise<z.infer<typeof ReportSchema>> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--expose-gc', CHILD, dir],
      { cwd: ROOT, timeout: 60_000, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return fail(new Error(`core-child failed: ${stderr.trim() || error.message}`));
        try {
          done(ReportSchema.parse(JSON.parse(stdout.trim().split('\n').pop() ?? '')));
        } catch (e) {
          fail(new Error(`core-child printed no report: ${(e as Error).message}`));
        }
      },
    );
  });
}

export default defineScenario({
  name: 'memory',
  description: 'RSS of a process with a 100,000-message profile open vs an empty profile',
  async run(ctx) {
    const history = await historyProfile(ctx.size(100_000, 2_000), ctx.log);
    const empty = await emptyProfile();
    const samples = await repeat(Math.min(ctx.reps, 3), async () => {
      const base = await measure(empty.dir);
      const full = await measure(history.dir);
      if (full.pages < 2) throw new Error('the big conversation was not opened');
      return { base, full };
    });
    const rss = median(samples.map((s) => s.full.rss)) / MB;
    const baseRss = median(samples.map((s) => s.base.rss)) / MB;
    ctx.log(`rss ${rss.toFixed(1)} MB (empty profile ${baseRss.toFixed(1)} MB)`);
    return [
      ctx.row({ metric: 'rss_profile_open', value: rss, unit: 'MB', baseline: { name: 'empty profile', value: baseRss }, goal: goals.atMost(200, 'MB') }),
      ctx.row({
        metric: 'js_heap_used',
        value: median(samples.map((s) => s.full.heapUsed)) / MB,
        unit: 'MB',
        baseline: { name: 'empty profile', value: median(samples.map((s) => s.base.heapUsed)) / MB },
        goal: goals.info(),
      }),
    ];
  },
});
