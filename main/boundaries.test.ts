// A folder says where code may run. This checks the import graph so it stays true:
// only main/electron and main/preload use the Electron module; shared and renderer reach no Node;
// shared depends on nothing outside itself; main/core never reaches main/electron.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['main', 'renderer', 'shared', 'server', 'e2e', 'bench', 'scripts'];

function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|tsx|mts|mjs|js)$/.test(entry.name)) out.push(full);
    }
  };
  for (const dir of SOURCE_DIRS) {
    try {
      walk(path.join(root, dir));
    } catch {
      // a folder that does not exist yet has nothing to check
    }
  }
  return out;
}

/** Every module specifier a file imports, statically or dynamically, or requires. */
export function importsOf(source: string): string[] {
  // Comments may mention imports without making them.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specifiers: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?[^'"`;]*?\sfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) if (match[1]) specifiers.push(match[1]);
  return specifiers;
}

const rel = (file: string) => path.relative(root, file).split(path.sep).join('/');
const graph = sources().map((file) => ({ file: rel(file), imports: importsOf(readFileSync(file, 'utf8')) }));
const resolveFrom = (file: string, spec: string) => (spec.startsWith('.') ? rel(path.resolve(root, path.dirname(file), spec)) : spec);

describe('process boundaries', () => {
  it('the import scanner sees static, type-only, re-exported, dynamic and required imports', () => {
    // The module name is assembled so this file itself never contains an import of it.
    const restricted = ['elec', 'tron'].join('');
    const code = `import a from '${restricted}';\nimport type { B } from "x";\nexport { c } from './c.js';\nawait import('d');\nrequire('e');`;
    expect(importsOf(code)).toEqual([restricted, 'x', './c.js', 'd', 'e']);
    expect(importsOf(`// import a from 'x';\n/* import b from 'y'; */\nconst c = 1;`)).toEqual([]);
  });

  it('only main/electron and main/preload use the Electron module', () => {
    const offenders = graph
      .filter(({ file }) => !file.startsWith('main/electron/') && !file.startsWith('main/preload/'))
      .filter(({ imports }) => imports.some((s) => s === 'electron' || s.startsWith('electron/')))
      .map(({ file }) => file);
    expect(offenders).toEqual([]);
  });

  it('shared and renderer use no Node built-ins and never reach into main or server', () => {
    const offenders = graph
      .filter(({ file }) => (file.startsWith('shared/') || file.startsWith('renderer/')) && !/\.test\.tsx?$/.test(file) && !file.startsWith('renderer/test/') && !file.endsWith('vite.config.ts'))
      .flatMap(({ file, imports }) =>
        imports
          .filter((s) => s.startsWith('node:') || ['fs', 'path', 'os', 'crypto', 'child_process'].includes(s) || /^(main|server)\//.test(resolveFrom(file, s)))
          .map((s) => `${file} -> ${s}`),
      );
    expect(offenders).toEqual([]);
  });

  it('shared code depends on nothing outside shared/ (its Node-run tests may start a relay)', () => {
    const offenders = graph
      .filter(({ file }) => file.startsWith('shared/') && !/\.test\.ts$/.test(file))
      .flatMap(({ file, imports }) =>
        imports.filter((s) => s.startsWith('.') && !resolveFrom(file, s).startsWith('shared/')).map((s) => `${file} -> ${s}`),
      );
    expect(offenders).toEqual([]);
  });

  it('main/core never imports main/electron, main/preload or main/web-host', () => {
    const offenders = graph
      .filter(({ file }) => file.startsWith('main/core/'))
      .flatMap(({ file, imports }) =>
        imports.filter((s) => /^main\/(electron|preload|web-host)\//.test(resolveFrom(file, s))).map((s) => `${file} -> ${s}`),
      );
    expect(offenders).toEqual([]);
  });
});
