import { describe, expect, it } from 'vitest';
import { qrPath } from './QrCode.js';

describe('qrPath', () => {
  it('draws a square code with a quiet zone, one square per dark module', () => {
    const { size, d } = qrPath('refuge-safety:1:alice:AAAA:bob:BBBB');
    expect(size).toBeGreaterThanOrEqual(21 + 8);
    expect((size - 8 - 17) % 4).toBe(0); // QR sizes are 17 + 4·version, plus the border
    expect(d).toMatch(/^(M\d+ \d+h1v1h-1z)+$/);
    // the quiet zone stays empty: no module in the first 4 rows or columns
    for (const m of d.matchAll(/M(\d+) (\d+)/g)) {
      expect(Number(m[1])).toBeGreaterThanOrEqual(4);
      expect(Number(m[2])).toBeGreaterThanOrEqual(4);
    }
  });
  it('differs for different keys', () => {
    expect(qrPath('refuge-safety:1:alice:AAAA:bob:BBBB').d).not.toBe(qrPath('refuge-safety:1:alice:AAAA:bob:CCCC').d);
  });
});
