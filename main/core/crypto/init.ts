// initCrypto: awaits libsodium, then sets up the hot path (fast.ts).
import { setupFastPath } from './fast.js';
import { markReady, sodium } from './sodium.js';

let readyPromise: Promise<void> | null = null;

/** Awaits libsodium's initialisation. Idempotent; safe to call concurrently. */
export async function initCrypto(): Promise<void> {
  if (!readyPromise) {
    readyPromise = sodium.ready.then(() => {
      setupFastPath();
      markReady();
    });
  }
  return readyPromise;
}
