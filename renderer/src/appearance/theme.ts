// The theme setting: 'system' follows prefers-color-scheme (base.css), 'light'/'dark' force it
// through data-theme on :root. Remembered for the screens before unlock (not secret).
export type ThemePreference = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'refuge.theme';

export function applyTheme(pref: ThemePreference): void {
  const root = document.documentElement;
  if (pref === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', pref);
  try {
    if (pref === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, pref);
  } catch {
    // storage may be unavailable: the theme still applies now
  }
}

/** At start-up, before the settings (inside the encrypted store) can be read. */
export function applyStoredTheme(): void {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (v === 'light' || v === 'dark') document.documentElement.setAttribute('data-theme', v);
  } catch {
    // no storage: system theme
  }
}
