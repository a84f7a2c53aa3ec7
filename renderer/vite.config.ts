// Builds the React renderer to dist/renderer. `base: './'` keeps every asset URL relative:
// the same build is loaded from file:// by Electron and from http://127.0.0.1 by the web host.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// this folder, whatever the working directory; outDir is relative to it (no Node imports in renderer/)
const root = import.meta.dirname;
const outDir = '../dist/renderer';

/**
 * The production page carries its own Content-Security-Policy as defence in depth (Electron's
 * file:// load has no server to send a header). Only in `vite build`: the dev server's React
 * refresh preamble is an inline script. Hosts may send a stricter header on top; both apply.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  // the relay is wherever the user points it (http/https for socket.io polling, ws/wss for the socket)
  "connect-src 'self' ws: wss: http: https:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function cspMeta(): Plugin {
  return {
    name: 'refuge-csp-meta',
    apply: 'build',
    transformIndexHtml() {
      return [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: RENDERER_CSP }, injectTo: 'head-prepend' }];
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [react(), cspMeta()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // the polyfill is harmless but unnecessary in Chromium/Electron
    modulePreload: { polyfill: false },
  },
  server: { host: '127.0.0.1' },
});
