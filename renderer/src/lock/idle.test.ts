import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleTimer } from './idle.js';

const MIN = 60_000;

describe('IdleTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once after the limit without activity', () => {
    const onIdle = vi.fn();
    new IdleTimer(5 * MIN, onIdle).start();
    vi.advanceTimersByTime(5 * MIN - 1);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60 * MIN);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('activity pushes the deadline back', () => {
    const onIdle = vi.fn();
    const timer = new IdleTimer(5 * MIN, onIdle);
    timer.start();
    vi.advanceTimersByTime(4 * MIN);
    timer.activity();
    vi.advanceTimersByTime(4 * MIN);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1 * MIN);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('locks on the first activity after the machine slept past the limit', () => {
    const onIdle = vi.fn();
    const timer = new IdleTimer(5 * MIN, onIdle);
    timer.start();
    // the clock jumps (lid closed) but the timer has not run yet
    vi.setSystemTime(Date.now() + 10 * MIN);
    timer.activity();
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('does nothing after stop', () => {
    const onIdle = vi.fn();
    const timer = new IdleTimer(1 * MIN, onIdle);
    timer.start();
    timer.stop();
    vi.advanceTimersByTime(10 * MIN);
    timer.activity();
    expect(onIdle).not.toHaveBeenCalled();
  });
});
