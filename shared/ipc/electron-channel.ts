import type { Channel } from './contract.js';

/** Electron IPC channel names are prefixed so nothing else on ipcMain can collide with the contract. */
export function ipcChannelName(channel: Channel): string {
  return `refuge:${channel}`;
}
