// The only door to the main process: the typed contract, exposed by the preload (Electron)
// or by the web host's bridge script (browser). See shared/ipc/contract.ts.
import type { RefugeApi } from '../../shared/ipc/api.js';

declare global {
  interface Window {
    refuge: RefugeApi;
  }
}

export {};
