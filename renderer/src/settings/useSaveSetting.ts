// Saving one setting from a settings section: a "Saved." confirmation, or the core's error.
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage, type Settings } from '../api.js';
import { useSettings } from './SettingsContext.js';

export function useSaveSetting() {
  const { settings, update } = useSettings();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const save = useCallback(
    async (patch: Partial<Settings>) => {
      setSaving(true);
      setError(null);
      setSaved(false);
      try {
        await update(patch);
        if (alive.current) setSaved(true);
      } catch (e) {
        if (alive.current) setError(errorMessage(e));
      } finally {
        if (alive.current) setSaving(false);
      }
    },
    [update],
  );

  return { settings, save, saving, error, saved };
}
