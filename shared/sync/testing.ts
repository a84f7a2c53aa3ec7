// Test doubles for shared/sync (used by its tests only): an in-memory SyncCore.
import type { EnvelopeResult } from '../ipc/contract.js';
import type { DeliveredEnvelope, OutgoingEnvelope } from '../protocol/envelope.js';
import type { DeviceKeysUpload } from '../protocol/keys.js';
import type { SignedChallenge, SyncCore } from './core.js';

export class FakeCore implements SyncCore {
  readonly stored = new Map<string, DeliveredEnvelope>();
  readonly receiveCalls: string[][] = [];
  readonly outbox: OutgoingEnvelope[] = [];
  readonly markedSent: string[] = [];
  readonly markedFailed: { id: string; code: string }[] = [];
  readonly refillCounts: { oneTimePrekeys: number; kyberOneTimePrekeys: number }[] = [];
  /** what prekeyRefill answers */
  refillWith: DeviceKeysUpload | null = null;
  /** throw from the next N receive calls */
  failNext = 0;
  /** choose which results to return (default: all) */
  select: (results: EnvelopeResult[]) => EnvelopeResult[] = (r) => r;
  /** awaited inside receive, to widen the window for overlapping calls */
  delay: () => Promise<void> = () => new Promise((resolve) => setTimeout(resolve, 1));
  concurrent = 0;
  maxConcurrent = 0;

  constructor(
    readonly username: string,
    readonly sign: (challenge: string) => string,
    readonly deviceId = 1,
  ) {}

  async signChallenge(challenge: string): Promise<SignedChallenge> {
    return { username: this.username, deviceId: this.deviceId, signature: this.sign(challenge) };
  }

  async receive(envelopes: DeliveredEnvelope[]): Promise<EnvelopeResult[]> {
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      this.receiveCalls.push(envelopes.map((e) => e.id));
      await this.delay();
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('disk full');
      }
      const results: EnvelopeResult[] = envelopes.map((e) => {
        const duplicate = this.stored.has(e.id);
        if (!duplicate) this.stored.set(e.id, e);
        return { id: e.id, outcome: duplicate ? 'duplicate' : 'stored' };
      });
      return this.select(results);
    } finally {
      this.concurrent--;
    }
  }

  async pendingOutbox(limit: number): Promise<OutgoingEnvelope[]> {
    const sent = new Set(this.markedSent);
    return this.outbox.filter((e) => !sent.has(e.id)).slice(0, limit);
  }

  async markSent(ids: string[]): Promise<void> {
    this.markedSent.push(...ids);
  }

  async markFailed(failures: { id: string; code: string }[]): Promise<void> {
    this.markedFailed.push(...failures);
  }

  async prekeyRefill(counts: { oneTimePrekeys: number; kyberOneTimePrekeys: number }): Promise<DeviceKeysUpload | null> {
    this.refillCounts.push(counts);
    return this.refillWith;
  }
}
