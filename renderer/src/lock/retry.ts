// After too many wrong passphrases the core refuses attempts for a while and says how long in its
// message ("Too many attempts. Try again in 30 seconds."). Only { code, message } cross the
// boundary, so the wait is read from the message to disable the button meanwhile.

const UNITS: Array<[RegExp, number]> = [
  [/^(h|hr|hrs|hours?)$/i, 3_600_000],
  [/^(m|min|mins|minutes?)$/i, 60_000],
  [/^(s|sec|secs|seconds?)$/i, 1_000],
  [/^(ms|milliseconds?)$/i, 1],
];

/** Milliseconds to wait as stated in the message; `fallbackMs` when it states no duration. */
export function waitFromMessage(message: string, fallbackMs = 30_000): number {
  let total = 0;
  let found = false;
  for (const match of message.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/gi)) {
    const [, amount, unit] = match;
    if (!amount || !unit) continue;
    const scale = UNITS.find(([re]) => re.test(unit))?.[1];
    if (scale === undefined) continue;
    total += Number(amount) * scale;
    found = true;
  }
  return found ? Math.ceil(total) : fallbackMs;
}
