// Preferences in electron-store: small, non-secret settings only (it rewrites the whole JSON
// file on every change, and its own "encryption" is obfuscation).
import { z } from 'zod';

const BoundsSchema = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

export const PreferencesSchema = z.object({
  serverUrl: z.string().url().optional(),
  windowBounds: BoundsSchema.optional(),
  windowMaximized: z.boolean().optional(),
});
export type Preferences = z.infer<typeof PreferencesSchema>;

export interface PreferenceStore {
  get<K extends keyof Preferences>(key: K): Preferences[K];
  set<K extends keyof Preferences>(key: K, value: Preferences[K]): void;
}

export async function openPreferences(): Promise<PreferenceStore> {
  // electron-store is ESM-only and needs Electron at run time, so it is loaded here, lazily.
  const { default: Store } = await import('electron-store');
  const store = new Store<Preferences>({ name: 'preferences' });
  const parsed = PreferencesSchema.safeParse(store.store);
  if (!parsed.success) store.clear(); // a hand-edited or corrupt file falls back to defaults
  return {
    get: (key) => store.get(key),
    set: (key, value) => {
      if (value === undefined) store.delete(key);
      else store.set(key, value);
    },
  };
}
