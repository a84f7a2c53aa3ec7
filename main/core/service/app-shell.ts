// The core's app-shell area: handlers for shared/ipc/channels/app-shell.ts. The core only passes
// the count on to the host (Electron sets the dock/taskbar badge and the tray); hosts without a
// shell leave CoreOptions.onBadgeCount unset and the call does nothing.
import type { appShellChannels } from '../../../shared/ipc/channels/app-shell.js';
import type { AreaHandlers, CoreContext } from './context.js';

export function appShellHandlers(ctx: CoreContext): AreaHandlers<keyof typeof appShellChannels> {
  return {
    // Not gated on unlock: a count is not secret, and the renderer clears it (0) as it locks.
    'app.setBadgeCount': (req) => {
      ctx.options.onBadgeCount?.(req.count);
      return { ok: true as const };
    },
  };
}
