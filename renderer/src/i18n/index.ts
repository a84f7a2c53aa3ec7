// A tiny translation layer: t('key', { vars }). English only for now; issue 6 adds Korean and a
// language setting by swapping `current` (every string already goes through here).
import { en, type StringKey, type Strings } from './en.js';

export type { StringKey };

const current: Strings = en;
const locale: string | undefined = undefined; // the system locale, for dates and plurals

export function t(key: StringKey, vars?: Record<string, string | number>): string {
  const template = current[key] ?? en[key] ?? key;
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

const plural = new Intl.PluralRules(locale);

/** Plural form: looks up `${base}.one` / `${base}.other` with {count}. */
export function tp(base: 'unread', count: number): string {
  const form = plural.select(count) === 'one' ? 'one' : 'other';
  return t(`${base}.${form}` as StringKey, { count });
}

export function uiLocale(): string | undefined {
  return locale;
}
