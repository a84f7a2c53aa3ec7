// Helpers for the CLI tests (not imported by production code): `refuge` as a real process, and
// the JSON lines its --json output prints.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/refuge.mjs with `args`; `env` is added to this process's (cheap Argon2id for test profiles). */
export async function runRefuge(args: string[], env: Record<string, string>, timeout = 90_000): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin/refuge.mjs'), ...args], {
      env: { ...process.env, REFUGE_ARGON2: 'interactive', ...env },
      timeout,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    // execFile's error carries the exit code and both outputs
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** One parsed object per non-empty line of `--json` output. */
export function jsonLines<T>(stdout: string): T[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}
