// A rough passphrase strength hint for the change-passphrase form. Not a security boundary (the
// core's Argon2id is): it nudges people away from short, common or repetitive choices.

export const MIN_PASSPHRASE = 8;

export type Strength = 'short' | 'weak' | 'fair' | 'good' | 'strong';

const COMMON = ['password', 'passphrase', 'qwerty', 'letmein', 'iloveyou', 'admin', 'welcome', 'refuge', 'abc123', '123456', '111111', 'dragon', 'monkey', 'sunshine'];

function pool(s: string): number {
  let size = 0;
  if (/[a-z]/.test(s)) size += 26;
  if (/[A-Z]/.test(s)) size += 26;
  if (/[0-9]/.test(s)) size += 10;
  if (/[^A-Za-z0-9\u0080-\uffff]/.test(s)) size += 33;
  if (/[\u0080-\uffff]/.test(s)) size += 100; // Hangul, accents, …: a large alphabet
  return Math.max(size, 1);
}

/** Characters that repeat or continue a run (aaaa, abcd, 1234) count for little. */
function effectiveLength(chars: string[]): number {
  let n = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!.codePointAt(0) ?? 0;
    const p = i > 0 ? (chars[i - 1]!.codePointAt(0) ?? 0) : NaN;
    n += c === p || Math.abs(c - p) === 1 ? 0.25 : 1;
  }
  return n;
}

export function passphraseStrength(passphrase: string): Strength {
  const chars = Array.from(passphrase);
  if (chars.length < MIN_PASSPHRASE) return 'short';
  const lower = passphrase.toLowerCase();
  let bits = effectiveLength(chars) * Math.log2(pool(passphrase));
  for (const word of COMMON) {
    // a common word counts as a few bits, not as its letters
    if (lower.includes(word)) bits -= word.length * Math.log2(pool(word)) - 10;
  }
  if (bits < 40) return 'weak';
  if (bits < 60) return 'fair';
  if (bits < 80) return 'good';
  return 'strong';
}
