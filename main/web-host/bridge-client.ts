// Runs in the browser page served by the web host (the web host's stand-in for the preload):
// defines window.refuge over a WebSocket that carries the per-run token.
import { createApi, type Invoke } from '../../shared/ipc/api.js';
import { BRIDGE_PATH, BridgeReplySchema } from './bridge-protocol.js';

const TOKEN_KEY = 'refuge.bridgeToken';

function takeToken(): string {
  const match = /(?:^|[#&])token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, match[1]);
    // Keep the token out of the address bar and history.
    history.replaceState(null, '', location.pathname + location.search);
    return match[1];
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

class BridgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RefugeError';
  }
}

const token = takeToken();
let socket: WebSocket | null = null;
let opened: Promise<WebSocket> | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

function connect(): Promise<WebSocket> {
  if (opened) return opened;
  opened = new Promise((resolve, reject) => {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${BRIDGE_PATH}?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url);
    ws.onopen = () => {
      socket = ws;
      resolve(ws);
    };
    ws.onerror = () => reject(new BridgeError('HOST_UNREACHABLE', 'Cannot reach the Refuge host. Is it still running?'));
    ws.onclose = () => {
      socket = null;
      opened = null;
      for (const call of pending.values()) call.reject(new BridgeError('HOST_UNREACHABLE', 'The connection to the Refuge host was lost.'));
      pending.clear();
    };
    ws.onmessage = (event) => {
      const parsed = BridgeReplySchema.safeParse(JSON.parse(String(event.data)));
      if (!parsed.success) return;
      const reply = parsed.data;
      const call = pending.get(reply.id);
      if (!call) return;
      pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.value);
      else call.reject(new BridgeError(reply.error.code, reply.error.message));
    };
  });
  return opened;
}

const invoke: Invoke = async (channel, request) => {
  const ws = socket ?? (await connect());
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    ws.send(JSON.stringify({ id, channel, request }));
  });
};

Object.defineProperty(window, 'refuge', { value: Object.freeze(createApi(invoke)), writable: false });
