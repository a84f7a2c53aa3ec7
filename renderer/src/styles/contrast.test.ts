// WCAG AA in both themes, computed from the CSS itself: every text colour token against every
// background it is drawn on is at least 4.5:1 (WCAG 2.x relative luminance), focus rings 3:1,
// and the two dark blocks of base.css (system dark, forced dark) say the same thing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const base = readFileSync(path.join(here, 'base.css'), 'utf8');

type Rgba = [number, number, number, number];

/** The declarations `--name: value;` of the first rule whose selector matches exactly. */
function block(css: string, selector: string): Map<string, string> {
  const at = css.indexOf(`${selector} {`);
  if (at < 0) throw new Error(`no "${selector}" rule`);
  const open = css.indexOf('{', at);
  const close = css.indexOf('}', open);
  const vars = new Map<string, string>();
  for (const m of css.slice(open + 1, close).matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)) vars.set(m[1]!, m[2]!.trim());
  return vars;
}

function parseColour(value: string, vars: Map<string, string>): Rgba {
  const ref = /^var\((--[\w-]+)\)$/.exec(value);
  if (ref) return parseColour(vars.get(ref[1]!) ?? 'missing', vars);
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value);
  if (hex) {
    const h = hex[1]!.length === 3 ? [...hex[1]!].map((c) => c + c).join('') : hex[1]!;
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16), 1];
  }
  const rgb = /^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)$/.exec(value);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3]), rgb[4] === undefined ? 1 : Number(rgb[4])];
  throw new Error(`cannot read colour "${value}"`);
}

/** A translucent colour painted over an opaque one. */
function over(top: Rgba, under: Rgba): Rgba {
  const a = top[3];
  return [top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a), top[2] * a + under[2] * (1 - a), 1];
}

function luminance([r, g, b]: Rgba): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrast(a: Rgba, b: Rgba): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const light = block(base, ':root');
const darkForced = new Map([...light, ...block(base, ":root[data-theme='dark']")]);
const darkSystem = new Map([...light, ...block(base, ":root:not([data-theme='light'])")]);
const themes = { light, dark: darkForced };

/**
 * Text colour over background, as the components draw them. A background may be a stack
 * (translucent layers listed top first, ending on an opaque one).
 */
const TEXT_PAIRS: Array<[string, string[]]> = [
  ['--text', ['--bg']],
  ['--text', ['--bg-sidebar']],
  ['--text', ['--bg-elevated']],
  ['--text', ['--bg-input']],
  ['--text', ['--bg-field']],
  ['--text', ['--bg-selected']],
  ['--text', ['--bg-hover', '--bg-sidebar']],
  ['--text-muted', ['--bg']],
  ['--text-muted', ['--bg-sidebar']],
  ['--text-muted', ['--bg-elevated']],
  ['--text-muted', ['--bg-input']],
  ['--text-muted', ['--bg-selected']],
  ['--text-muted', ['--bg-hover', '--bg-sidebar']],
  ['--accent-text', ['--bg']],
  ['--accent-text', ['--bg-sidebar']],
  ['--accent-text', ['--bg-elevated']],
  ['--accent-text', ['--bg-selected']],
  ['--accent-text', ['--bubble-in']],
  ['--on-accent', ['--accent']],
  ['--on-accent', ['--accent-hover']],
  ['--bubble-in-text', ['--bubble-in']],
  ['--bubble-in-meta', ['--bubble-in']],
  ['--bubble-out-text', ['--bubble-out']],
  ['--bubble-out-meta', ['--bubble-out']],
  ['--bubble-in-text', ['--quote-bg-in', '--bubble-in']],
  ['--bubble-out-text', ['--quote-bg-out', '--bubble-out']],
  ['--danger', ['--bg']],
  ['--danger', ['--bg-sidebar']],
  ['--danger', ['--bg-elevated']],
  ['--danger', ['--danger-bg']],
  // a group's remove/leave confirmation (groups.css .confirm)
  ['--text', ['--danger-bg']],
  ['--mark-text', ['--mark-bg']],
  ['--warning-text', ['--warning-bg']],
  ['--online-text', ['--bg-elevated']],
  ['--online-text', ['--bg-input']],
];

/** Non-text (WCAG 1.4.11): the focus ring against what it is drawn over. */
const UI_PAIRS: Array<[string, string[]]> = [
  ['--focus', ['--bg']],
  ['--focus', ['--bg-sidebar']],
  ['--focus', ['--bg-elevated']],
];

function ratio(vars: Map<string, string>, fg: string, stack: string[]): number {
  const layers = stack.map((name) => parseColour(vars.get(name) ?? `missing ${name}`, vars));
  let bg = layers[layers.length - 1]!;
  for (let i = layers.length - 2; i >= 0; i--) bg = over(layers[i]!, bg);
  return contrast(over(parseColour(vars.get(fg) ?? `missing ${fg}`, vars), bg), bg);
}

describe('colour contrast (WCAG AA)', () => {
  it('computes ratios as WCAG defines them', () => {
    expect(contrast([0, 0, 0, 1], [255, 255, 255, 1])).toBeCloseTo(21, 5);
    expect(contrast([118, 118, 118, 1], [255, 255, 255, 1])).toBeCloseTo(4.54, 2);
  });

  for (const [theme, vars] of Object.entries(themes)) {
    it(`${theme}: text is at least 4.5:1 on every background it is drawn on`, () => {
      const low = TEXT_PAIRS.map(([fg, bg]) => ({ pair: `${fg} on ${bg.join(' over ')}`, ratio: Math.round(ratio(vars, fg, bg) * 100) / 100 })).filter(
        (r) => r.ratio < 4.5,
      );
      expect(low).toEqual([]);
    });

    it(`${theme}: the focus ring is at least 3:1 against its backgrounds`, () => {
      const low = UI_PAIRS.map(([fg, bg]) => ({ pair: `${fg} on ${bg.join(' over ')}`, ratio: ratio(vars, fg, bg) })).filter((r) => r.ratio < 3);
      expect(low).toEqual([]);
    });
  }

  it('white initials are at least 4.5:1 on every avatar colour', () => {
    const avatars = [...base.matchAll(/\.avatar--c(\d+)\s*\{\s*background:\s*(#[0-9a-f]{6})/gi)].map((m) => ({ slot: m[1], bg: m[2]! }));
    expect(avatars.length).toBe(12);
    const low = avatars.filter((a) => contrast([255, 255, 255, 1], parseColour(a.bg, light)) < 4.5);
    expect(low).toEqual([]);
  });

  it('the system-dark and forced-dark blocks define the same colours', () => {
    expect(Object.fromEntries(darkSystem)).toEqual(Object.fromEntries(darkForced));
  });
});
