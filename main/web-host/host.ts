// The web host: the same core as the app, for a browser. Serves the renderer build on
// 127.0.0.1 and carries the IPC contract over a WebSocket guarded by a random per-run token.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { isChannel, RefugeError } from '../../shared/ipc/contract.js';
import { toBase64url } from '../../shared/encoding/base64url.js';
import { Core } from '../core/service/core.js';
import { passphraseProtectorFactory } from '../core/service/protectors.js';
import { contentSecurityPolicy } from './csp.js';
import { BRIDGE_PATH, BRIDGE_SCRIPT, BridgeRequestSchema, MAX_FRAME_BYTES, type BridgeReply } from './bridge-protocol.js';

export interface WebHostOptions {
  profileDir: string;
  defaultServerUrl: string;
  /** folder holding the renderer build (index.html and its assets) */
  staticDir: string;
  /** the bundled bridge-client script (see scripts/build.ts) */
  bridgeScript: string;
  port?: number;
}

export interface WebHost {
  /** the address to open, token included (in the fragment, so it never reaches a server log) */
  url: string;
  origin: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};


export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = toBase64url(randomBytes(32));
  const core = await Core.open({
    profileDir: options.profileDir,
    defaultServerUrl: options.defaultServerUrl,
    passphraseRequired: true,
    protector: passphraseProtectorFactory(),
  });
  const staticDir = path.resolve(options.staticDir);
  let origin = '';

  const server = http.createServer((req, res) => {
    void serveStatic(staticDir, path.resolve(options.bridgeScript), req, res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin);
    const given = url.searchParams.get('token') ?? '';
    // Another page on this machine must not drive the core: check the origin and the token.
    if (url.pathname !== BRIDGE_PATH || req.headers.origin !== origin || !sameSecret(given, token)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, core));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('web host did not get a TCP port');
  origin = `http://127.0.0.1:${address.port}`;

  return {
    url: `${origin}/#token=${token}`,
    origin,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      core.close();
    },
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bridge(ws: WebSocket, core: Core): void {
  // Requests run one at a time per page, in order, as over Electron IPC.
  let queue = Promise.resolve();
  ws.on('message', (data) => {
    queue = queue.then(async () => {
      const reply = await answer(core, String(data));
      if (reply && ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
    });
  });
}

async function answer(core: Core, text: string): Promise<BridgeReply | null> {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = BridgeRequestSchema.safeParse(frame);
  if (!parsed.success) return null;
  const { id, channel, request } = parsed.data;
  if (!isChannel(channel)) return { id, ok: false, error: { code: 'UNKNOWN_CHANNEL', message: 'Unknown request.' } };
  try {
    return { id, ok: true, value: await core.handle(channel, request) };
  } catch (error) {
    const refugeError = error instanceof RefugeError ? error : new RefugeError('INTERNAL', 'Something went wrong inside Refuge.');
    return { id, ok: false, error: { code: refugeError.code, message: refugeError.message } };
  }
}

async function serveStatic(root: string, bridgeScript: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const headers = {
    'Content-Security-Policy': contentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, headers).end();
    return;
  }
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://host').pathname);
  const relative = pathname === '/' ? 'index.html' : pathname.slice(1);
  const file = relative === BRIDGE_SCRIPT ? bridgeScript : path.resolve(root, relative);
  if (file !== bridgeScript && !file.startsWith(root + path.sep)) {
    res.writeHead(404, headers).end();
    return;
  }
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a file');
    let body: Buffer | string = await readFile(file);
    if (relative === 'index.html') body = withBridge(body.toString('utf8'));
    res.writeHead(200, { ...headers, 'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
  }
}

/** The bridge must define window.refuge before the app's module script runs. */
function withBridge(html: string): string {
  const tag = `<script src="./${BRIDGE_SCRIPT}"></script>`;
  return html.includes('</head>') ? html.replace('</head>', `${tag}\n</head>`) : `${tag}\n${html}`;
}
