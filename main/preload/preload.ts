// The preload: exposes exactly the typed contract as window.refuge. Nothing else crosses.
// Bundled to one CommonJS file (scripts/build.ts): sandboxed preloads cannot load ESM.
import { contextBridge, ipcRenderer } from 'electron';
import { createApi } from '../../shared/ipc/api.js';
import type { IpcReply } from '../../shared/ipc/contract.js';
import { ipcChannelName } from '../../shared/ipc/electron-channel.js';

const api = createApi(async (channel, request) => {
  const reply = (await ipcRenderer.invoke(ipcChannelName(channel), request)) as IpcReply<never>;
  if (reply.ok) return reply.value;
  // contextBridge copies only an Error's message, so the code travels in a plain object.
  throw { code: reply.error.code, message: reply.error.message };
});

contextBridge.exposeInMainWorld('refuge', api);
