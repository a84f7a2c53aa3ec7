// A QR code drawn as inline SVG by React (no innerHTML, nothing fetched): one path of dark
// modules on a white square with a quiet zone, so it scans in the dark theme too.
import { useMemo } from 'react';
import { encode } from 'uqr';

/** The SVG path of the dark modules: one 1×1 square per module, in module units. */
export function qrPath(text: string): { size: number; d: string } {
  const { data } = encode(text, { ecc: 'M', border: 4 });
  const parts: string[] = [];
  data.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x} ${y}h1v1h-1z`);
    });
  });
  return { size: data.length, d: parts.join('') };
}

export function QrCode({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const { size, d } = useMemo(() => qrPath(text), [text]);
  return (
    <svg
      className="qr"
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={label}
      data-testid={testId}
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#ffffff" />
      <path d={d} fill="#000000" />
    </svg>
  );
}
