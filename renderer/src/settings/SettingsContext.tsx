// The user's settings for the unlocked session: fetched once when the session starts, updated
// through `settings.update`. Lives inside the session subtree, so locking discards it with
// everything else.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { errorMessage, useRefuge, type Settings } from '../api.js';

export type SettingsState = {
  /** null until loaded (or when loading failed: see error) */
  settings: Settings | null;
  error: string | null;
  /** saves a change; resolves with the saved settings, rejects with the core's error */
  update(patch: Partial<Settings>): Promise<Settings>;
  reload(): void;
};

const SettingsContext = createContext<SettingsState | null>(null);

export function SettingsProvider({ children }: { children: ReactNode }) {
  const api = useRefuge();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const load = useCallback(async () => {
    try {
      const s = await api.settings.get({});
      if (!alive.current) return;
      setSettings(s);
      setError(null);
    } catch (e) {
      if (alive.current) setError(errorMessage(e));
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const update = useCallback(
    async (patch: Partial<Settings>) => {
      // A control moves when it is used: show the change now, put it back if the core refuses it.
      let before: Settings | null = null;
      setSettings((current) => {
        before = current;
        return current ? { ...current, ...patch } : current;
      });
      try {
        const saved = await api.settings.update(patch);
        if (alive.current) {
          setSettings(saved);
          setError(null);
        }
        return saved;
      } catch (e) {
        if (alive.current) setSettings(before);
        throw e;
      }
    },
    [api],
  );

  const value = useMemo<SettingsState>(() => ({ settings, error, update, reload: () => void load() }), [settings, error, update, load]);
  return <SettingsContext.Provider value={value}>{children}</SettingsContext.Provider>;
}

export function useSettings(): SettingsState {
  const s = useContext(SettingsContext);
  if (!s) throw new Error('SettingsProvider is missing');
  return s;
}
