// A tiny translation layer: t('key', { vars }) over the English and Korean tables. The language
// is the user's setting ('system' follows navigator.language); setLanguage() swaps the table and
// tells subscribers (App re-renders the whole tree through useLanguage()).
import { useSyncExternalStore } from 'react';
import { en, type StringKey, type Strings } from './en.js';
import { ko } from './ko.js';

export type { StringKey };
export type Language = 'en' | 'ko';
export type LanguagePreference = 'system' | Language;

const TABLES: Record<Language, Strings> = { en, ko };
/** remembers the choice for the screens before unlock (not secret: a language code) */
const STORAGE_KEY = 'refuge.language';

function systemLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages?.length ? navigator.languages : navigator.language ? [navigator.language] : [];
}

/** The language a preference means here: 'system' takes the first of the browser's languages we have. */
export function resolveLanguage(pref: LanguagePreference, system: readonly string[] = systemLanguages()): Language {
  if (pref !== 'system') return pref;
  for (const tag of system) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'ko' || base === 'en') return base;
  }
  return 'en';
}

/** Dates and plurals: the system's own regional variant when it speaks the chosen language (en-GB, ko-KR). */
function localeFor(language: Language, system: readonly string[] = systemLanguages()): string {
  return system.find((tag) => tag.toLowerCase().split('-')[0] === language) ?? language;
}

let language: Language = 'en';
let current: Strings = en;
let locale: string = 'en';
let plural = new Intl.PluralRules('en');
const listeners = new Set<() => void>();

function apply(next: Language): void {
  language = next;
  current = TABLES[next];
  locale = localeFor(next);
  plural = new Intl.PluralRules(locale);
  if (typeof document !== 'undefined') document.documentElement.lang = next;
}

function storedPreference(): LanguagePreference {
  try {
    const v = typeof localStorage !== 'undefined' ? localStorage.getItem(STORAGE_KEY) : null;
    return v === 'en' || v === 'ko' ? v : 'system';
  } catch {
    return 'system';
  }
}

apply(resolveLanguage(storedPreference()));

/** Switches every string (and date/plural formatting) to the preference; remembers it for the next start. */
export function setLanguage(pref: LanguagePreference): void {
  try {
    if (typeof localStorage !== 'undefined') {
      if (pref === 'system') localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, pref);
    }
  } catch {
    // storage may be unavailable: the setting still applies for this session
  }
  const next = resolveLanguage(pref);
  if (next === language) return;
  apply(next);
  for (const fn of listeners) fn();
}

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => void listeners.delete(fn);
}

/** The current language; re-renders the caller when it changes. */
export function useLanguage(): Language {
  return useSyncExternalStore(subscribe, () => language, () => language);
}

export function currentLanguage(): Language {
  return language;
}

export function t(key: StringKey, vars?: Record<string, string | number>): string {
  const template = current[key] ?? en[key] ?? key;
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** Plural form: looks up `${base}.one` / `${base}.other` with {count}. */
export function tp(base: 'unread' | 'search.count' | 'group.memberCount' | 'group.new.selected', count: number): string {
  const form = plural.select(count) === 'one' ? 'one' : 'other';
  return t(`${base}.${form}` as StringKey, { count });
}

export function uiLocale(): string {
  return locale;
}
