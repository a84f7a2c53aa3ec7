import { describe, expect, it } from 'vitest';
import { waitFromMessage } from './retry.js';

describe('waitFromMessage', () => {
  it('reads seconds and minutes', () => {
    expect(waitFromMessage('Too many attempts. Try again in 30 seconds.')).toBe(30_000);
    expect(waitFromMessage('Too many attempts. Wait 2 minutes before trying again.')).toBe(120_000);
    expect(waitFromMessage('Try again in 1 minute 30 seconds.')).toBe(90_000);
    expect(waitFromMessage('Try again in 45s.')).toBe(45_000);
  });

  it('falls back when no duration is stated', () => {
    expect(waitFromMessage('Too many attempts.', 5_000)).toBe(5_000);
    expect(waitFromMessage('Attempt 3 of many')).toBe(30_000);
  });
});
