// Contract channels of the app-shell area (see shared/ipc/contract.ts): what the renderer tells
// the desktop shell around it. Nothing secret crosses: a count, never names or text.
import { z } from 'zod';
import { channel, Ok } from '../channel.js';

export const appShellChannels = {
  'app.setBadgeCount': channel(
    z.object({ count: z.number().int().min(0).max(1_000_000) }),
    Ok,
    'The number of unread messages (unmuted conversations) for the dock/taskbar badge and the tray; 0 clears it. A no-op where there is no shell (web host, CLI).',
  ),
} as const;
