// Frames on the web host's WebSocket: the IPC contract, carried as JSON.
import { z } from 'zod';

export const BridgeRequestSchema = z.object({
  id: z.number().int().nonnegative(),
  channel: z.string().max(64),
  request: z.unknown(),
});
export type BridgeRequest = z.infer<typeof BridgeRequestSchema>;

export const BridgeReplySchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type BridgeReply = z.infer<typeof BridgeReplySchema>;

export const BRIDGE_PATH = '/__refuge/bridge';
export const BRIDGE_SCRIPT = 'refuge-bridge.js';
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
