// The core's lock area: handlers for the channels in shared/ipc/channels/lock.ts.
import type { lockChannels } from '../../../shared/ipc/channels/lock.js';
import type { AreaHandlers, CoreContext } from './context.js';

export function lockHandlers(_ctx: CoreContext): AreaHandlers<keyof typeof lockChannels> {
  return {};
}
