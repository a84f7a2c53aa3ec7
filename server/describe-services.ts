// describe() for relay tests that need PostgreSQL and Redis (see services-testkit.ts).
import { describe, it } from 'vitest';
import type { ServiceStatus } from './services-testkit.js';

/**
 * describe() for tests that need PostgreSQL and Redis: runs them when both answer; when one is
 * missing, fails under CI=true and otherwise skips with the reason printed.
 */
export function describeWithServices(status: ServiceStatus, name: string, body: () => void): void {
  if (status.available) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs PostgreSQL and Redis (CI=true: missing services fail the run)', () => {
        throw new Error(status.reason);
      });
    });
  } else {
    console.warn(`[skipped] ${name}: ${status.reason} (set CI=true to make this a failure)`);
    describe.skip(name, body);
  }
}

