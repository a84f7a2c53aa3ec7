// The settings table (migration 3): one JSON text value per key. What the keys mean and their
// defaults live in the service (service/settings.ts); the store only keeps the text.
import type { Store } from './store.js';

/** Every stored setting as key -> JSON text. */
export function readSettingValues(store: Store): Map<string, string> {
  const out = new Map<string, string>();
  for (const row of store.connection().prepare('SELECT key, value FROM settings').all()) {
    const key = row['key'];
    const value = row['value'];
    if (typeof key === 'string' && typeof value === 'string') out.set(key, value);
  }
  return out;
}

/** Inserts or replaces the given keys (JSON text values), in one transaction. */
export function writeSettingValues(store: Store, values: ReadonlyMap<string, string>): void {
  store.transaction(() => {
    const stmt = store
      .connection()
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    for (const [key, value] of values) stmt.run([key, value]);
  });
}
