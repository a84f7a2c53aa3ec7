// The core's groups area: handlers for the channels in shared/ipc/channels/groups.ts.
import type { groupsChannels } from '../../../shared/ipc/channels/groups.js';
import type { AreaHandlers, CoreContext } from './context.js';

export function groupsHandlers(_ctx: CoreContext): AreaHandlers<keyof typeof groupsChannels> {
  return {};
}
