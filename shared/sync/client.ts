// RelayClient: one socket.io connection to the relay with typed, promise-returning requests.
// Every request is validated before it is sent and every reply is validated against its zod
// schema; failures are RefugeError(code, message). No reconnection here: the SyncEngine owns
// the reconnect policy and builds a fresh RelayClient per connection.
import { io, type Socket } from 'socket.io-client';
import { RefugeError } from '../ipc/contract.js';
import type { OutgoingEnvelope } from '../protocol/envelope.js';
import {
  type ClientEventName,
  clientEvents,
  type EnvelopeBatch,
  EnvelopeBatchSchema,
  type EnvelopeSendResult,
  ErrorBodySchema,
  ErrorReplySchema,
  type EventReply,
  type EventRequest,
  MailboxDrainedSchema,
  type RelayErrorEvent,
  RelayErrorEventSchema,
} from '../protocol/events.js';
import type { DeviceKeysUpload, PrekeyBundle } from '../protocol/keys.js';
import { RelayRefusal, SyncErrorCode, toRefugeError } from './errors.js';

/** WebSocket close code "Message Too Big": the relay's socket.io limit (maxHttpBufferSize) was exceeded. */
const CLOSE_MESSAGE_TOO_BIG = 1009;

/** The close code in socket.io-client's disconnect details, when the transport reports one. */
function closeCode(details: unknown): number | undefined {
  const context = (details as { context?: unknown } | undefined)?.context;
  const code = (context as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export interface RelayClientOptions {
  /** Per-request timeout. Default 15 s. */
  timeoutMs?: number;
  /** Connect timeout. Default 10 s. */
  connectTimeoutMs?: number;
  /** socket.io transports, tried in order. Default websocket, then long-polling. */
  transports?: Array<'websocket' | 'polling'>;
}

export interface PrekeyCounts {
  oneTimePrekeys: number;
  kyberOneTimePrekeys: number;
}

type Unsubscribe = () => void;

function strip<T extends { ok: true }>(reply: T): Omit<T, 'ok'> {
  const { ok: _ok, ...rest } = reply;
  return rest;
}

export class RelayClient {
  readonly serverUrl: string;
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #pending = new Set<(error: RefugeError) => void>();
  #closed = false;
  #everConnected = false;
  #resolveClosed!: (reason: string) => void;
  /** Resolves (with a reason) once this connection is over: lost, refused, or close() called. */
  readonly closed: Promise<string>;

  constructor(serverUrl: string, options: RelayClientOptions = {}) {
    this.serverUrl = serverUrl;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const transports = options.transports ?? ['websocket', 'polling'];
    try {
      this.#socket = io(serverUrl, {
        autoConnect: false,
        reconnection: false,
        forceNew: true,
        transports,
        tryAllTransports: transports.length > 1,
        timeout: this.#connectTimeoutMs,
      });
    } catch (e) {
      throw new RefugeError(SyncErrorCode.RELAY_UNREACHABLE, `invalid relay URL ${serverUrl}: ${toRefugeError(e).message}`);
    }
    this.#socket.on('disconnect', (reason, details) => {
      if (closeCode(details) === CLOSE_MESSAGE_TOO_BIG) {
        this.#ended('the relay closed the connection: a message was larger than it accepts', SyncErrorCode.MESSAGE_TOO_LARGE);
      } else {
        this.#ended(`disconnected: ${reason}`);
      }
    });
  }

  get connected(): boolean {
    return !this.#closed && this.#socket.connected;
  }

  #ended(reason: string, code: string = SyncErrorCode.RELAY_UNREACHABLE): void {
    const error = new RefugeError(code, `connection to the relay lost (${reason})`);
    for (const reject of [...this.#pending]) reject(error);
    this.#pending.clear();
    if (!this.#closed) {
      this.#closed = true;
      this.#socket.disconnect();
    }
    this.#resolveClosed(reason);
  }

  /** Opens the connection; rejects with RELAY_UNREACHABLE. Call once. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new RefugeError(SyncErrorCode.RELAY_UNREACHABLE, 'connection closed'));
    if (this.#everConnected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: RefugeError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#socket.off('connect', onConnect);
        this.#socket.off('connect_error', onError);
        this.#pending.delete(onClose);
        if (error) {
          this.#ended(error.message);
          reject(error);
        } else {
          this.#everConnected = true;
          resolve();
        }
      };
      const unreachable = (why: string) =>
        new RefugeError(SyncErrorCode.RELAY_UNREACHABLE, `cannot reach the relay at ${this.serverUrl}: ${why}`);
      const onConnect = () => finish();
      const onError = (e: Error) => {
        // the relay refused the connection itself (e.g. ADDRESS_RATE_LIMITED): keep its code
        const refusal = ErrorBodySchema.safeParse((e as Error & { data?: unknown }).data);
        finish(refusal.success ? new RelayRefusal(refusal.data.code, refusal.data.message, refusal.data.retryAfterMs) : unreachable(e.message));
      };
      const onClose = (e: RefugeError) => finish(e);
      const timer = setTimeout(() => finish(unreachable('timed out')), this.#connectTimeoutMs);
      this.#pending.add(onClose);
      this.#socket.on('connect', onConnect);
      this.#socket.on('connect_error', onError);
      this.#socket.connect();
    });
  }

  /** Sends one event and resolves with its validated success reply (without `ok`). */
  async request<E extends ClientEventName>(event: E, payload: EventRequest<E>): Promise<Omit<EventReply<E>, 'ok'>> {
    const spec = clientEvents[event];
    const checked = spec.request.safeParse(payload);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new RefugeError(SyncErrorCode.BAD_REQUEST, `${event}: ${issue ? `${issue.path.join('.') || 'payload'}: ${issue.message}` : 'invalid'}`);
    }
    if (!this.connected) throw new RefugeError(SyncErrorCode.RELAY_UNREACHABLE, 'not connected to the relay');
    const reply = await new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const done = () => {
        settled = true;
        clearTimeout(timer);
        this.#pending.delete(onClose);
      };
      const onClose = (error: RefugeError) => {
        if (settled) return;
        done();
        reject(error);
      };
      const timer = setTimeout(() => {
        if (settled) return;
        done();
        reject(new RefugeError(SyncErrorCode.RELAY_TIMEOUT, `the relay did not answer ${event} in time`));
      }, this.#timeoutMs);
      this.#pending.add(onClose);
      this.#socket.emit(event, payload, (value: unknown) => {
        if (settled) return;
        done();
        resolve(value);
      });
    });
    const failure = ErrorReplySchema.safeParse(reply);
    if (failure.success) {
      const { code, message, retryAfterMs } = failure.data.error;
      throw new RelayRefusal(code, message, retryAfterMs);
    }
    const success = spec.reply.safeParse(reply);
    if (!success.success) throw new RefugeError(SyncErrorCode.PROTOCOL_ERROR, `unexpected reply to ${event}`);
    return strip(success.data as EventReply<E>);
  }

  /** A fresh auth challenge (base64url, 32 bytes). */
  hello(): Promise<{ challenge: string }> {
    return this.request('hello', {});
  }

  /** Authenticates this socket as username/deviceId. */
  auth(signed: { username: string; deviceId: number; signature: string }): Promise<{ username: string; deviceId: number }> {
    return this.request('auth', { username: signed.username, deviceId: signed.deviceId, signature: signed.signature });
  }

  /** Creates the account with its first device; authenticates this socket. */
  register(input: { username: string; deviceId: number; keys: DeviceKeysUpload; signature: string }): Promise<{ username: string; deviceId: number }> {
    return this.request('register', input);
  }

  /** One prekey bundle per device of `username` (USER_NOT_FOUND if none). Needs auth. */
  async fetchBundles(username: string): Promise<PrekeyBundle[]> {
    return (await this.request('bundle.fetch', { username })).bundles;
  }

  /** Adds one-time prekeys, rotates the signed and last-resort prekeys. Needs auth. */
  uploadPrekeys(keys: DeviceKeysUpload): Promise<PrekeyCounts> {
    return this.request('prekeys.upload', { keys });
  }

  /** Unused one-time prekeys the relay holds for this device. Needs auth. */
  prekeyCount(): Promise<PrekeyCounts> {
    return this.request('prekeys.count', {});
  }

  /** Stores envelopes in the recipients' mailboxes; one result per envelope. Needs auth. */
  async sendEnvelopes(envelopes: OutgoingEnvelope[]): Promise<EnvelopeSendResult[]> {
    return (await this.request('envelopes.send', { envelopes })).results;
  }

  /** Deletes envelopes from this device's mailbox; returns how many were deleted. Needs auth. */
  async ack(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.request('envelopes.ack', { ids })).deleted;
  }

  /** Envelope batches pushed by the relay (after auth). An invalid batch is reported to onError and dropped. */
  onEnvelopes(listener: (batch: EnvelopeBatch) => void, onError?: (error: RefugeError) => void): Unsubscribe {
    const handler = (payload: unknown) => {
      const parsed = EnvelopeBatchSchema.safeParse(payload);
      if (parsed.success) listener(parsed.data);
      else onError?.(new RefugeError(SyncErrorCode.PROTOCOL_ERROR, 'the relay pushed an invalid envelope batch'));
    };
    this.#socket.on('envelopes', handler);
    return () => void this.#socket.off('envelopes', handler);
  }

  /** The relay reports this device's mailbox empty (everything delivered was acked). */
  onDrained(listener: () => void): Unsubscribe {
    const handler = (payload: unknown) => {
      if (MailboxDrainedSchema.safeParse(payload ?? {}).success) listener();
    };
    this.#socket.on('mailbox.drained', handler);
    return () => void this.#socket.off('mailbox.drained', handler);
  }

  /** Refusals the relay pushes without a request to answer (an event sent without ack, or just before it closes the socket). */
  onRelayError(listener: (error: RelayErrorEvent) => void): Unsubscribe {
    const handler = (payload: unknown) => {
      const parsed = RelayErrorEventSchema.safeParse(payload);
      if (parsed.success) listener(parsed.data);
    };
    this.#socket.on('relay.error', handler);
    return () => void this.#socket.off('relay.error', handler);
  }

  /** Closes the connection (idempotent); outstanding requests reject with RELAY_UNREACHABLE. */
  close(): void {
    if (this.#closed) return;
    this.#ended('closed by client');
  }
}
