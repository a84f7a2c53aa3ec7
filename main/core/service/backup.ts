// The core's backup area: handlers for the channels in shared/ipc/channels/backup.ts.
import type { backupChannels } from '../../../shared/ipc/channels/backup.js';
import type { AreaHandlers, CoreContext } from './context.js';

export function backupHandlers(_ctx: CoreContext): AreaHandlers<keyof typeof backupChannels> {
  return {};
}
