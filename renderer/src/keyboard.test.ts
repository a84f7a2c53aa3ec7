import { describe, expect, it } from 'vitest';
import { matchShortcut, shortcutLabel } from './keyboard.js';

const key = (k: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey', boolean>> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});

describe('matchShortcut', () => {
  it('uses Ctrl on Windows and Linux', () => {
    expect(matchShortcut(key('f', { ctrlKey: true }), false)).toBe('search');
    expect(matchShortcut(key('L', { ctrlKey: true }), false)).toBe('lock');
    expect(matchShortcut(key('k', { ctrlKey: true }), false)).toBe('jump');
    expect(matchShortcut(key('f', { metaKey: true }), false)).toBeNull();
  });
  it('uses Cmd on macOS', () => {
    expect(matchShortcut(key('f', { metaKey: true }), true)).toBe('search');
    expect(matchShortcut(key('f', { ctrlKey: true }), true)).toBeNull();
  });
  it('finds the key under a Korean layout by its position', () => {
    expect(matchShortcut({ ...key('ㄹ', { ctrlKey: true }), code: 'KeyF' }, false)).toBe('search');
    expect(matchShortcut({ ...key('ㅏ', { metaKey: true }), code: 'KeyK' }, true)).toBe('jump');
  });
  it('ignores plain keys and other modifiers', () => {
    expect(matchShortcut(key('f'), false)).toBeNull();
    expect(matchShortcut(key('f', { ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(matchShortcut(key('f', { ctrlKey: true, altKey: true }), false)).toBeNull();
    expect(matchShortcut(key('x', { ctrlKey: true }), false)).toBeNull();
  });
  it('labels for each platform', () => {
    expect(shortcutLabel('search', false)).toBe('Ctrl+F');
    expect(shortcutLabel('lock', true)).toBe('⌘L');
  });
});
