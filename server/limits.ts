// The relay's limits: sizes, mailbox quotas, token-bucket rate limits and sockets per device.
// Buckets live in this process's memory only (never written anywhere) and a bucket that has
// refilled is forgotten, so they hold no more than "this address/device was busy a moment ago".
// In a cluster each node keeps its own buckets: a client spread over N nodes gets up to N times
// the rate (docs/DEPLOY.md).
import { isIPv4 } from 'node:net';
import { MAX_SOCKET_MESSAGE_BYTES } from '../shared/protocol/events.js';
import { MAX_ENVELOPE_BODY_CHARS } from '../shared/protocol/envelope.js';

/** A bucket of `burst` tokens that refills completely over `windowMs`. */
export interface RateLimit {
  burst: number;
  windowMs: number;
}

export interface RelayLimits {
  /** Largest envelope body accepted (characters = bytes: bodies are base64url). ENVELOPE_TOO_LARGE. */
  maxEnvelopeBytes: number;
  /** Envelopes waiting per device mailbox. MAILBOX_FULL. */
  maxMailboxEnvelopes: number;
  /** Bytes of envelope bodies waiting per device mailbox. MAILBOX_FULL. */
  maxMailboxBytes: number;
  /** Per device: each envelope sent costs 1, any other request except acks costs 1. DEVICE_RATE_LIMITED. */
  deviceRate: RateLimit;
  /** Per device: prekey bundle fetches (each consumes the target's one-time prekeys). BUNDLE_RATE_LIMITED. */
  bundleRate: RateLimit;
  /** Per network address: each connection and each event costs 1. ADDRESS_RATE_LIMITED. */
  addressRate: RateLimit;
  /** Per network address: registrations. REGISTRATION_RATE_LIMITED. */
  registrationRate: RateLimit;
  /** Sockets one device may have authenticated at once (per node). TOO_MANY_SOCKETS. */
  maxSocketsPerDevice: number;
  /** socket.io maxHttpBufferSize: a bigger message closes the socket (the client reports MESSAGE_TOO_LARGE). */
  maxMessageBytes: number;
  /**
   * Loopback addresses (127.0.0.0/8, ::1) skip the per-address limits: a local client, or every
   * client behind a local proxy without --trust-proxy, would otherwise share one bucket.
   */
  exemptLoopback: boolean;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** How long an undelivered envelope is kept by default, and at most. */
export const DEFAULT_RETENTION_MS = 72 * HOUR;
export const MAX_RETENTION_MS = 7 * 24 * HOUR;

export const DEFAULT_LIMITS: RelayLimits = {
  maxEnvelopeBytes: MAX_ENVELOPE_BODY_CHARS,
  maxMailboxEnvelopes: 50_000,
  maxMailboxBytes: 100 * 1024 * 1024,
  deviceRate: { burst: 10_000, windowMs: 5 * SECOND }, // 2,000 envelopes/s sustained
  bundleRate: { burst: 200, windowMs: 10 * MINUTE },
  addressRate: { burst: 2_000, windowMs: 4 * SECOND }, // 500 events/s sustained
  registrationRate: { burst: 10, windowMs: HOUR },
  maxSocketsPerDevice: 10,
  maxMessageBytes: MAX_SOCKET_MESSAGE_BYTES,
  exemptLoopback: true,
};

export function resolveLimits(partial: Partial<RelayLimits> = {}): RelayLimits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  const positive = (name: keyof RelayLimits, value: number) => {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`limit ${name} must be a positive number`);
  };
  positive('maxEnvelopeBytes', limits.maxEnvelopeBytes);
  positive('maxMailboxEnvelopes', limits.maxMailboxEnvelopes);
  positive('maxMailboxBytes', limits.maxMailboxBytes);
  positive('maxSocketsPerDevice', limits.maxSocketsPerDevice);
  positive('maxMessageBytes', limits.maxMessageBytes);
  for (const name of ['deviceRate', 'bundleRate', 'addressRate', 'registrationRate'] as const) {
    positive(name, limits[name].burst);
    positive(name, limits[name].windowMs);
  }
  return limits;
}

/** "10000/5s", "10/1h", "200/10m" -> a RateLimit. */
export function parseRate(text: string): RateLimit {
  const match = /^(\d+)\/(\d+(?:\.\d+)?)?(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`a rate is BURST/WINDOW, e.g. 10000/5s or 10/1h (got ${text})`);
  const burst = Number(match[1]);
  const windowMs = parseDuration(`${match[2] ?? '1'}${match[3]}`);
  if (burst <= 0 || windowMs <= 0) throw new Error(`a rate needs a positive burst and window (got ${text})`);
  return { burst, windowMs };
}

/** "72h", "7d", "90m", "30s", "500ms" -> milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`a duration is a number with ms, s, m, h or d (got ${text})`);
  const unit = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: 24 * HOUR }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(match[1]) * unit);
}

export type Take = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets by key. A bucket is created full; one that has refilled is dropped by sweep(). */
export class TokenBuckets {
  readonly #burst: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit, now: () => number, maxKeys = 200_000) {
    this.#burst = limit.burst;
    this.#windowMs = limit.windowMs;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#buckets.size;
  }

  private level(bucket: Bucket, now: number): number {
    return Math.min(this.#burst, bucket.tokens + (Math.max(0, now - bucket.at) * this.#burst) / this.#windowMs);
  }

  /** Takes `cost` tokens (capped at the burst, so a large request can always pass on a full bucket). */
  take(key: string, cost = 1): Take {
    const now = this.#now();
    const need = Math.min(cost, this.#burst);
    const bucket = this.#buckets.get(key);
    const tokens = bucket ? this.level(bucket, now) : this.#burst;
    if (tokens < need) {
      return { ok: false, retryAfterMs: Math.ceil(((need - tokens) * this.#windowMs) / this.#burst - 1e-6) };
    }
    if (!bucket && this.#buckets.size >= this.#maxKeys) this.sweep();
    if (bucket) {
      bucket.tokens = tokens - need;
      bucket.at = now;
    } else if (this.#buckets.size < this.#maxKeys) {
      this.#buckets.set(key, { tokens: tokens - need, at: now });
    }
    // Past maxKeys (a flood of distinct addresses) new keys pass unrecorded rather than growing memory without bound.
    return { ok: true };
  }

  /** Forgets every bucket that is full again. */
  sweep(): void {
    const now = this.#now();
    for (const [key, bucket] of this.#buckets) if (this.level(bucket, now) >= this.#burst) this.#buckets.delete(key);
  }
}

/** The key an address is limited under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 (one host usually holds a whole /64). */
export function addressKey(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith('::ffff:') && isIPv4(a.slice(7))) a = a.slice(7);
  if (isIPv4(a) || !a.includes(':')) return a;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const [head = '', tail = ''] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export function isLoopback(address: string): boolean {
  const a = address.trim().toLowerCase();
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}
