// Randomised conversations: thousands of messages both ways, random interleaving, reordering
// within a window, lost messages, and states persisted and restored along the way.
import { beforeAll, describe, expect, it } from 'vitest';
import { acceptPrekeyMessage, decryptMessage, deserializeSession, encryptMessage, initCrypto, initiateSession, serializeSession, type SessionState } from './index.js';
import { makeDevice, prng, str, text } from './test-support.js';

beforeAll(async () => {
  await initCrypto();
});

interface InFlight {
  ciphertext: Uint8Array;
  plaintext: string;
}

function converse(seed: number, totalMessages: number) {
  const random = prng(seed);
  const alice = makeDevice('alice');
  const bob = makeDevice('bob');
  let a: SessionState = initiateSession(alice.identity, bob.bundle(), 0);
  let b: SessionState | null = null;
  const toBob: InFlight[] = [];
  const toAlice: InFlight[] = [];
  const stats = { sent: 0, delivered: 0, lost: 0, outOfOrder: 0, restored: 0, prekeyAccepted: 0 };
  let now = 0;
  const WINDOW = 12; // reordering window: at most WINDOW - 1 messages overtake another
  const LOSS = 0.02;

  const deliver = (queue: InFlight[], toBobSide: boolean) => {
    const index = Math.floor(random() * Math.min(WINDOW, queue.length));
    if (index > 0) stats.outOfOrder++;
    const [message] = queue.splice(index, 1);
    if (!message) return;
    if (random() < LOSS) {
      stats.lost++;
      return;
    }
    if (toBobSide) {
      if (b === null) {
        const accepted = acceptPrekeyMessage(bob.keys, message.ciphertext, now);
        bob.consume(accepted.consumed);
        stats.prekeyAccepted++;
        b = accepted.session;
        expect(str(accepted.plaintext)).toBe(message.plaintext);
      } else {
        const out = decryptMessage(b, message.ciphertext, now);
        expect(str(out.plaintext)).toBe(message.plaintext);
        b = out.session;
      }
    } else {
      const out = decryptMessage(a, message.ciphertext, now);
      expect(str(out.plaintext)).toBe(message.plaintext);
      a = out.session;
    }
    stats.delivered++;
  };

  while (stats.sent < totalMessages) {
    now += Math.floor(random() * 1000);
    const r = random();
    // bursts: a side often sends several in a row, so chains of varying length form
    if (r < 0.3) {
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) {
        const plaintext = `a${stats.sent}:${'x'.repeat(Math.floor(random() * 300))}`;
        const out = encryptMessage(a, text(plaintext), now);
        a = out.session;
        toBob.push({ ciphertext: out.ciphertext, plaintext });
        stats.sent++;
      }
    } else if (r < 0.6 && b !== null) {
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) {
        const plaintext = `b${stats.sent}:${'y'.repeat(Math.floor(random() * 300))}`;
        const out = encryptMessage(b, text(plaintext), now);
        b = out.session;
        toAlice.push({ ciphertext: out.ciphertext, plaintext });
        stats.sent++;
      }
    } else if (r < 0.8) {
      if (toBob.length > 0) deliver(toBob, true);
    } else if (r < 0.97) {
      if (toAlice.length > 0) deliver(toAlice, false);
    } else {
      // persist and restore both sides, as the store does between messages
      a = deserializeSession(serializeSession(a));
      if (b !== null) b = deserializeSession(serializeSession(b));
      stats.restored++;
    }
  }
  while (toBob.length > 0 || toAlice.length > 0) {
    if (toBob.length > 0) deliver(toBob, true);
    if (toAlice.length > 0) deliver(toAlice, false);
  }
  return { stats, a, b };
}

describe('randomised conversations', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: every delivered message decrypts to what was sent, in any order within the window`, () => {
      const { stats, a, b } = converse(seed, 2000);
      expect(stats.sent).toBeGreaterThanOrEqual(2000);
      expect(stats.delivered + stats.lost).toBe(stats.sent);
      expect(stats.outOfOrder).toBeGreaterThan(200);
      expect(stats.lost).toBeGreaterThan(5);
      expect(stats.restored).toBeGreaterThan(10);
      expect(stats.prekeyAccepted).toBe(1);
      // keys of lost messages are still waiting (bounded), everything else was deleted on use
      if (b === null) throw new Error('bob never received anything');
      expect(a.skipped.size + b.skipped.size).toBeLessThanOrEqual(stats.lost);
    });
  }
});
