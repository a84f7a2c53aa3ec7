// The core's search area: handlers for the channels in shared/ipc/channels/search.ts.
import type { searchChannels } from '../../../shared/ipc/channels/search.js';
import type { AreaHandlers, CoreContext } from './context.js';

export function searchHandlers(_ctx: CoreContext): AreaHandlers<keyof typeof searchChannels> {
  return {};
}
