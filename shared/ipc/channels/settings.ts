// Contract channels of the settings area (see shared/ipc/contract.ts). Settings live in the
// encrypted database, so they are readable only while the profile is unlocked.
import { z } from 'zod';
import { channel, Empty } from '../channel.js';

export const AUTO_LOCK_MINUTES = [0, 1, 5, 15, 30, 60] as const;

export const SettingsSchema = z.object({
  /** lock after this many idle minutes (0: never); the renderer runs the timer and calls vault.lock */
  autoLockMinutes: z.union([z.literal(0), z.literal(1), z.literal(5), z.literal(15), z.literal(30), z.literal(60)]),
  /** send read receipts and show the peer's */
  receipts: z.boolean(),
  /** send typing indicators and show the peer's */
  typing: z.boolean(),
  /** what a notification shows */
  notifications: z.enum(['name-and-text', 'name-only', 'none']),
  theme: z.enum(['system', 'light', 'dark']),
  language: z.enum(['system', 'en', 'ko']),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  autoLockMinutes: 15,
  receipts: true,
  typing: true,
  notifications: 'name-and-text',
  theme: 'system',
  language: 'system',
};

export const settingsChannels = {
  'settings.get': channel(Empty, SettingsSchema, 'The user settings (defaults for anything never set).'),
  'settings.update': channel(
    SettingsSchema.partial().strict(),
    SettingsSchema,
    'Changes the given settings and returns all of them; the others keep their values.',
  ),
} as const;
