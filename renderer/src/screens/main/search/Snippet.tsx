// A search snippet with its matches as <mark>: text nodes only, never HTML.
import { highlightSegments } from '../../../search/highlight.js';

export function Snippet({ text, highlights }: { text: string; highlights: Array<[number, number]> }) {
  return (
    <>
      {highlightSegments(text, highlights).map((s, i) =>
        s.mark ? (
          <mark key={i} className="hl">
            {s.text}
          </mark>
        ) : (
          <span key={i}>{s.text}</span>
        ),
      )}
    </>
  );
}
