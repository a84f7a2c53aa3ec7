// The core's settings area: handlers for the channels in shared/ipc/channels/settings.ts.
import type { settingsChannels } from '../../../shared/ipc/channels/settings.js';
import type { AreaHandlers, CoreContext } from './context.js';

export function settingsHandlers(_ctx: CoreContext): AreaHandlers<keyof typeof settingsChannels> {
  return {};
}
