// The core's presence area: handlers for the channels in shared/ipc/channels/presence.ts.
import type { presenceChannels } from '../../../shared/ipc/channels/presence.js';
import type { AreaHandlers, CoreContext } from './context.js';

export function presenceHandlers(_ctx: CoreContext): AreaHandlers<keyof typeof presenceChannels> {
  return {};
}
