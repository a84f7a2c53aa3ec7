// The client sync loop shared by the renderer and the CLI:
//   connect -> hello -> core signs -> auth -> receive pushed batches (one at a time) -> core.receive
//   -> ack exactly the ids the core returned; flush the outbox -> markSent what the relay accepted.
// Reconnects with exponential backoff and jitter, re-authenticating on every connection.
import type { EnvelopeResult } from '../ipc/contract.js';
import { RefugeError } from '../ipc/contract.js';
import { type EnvelopeBatch, isTransientErrorCode } from '../protocol/events.js';
import { RelayClient, type RelayClientOptions } from './client.js';
import type { SyncCore } from './core.js';
import { Emitter } from './emitter.js';
import { RelayRefusal, SyncErrorCode, toRefugeError } from './errors.js';
import { flushOutboxWith, type OutboxRejection } from './outbox.js';

export type SyncState = 'connecting' | 'online' | 'offline';

export interface SyncEvents extends Record<string, unknown> {
  /** Connection state changes. */
  state: SyncState;
  /** A batch the core stored: its results, in the core's order (every id was acked). */
  received: EnvelopeResult[];
  /** Outbox ids the relay accepted (already marked sent). */
  sent: string[];
  /** Something went wrong; the engine keeps going (reconnecting where needed). */
  error: RefugeError;
}

export interface BackoffOptions {
  /** First retry delay. Default 500 ms. */
  initialMs?: number;
  /** Cap. Default 30 s. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Fraction of the delay that is randomised (0..1). Default 0.5. */
  jitter?: number;
}

export interface SyncEngineOptions extends RelayClientOptions {
  serverUrl: string;
  core: SyncCore;
  /** Outbox envelopes per pending() call and per relay batch. Default 200. */
  outboxBatch?: number;
  backoff?: BackoffOptions;
  /** Random source for jitter (tests). Default Math.random. */
  random?: () => number;
}

export interface DrainOptions {
  /** Reject with DRAIN_TIMEOUT after this long. Default: wait indefinitely. */
  timeoutMs?: number;
  /**
   * Reject on the first failure to establish the connection (unreachable relay, AUTH_FAILED) or
   * when the core fails to receive, instead of waiting through reconnects. Default true.
   */
  failFast?: boolean;
}

