// The core's verify area: handlers for the channels in shared/ipc/channels/verify.ts.
import type { verifyChannels } from '../../../shared/ipc/channels/verify.js';
import type { AreaHandlers, CoreContext } from './context.js';

export function verifyHandlers(_ctx: CoreContext): AreaHandlers<keyof typeof verifyChannels> {
  return {};
}
