// The core's settings area: handlers for the channels in shared/ipc/channels/settings.ts.
// Settings are rows of the encrypted database's settings table (one JSON value per key), so
// they are as private as the history and readable only while unlocked.
import { DEFAULT_SETTINGS, SettingsSchema, type Settings, type settingsChannels } from '../../../shared/ipc/channels/settings.js';
import { readSettingValues, writeSettingValues, type Store } from '../store/index.js';
import type { AreaHandlers, CoreContext } from './context.js';

const KEYS = Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[];

/**
 * The user's settings: stored values over the defaults. A stored value this build does not
 * accept (damaged, or written by a newer Refuge with more choices) reads as the default, and
 * unknown keys are ignored, so settings never stop the app from opening.
 */
export function readSettings(store: Store): Settings {
  const stored = readSettingValues(store);
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const key of KEYS) {
    const text = stored.get(key);
    if (text === undefined) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    if (SettingsSchema.shape[key].safeParse(value).success) out[key] = value;
  }
  return SettingsSchema.parse(out);
}

/** Stores the given settings (already validated by the contract) and returns them all. */
export function updateSettings(store: Store, patch: Partial<Settings>): Settings {
  const values = new Map<string, string>();
  for (const key of KEYS) {
    const value = patch[key];
    if (value !== undefined) values.set(key, JSON.stringify(SettingsSchema.shape[key].parse(value)));
  }
  if (values.size > 0) writeSettingValues(store, values);
  return readSettings(store);
}

export function settingsHandlers(ctx: CoreContext): AreaHandlers<keyof typeof settingsChannels> {
  return {
    'settings.get': () => readSettings(ctx.requireOpen().store),
    'settings.update': (req) => updateSettings(ctx.requireOpen().store, req),
  };
}