interface DrainWaiter {
  resolve: () => void;
  reject: (error: RefugeError) => void;
  failFast: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** How long the receipts of received messages may wait to be sent (see #flushSoon). */
export const RECEIPT_FLUSH_DELAY_MS = 250;

export class SyncEngine extends Emitter<SyncEvents> {
  readonly serverUrl: string;
  readonly #core: SyncCore;
  readonly #options: SyncEngineOptions;
  readonly #random: () => number;

  #state: SyncState = 'offline';
  #running = false;
  #loopDone: Promise<void> = Promise.resolve();
  #client: RelayClient | undefined;
  #attempt = 0;
  #wake: (() => void) | undefined;

  /** One receive batch at a time, across connections. */
  #receiveChain: Promise<void> = Promise.resolve();
  #receiving = 0;
  #mailboxDrained = false;

  #flushing: Promise<void> | undefined;
  #flushAgain = false;
  #outboxClean = false;
  /** Outbox ids the relay rejected for good (kept for this engine's life so they are not resent in a loop). */
  readonly #rejected = new Set<string>();
  /** A flush the relay deferred (rate limit, full mailbox) runs again when this fires. */
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The flush that sends the receipts of what was just received (see #flushSoon). */
  #receiptTimer: ReturnType<typeof setTimeout> | undefined;

  readonly #drainWaiters = new Set<DrainWaiter>();

  constructor(options: SyncEngineOptions) {
    super();
    this.serverUrl = options.serverUrl;
    this.#core = options.core;
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  get state(): SyncState {
    return this.#state;
  }

  /** Starts connecting (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loopDone = this.#loop();
  }

  /**
   * Stops: lets the batch being received finish (stored and acked) and the outbox batch in flight
   * be answered, skips anything queued, disconnects and stops reconnecting.
   */
  async stop(): Promise<void> {
    this.#rejectDrains(new RefugeError(SyncErrorCode.SYNC_STOPPED, 'sync stopped'));
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#receiptTimer) clearTimeout(this.#receiptTimer);
    this.#receiptTimer = undefined;
    if (this.#running) {
      this.#running = false;
      this.#wake?.();
      await this.#receiveChain;
      await this.#flushing;
      this.#client?.close();
    }
    await this.#loopDone;
    await this.#receiveChain;
  }

  /** Flush the outbox now (e.g. after messages.send); when offline, retry the connection now. */
  kick(): void {
    this.#outboxClean = false;
    if (!this.#running) return;
    if (this.#state === 'online') void this.#flush();
    else this.#wake?.();
  }

  /**
   * Resolves once connected and authenticated, the outbox is flushed, and the relay reports the
   * mailbox empty with every received batch stored and acked. Starts the engine if needed.
   */
  drain(options: DrainOptions = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: DrainWaiter = {
        resolve: () => {
          if (waiter.timer) clearTimeout(waiter.timer);
          this.#drainWaiters.delete(waiter);
          resolve();
        },
        reject: (error) => {
          if (waiter.timer) clearTimeout(waiter.timer);
          this.#drainWaiters.delete(waiter);
          reject(error);
        },
        failFast: options.failFast ?? true,
        timer: undefined,
      };
      if (options.timeoutMs !== undefined) {
        waiter.timer = setTimeout(
          () => waiter.reject(new RefugeError(SyncErrorCode.DRAIN_TIMEOUT, 'sync did not finish in time')),
          options.timeoutMs,
        );
      }
      this.#drainWaiters.add(waiter);
      if (this.#running) this.kick(); // "outbox flushed" means: as of this call
      else this.start();
    });
  }

  // ---------------------------------------------------------------- internals

  #setState(state: SyncState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  #error(error: unknown, fallbackCode?: string): RefugeError {
    const e = toRefugeError(error, fallbackCode);
    this.emit('error', e);
    return e;
  }

  /** A failure that makes drain() pointless to keep waiting for (when failFast). */
  #fatal(error: RefugeError): void {
    for (const waiter of [...this.#drainWaiters]) if (waiter.failFast) waiter.reject(error);
  }

  #rejectDrains(error: RefugeError): void {
    for (const waiter of [...this.#drainWaiters]) waiter.reject(error);
  }

  #checkDrain(): void {
    if (this.#drainWaiters.size === 0) return;
    if (
      this.#state === 'online' &&
      this.#mailboxDrained &&
      this.#outboxClean &&
      this.#receiving === 0 &&
      this.#flushing === undefined
    ) {
      for (const waiter of [...this.#drainWaiters]) waiter.resolve();
    }
  }

  #backoffDelay(attempt: number): number {
    const b = this.#options.backoff ?? {};
    const initial = b.initialMs ?? 500;
    const max = b.maxMs ?? 30_000;
    const factor = b.factor ?? 2;
    const jitter = Math.min(1, Math.max(0, b.jitter ?? 0.5));
    const base = Math.min(max, initial * factor ** Math.min(attempt, 30));
    return Math.round(base * (1 - jitter * this.#random()));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      this.#setState('connecting');
      const client = new RelayClient(this.serverUrl, this.#options);
      this.#client = client;
      this.#mailboxDrained = false;
      this.#outboxClean = false;
      let established = false;
      try {
        client.onEnvelopes(
          (batch) => this.#enqueueBatch(client, batch),
          (error) => {
            this.#error(error);
            client.close();
          },
        );
        client.onDrained(() => {
          if (client !== this.#client) return;
          this.#attempt = 0;
          this.#mailboxDrained = true;
          this.#checkDrain();
        });
        await client.connect();
        const { challenge } = await client.hello();
        const signed = await this.#core.signChallenge(challenge);
        await client.auth(signed);
        if (this.#running && client.connected) {
          established = true;
          this.#setState('online');
          void this.#flush();
          void this.#refillPrekeys(client);
          await client.closed;
        }
      } catch (e) {
        if (this.#running && !established) this.#fatal(this.#error(e, SyncErrorCode.RELAY_UNREACHABLE));
      } finally {
        client.close();
        if (this.#client === client) this.#client = undefined;
        this.#mailboxDrained = false;
      }
      if (!this.#running) break;
      this.#setState('offline');
      await this.#sleep(this.#backoffDelay(this.#attempt++));
    }
    this.#setState('offline');
  }

  #enqueueBatch(client: RelayClient, batch: EnvelopeBatch): void {
    this.#mailboxDrained = false;
    this.#receiving++;
    this.#receiveChain = this.#receiveChain
      .then(() => this.#receiveBatch(client, batch))
      .finally(() => {
        this.#receiving--;
        this.#checkDrain();
      });
  }

  async #receiveBatch(client: RelayClient, batch: EnvelopeBatch): Promise<void> {
    // A batch from a connection that is gone (or after stop()) is dropped: nothing was acked, the relay redelivers.
    if (!this.#running || client !== this.#client || !client.connected) return;
    let results: EnvelopeResult[];
    try {
      results = await this.#core.receive(batch.envelopes);
    } catch (e) {
      const cause = toRefugeError(e, SyncErrorCode.CORE_RECEIVE_FAILED);
      this.#fatal(this.#error(new RefugeError(SyncErrorCode.CORE_RECEIVE_FAILED, `could not store received messages: ${cause.message}`)));
      // Ack nothing and drop this connection: the relay redelivers everything unacked on the next one.
      client.close();
      return;
    }
    const delivered = new Set(batch.envelopes.map((e) => e.id));
    const ackable = [...new Set(results.map((r) => r.id).filter((id) => delivered.has(id)))];
    this.emit('received', results);
    if (ackable.length === 0) return;
    for (let attempt = 0; ; attempt++) {
      try {
        await client.ack(ackable);
        this.#attempt = 0;
      } catch (e) {
        // Rate limited: the relay keeps these in flight until acked, so wait and ack again on this connection.
        if (e instanceof RelayRefusal && isTransientErrorCode(e.code) && attempt < 5 && this.#running && client.connected) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(60_000, Math.max(50, e.retryAfterMs ?? 1000))));
          continue;
        }
        // Stored but not acked: the relay redelivers and the core reports duplicates.
        this.#error(e);
      }
      break;
    }
    // Storing messages queues delivery receipts (and may queue more): send them soon.
    if (results.some((r) => r.outcome === 'stored')) this.#flushSoon();
  }

  /**
   * Flushes within RECEIPT_FLUSH_DELAY_MS: the receipts of every batch received meanwhile go in
   * one relay request, and reach the sender in one batch, instead of one request, one commit
   * here (markSent) and one there (receive) per batch (bench: send). Anything the user sends
   * meanwhile flushes at once (kick), receipts included; a drain() flushes at once too.
   */
  #flushSoon(): void {
    this.#outboxClean = false;
    if (this.#drainWaiters.size > 0) {
      void this.#flush();
      return;
    }
    if (this.#receiptTimer || !this.#running) return;
    this.#receiptTimer = setTimeout(() => {
      this.#receiptTimer = undefined;
      if (this.#running && this.#state === 'online') void this.#flush();
    }, RECEIPT_FLUSH_DELAY_MS);
  }

  /** Tops up the relay's one-time prekeys when it runs low, so new sessions keep forward secrecy from the first message. */
  async #refillPrekeys(client: RelayClient): Promise<void> {
    const refill = this.#core.prekeyRefill?.bind(this.#core);
    if (!refill) return;
    try {
      const keys = await refill(await client.prekeyCount());
      if (keys && client.connected) await client.uploadPrekeys(keys);
    } catch (e) {
      this.#error(e);
    }
  }

  /** Runs the flush again after `ms` (the relay refused for now: a rate limit or a full mailbox). */
  #retryFlushIn(ms: number): void {
    if (this.#retryTimer || !this.#running) return;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.kick();
      },
      Math.min(5 * 60_000, Math.max(250, ms)),
    );
  }

  #flush(): Promise<void> {
    if (this.#flushing) {
      this.#flushAgain = true;
      return this.#flushing;
    }
    const client = this.#client;
    if (!client || !client.connected || this.#state !== 'online') return Promise.resolve();
    this.#flushing = (async () => {
      try {
        let deferred = false;
        do {
          this.#flushAgain = false;
          const result = await flushOutboxWith(client, this.#core, {
            batchSize: this.#options.outboxBatch,
            skip: this.#rejected,
            shouldContinue: () => this.#running && client.connected,
            onSent: (ids) => this.emit('sent', ids),
            onRejected: (r: OutboxRejection) => {
              const retry = r.transient ? ' (will retry)' : '';
              this.#error(new RelayRefusal(r.code, `the relay refused a message for ${r.to} (device ${r.toDeviceId}): ${r.message}${retry}`, r.retryAfterMs));
              // A transient refusal (full mailbox) stays in the outbox and is sent again; only a final one fails the message.
              // Tell the core, so the message shows as failed and the envelope is not resent by the next engine.
              if (!r.transient) void this.#core.markFailed?.([{ id: r.id, code: r.code }]).catch((e: unknown) => this.#error(e));
            },
          });
          if (result.deferred) {
            deferred = true;
            this.#retryFlushIn(result.retryAfterMs ?? 1000);
          }
        } while (this.#flushAgain && this.#running && client.connected && !deferred);
        // Deferred envelopes are still waiting: the outbox is not clean until the relay takes them.
        if (client.connected && this.#running && !deferred) this.#outboxClean = true;
      } catch (e) {
        this.#error(e);
        if (e instanceof RelayRefusal && isTransientErrorCode(e.code) && client.connected) {
          // Rate limited: keep the connection and send again when the relay says it may succeed.
          this.#retryFlushIn(e.retryAfterMs ?? 1000);
        } else {
          // A relay/connection error: the next connection flushes again. A core error: retry after a reconnect too.
          client.close();
        }
      } finally {
        this.#flushing = undefined;
        this.#checkDrain();
      }
    })();
    return this.#flushing;
  }
}
