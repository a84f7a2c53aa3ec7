import { describe, expect, it } from 'vitest';
import { linkify, safeHref } from './links.js';

const links = (text: string) => linkify(text).filter((p) => p.kind === 'link');

describe('linkify', () => {
  it('finds http and https links and keeps the rest as text, in order', () => {
    expect(linkify('see https://example.org/a?b=1#c and http://x.test now')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1#c', href: 'https://example.org/a?b=1#c' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'http://x.test', href: 'http://x.test/' },
      { kind: 'text', text: ' now' },
    ]);
  });

  it('never makes a link of other schemes', () => {
    for (const text of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,<b>x</b>', 'refuge://app/index.html', 'ftp://x.org', 'www.example.org']) {
      expect(links(text)).toEqual([]);
      expect(linkify(text)).toEqual([{ kind: 'text', text }]);
    }
    expect(links('javascript:https://x.org')).toHaveLength(1); // the https part only
    expect(links('javascript:https://x.org')[0]).toMatchObject({ href: 'https://x.org/' });
  });

  it('leaves sentence punctuation and unmatched brackets outside the link', () => {
    expect(links('Look: https://example.org/page.')[0]?.text).toBe('https://example.org/page');
    expect(links('(https://example.org/a)')[0]?.text).toBe('https://example.org/a');
    expect(links('https://en.wikipedia.org/wiki/Foo_(bar)!')[0]?.text).toBe('https://en.wikipedia.org/wiki/Foo_(bar)');
    expect(links('여기요 https://example.org/경로。')[0]?.text).toBe('https://example.org/경로');
  });

  it('stops at whitespace and quotes, so markup-looking text stays text', () => {
    const parts = linkify('<a href="https://evil.test">https://good.test</a>');
    expect(parts.filter((p) => p.kind === 'link').map((p) => p.text)).toEqual(['https://evil.test', 'https://good.test']);
    expect(parts.map((p) => p.text).join('')).toBe('<a href="https://evil.test">https://good.test</a>');
  });

  it('keeps the text intact: parts join back to the original', () => {
    const text = 'a https://x.org/1, b https://y.org/(2)). c';
    expect(linkify(text).map((p) => p.text).join('')).toBe(text);
  });
});

describe('safeHref', () => {
  it('normalizes, and shows internationalised hosts in punycode', () => {
    expect(safeHref('https://exämple.org/x')).toBe('https://xn--exmple-cua.org/x');
    expect(safeHref('HTTPS://Example.org')).toBe('https://example.org/');
  });
  it('refuses anything but http(s)', () => {
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('not a url')).toBeNull();
    expect(safeHref('https://')).toBeNull();
  });
});
