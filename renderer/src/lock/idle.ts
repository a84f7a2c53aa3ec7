// The auto-lock clock: fires once after `limitMs` without user activity. Activity only records a
// timestamp (cheap enough for every pointermove); the single timer re-arms itself for the time left
// when it fires early. Uses the global setTimeout/Date at call time, so fake clocks (vitest,
// Playwright's page.clock) drive it.

export interface IdleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: IdleClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class IdleTimer {
  #last = 0;
  #timer: unknown = null;
  #fired = false;

  constructor(
    private readonly limitMs: number,
    private readonly onIdle: () => void,
    private readonly clock: IdleClock = realClock,
  ) {}

  start(): void {
    this.#last = this.clock.now();
    this.#fired = false;
    this.#arm(this.limitMs);
  }

  /**
   * The user did something. If the limit already passed without the timer firing (the machine
   * slept, timers were throttled), this is the moment to lock, not a reason to start over.
   */
  activity(): void {
    if (this.#fired || this.#timer === null) return;
    const now = this.clock.now();
    if (now - this.#last >= this.limitMs) this.#fire();
    else this.#last = now;
  }

  stop(): void {
    if (this.#timer !== null) this.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(ms: number): void {
    this.stop();
    this.#timer = this.clock.setTimeout(() => this.#check(), Math.max(0, ms));
  }

  #check(): void {
    this.#timer = null;
    const idle = this.clock.now() - this.#last;
    if (idle >= this.limitMs) this.#fire();
    else this.#arm(this.limitMs - idle);
  }

  #fire(): void {
    this.stop();
    this.#fired = true;
    this.onIdle();
  }
}

/** What counts as the user being there. */
export const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'focus'] as const;
