// Settings → Security: the app lock. With a passphrase: auto-lock after inactivity, change the
// passphrase (re-wraps the database key; the history is not rewritten) and, where an OS keychain
// exists, remove it. With the keychain alone: add a passphrase to turn the app lock on.
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { AUTO_LOCK_MINUTES, errorCode, errorMessage, useRefuge, type Settings } from '../../api.js';
import { Field, SelectField } from '../../components/Field.js';
import { t, type StringKey } from '../../i18n/index.js';
import { shortcutLabel } from '../../keyboard.js';
import { useSettings } from '../../settings/SettingsContext.js';
import { MIN_PASSPHRASE, passphraseStrength, type Strength } from '../../settings/strength.js';
import type { SettingsSectionProps } from './sections.js';

type AutoLockMinutes = Settings['autoLockMinutes'];
type LockInfo = { protection: 'passphrase' | 'os-keychain' | 'none'; keychainAvailable: boolean };

function minutesLabel(m: AutoLockMinutes): string {
  if (m === 0) return t('settings.autoLock.off');
  if (m === 60) return t('settings.autoLock.hour');
  return m === 1 ? t('settings.autoLock.minute') : t('settings.autoLock.minutes', { count: m });
}

function useAlive() {
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  return alive;
}

export function SecuritySection({ canLock, refreshStatus }: SettingsSectionProps) {
  const api = useRefuge();
  const headingId = useId();
  const [info, setInfo] = useState<LockInfo | null>(null);
  const alive = useAlive();

  const loadInfo = useCallback(async () => {
    try {
      const next = await api.lock.info({});
      if (alive.current) setInfo(next);
    } catch {
      // without it, fall back to what app.status says (canLock)
      if (alive.current) setInfo({ protection: canLock ? 'passphrase' : 'os-keychain', keychainAvailable: !canLock });
    }
  }, [api, canLock, alive]);

  useEffect(() => {
    void loadInfo();
  }, [loadInfo]);

  // the protection changed (passphrase added or removed): the app's status and this section follow
  const changed = useCallback(async () => {
    await refreshStatus();
    await loadInfo();
  }, [refreshStatus, loadInfo]);

  const hasPassphrase = info ? info.protection === 'passphrase' : canLock;

  return (
    <div className="settings__section">
      <section className="settings__group" aria-labelledby={`${headingId}-lock`}>
        <h3 className="settings__heading" id={`${headingId}-lock`}>
          {t('settings.appLock.title')}
        </h3>
        {hasPassphrase ? (
          <AutoLockSetting />
        ) : (
          <>
            <p className="settings__note">{t('settings.appLock.keychain')}</p>
            <PassphraseForm mode="set" onDone={changed} />
          </>
        )}
      </section>
      {hasPassphrase ? (
        <section className="settings__group" aria-labelledby={`${headingId}-pass`}>
          <h3 className="settings__heading" id={`${headingId}-pass`}>
            {t('settings.passphrase.title')}
          </h3>
          <PassphraseForm mode="change" onDone={changed} />
        </section>
      ) : null}
      {hasPassphrase && info?.keychainAvailable ? (
        <section className="settings__group" aria-labelledby={`${headingId}-remove`}>
          <h3 className="settings__heading" id={`${headingId}-remove`}>
            {t('settings.removePassphrase.title')}
          </h3>
          <PassphraseForm mode="remove" onDone={changed} />
        </section>
      ) : null}
    </div>
  );
}

function AutoLockSetting() {
  const { settings, update } = useSettings();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  async function change(value: string) {
    const minutes = AUTO_LOCK_MINUTES.find((m) => String(m) === value);
    if (minutes === undefined) return;
    setSaving(true);
    setError(null);
    setSaved(false);
    try {
      await update({ autoLockMinutes: minutes });
      setSaved(true);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  }

  return (
    <>
      <SelectField
        label={t('settings.autoLock.label')}
        hint={t('settings.autoLock.hint', { shortcut: shortcutLabel('lock') })}
        error={error}
        testId="settings-autolock"
        options={AUTO_LOCK_MINUTES.map((m) => ({ value: String(m), label: minutesLabel(m) }))}
        value={settings ? String(settings.autoLockMinutes) : ''}
        disabled={!settings || saving}
        onChange={(e) => void change(e.target.value)}
      />
      <p className="settings__saved" role="status" data-testid="settings-autolock-saved">
        {saved ? t('settings.saved') : ''}
      </p>
    </>
  );
}

const STRENGTH_KEY: Record<Strength, StringKey> = {
  short: 'settings.passphrase.strength.short',
  weak: 'settings.passphrase.strength.weak',
  fair: 'settings.passphrase.strength.fair',
  good: 'settings.passphrase.strength.good',
  strong: 'settings.passphrase.strength.strong',
};

type Errors = { current?: string; next?: string; confirm?: string; form?: string };

/**
 * change: current + new twice; set (keychain profile gets an app lock): new twice; remove (the
 * key goes back to the keychain): current only. Test ids: `<mode>-passphrase-current|new|confirm|submit|done|error`.
 */
function PassphraseForm({ mode, onDone }: { mode: 'change' | 'set' | 'remove'; onDone: () => Promise<void> }) {
  const api = useRefuge();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const [done, setDone] = useState(false);
  const currentRef = useRef<HTMLInputElement>(null);
  const nextRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);
  const alive = useAlive();
  const needsCurrent = mode !== 'set';
  const needsNext = mode !== 'remove';
  const strength = passphraseStrength(next);
  const id = (part: string) => `${mode}-passphrase-${part}`;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const found: Errors = {};
    if (needsCurrent && !current) found.current = t('settings.passphrase.err.current');
    if (needsNext) {
      if (next.length < MIN_PASSPHRASE) found.next = t('onboarding.err.passphraseShort', { min: MIN_PASSPHRASE });
      else if (needsCurrent && next === current) found.next = t('settings.passphrase.err.same');
      if (!found.next && confirm !== next) found.confirm = t('onboarding.err.passphraseMismatch');
    }
    setErrors(found);
    setDone(false);
    if (found.current) return currentRef.current?.focus();
    if (found.next) return nextRef.current?.focus();
    if (found.confirm) return confirmRef.current?.focus();
    setBusy(true);
    try {
      if (mode === 'change') await api.lock.changePassphrase({ current, next });
      else if (mode === 'set') await api.lock.setPassphrase({ next });
      else await api.lock.removePassphrase({ current });
      if (!alive.current) return;
      setCurrent('');
      setNext('');
      setConfirm('');
      setDone(true);
      await onDone();
    } catch (err) {
      if (!alive.current) return;
      if (errorCode(err) === 'WRONG_PASSPHRASE' && needsCurrent) {
        setErrors({ current: errorMessage(err) });
        setCurrent('');
        currentRef.current?.focus();
      } else {
        setErrors({ form: errorMessage(err) });
      }
    } finally {
      if (alive.current) setBusy(false);
    }
  }

  const lead: StringKey = mode === 'change' ? 'settings.passphrase.lead' : mode === 'set' ? 'settings.setPassphrase.lead' : 'settings.removePassphrase.lead';
  const submitLabel: StringKey =
    mode === 'change' ? 'settings.passphrase.submit' : mode === 'set' ? 'settings.setPassphrase.submit' : 'settings.removePassphrase.submit';
  const doneLabel: StringKey = mode === 'change' ? 'settings.passphrase.done' : mode === 'set' ? 'settings.setPassphrase.done' : 'settings.removePassphrase.done';

  return (
    <form className="settings__form" onSubmit={submit} noValidate aria-busy={busy} data-testid={`${mode}-passphrase-form`}>
      <p className="settings__note">{t(lead)}</p>
      {needsCurrent ? (
        <Field
          label={t('settings.passphrase.current')}
          error={errors.current}
          testId={id('current')}
          inputRef={currentRef}
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          disabled={busy}
        />
      ) : null}
      {needsNext ? (
        <>
          <Field
            label={t(mode === 'set' ? 'settings.passphrase.label' : 'settings.passphrase.new')}
            error={errors.next}
            hint={next ? t(STRENGTH_KEY[strength]) : t('onboarding.passphraseHint', { min: MIN_PASSPHRASE })}
            testId={id('new')}
            inputRef={nextRef}
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
            disabled={busy}
            below={
              <span className={`strength strength--${next ? strength : 'none'}`} aria-hidden="true" data-testid={id('strength')} data-strength={next ? strength : ''}>
                <span className="strength__bar" />
                <span className="strength__bar" />
                <span className="strength__bar" />
                <span className="strength__bar" />
              </span>
            }
          />
          <Field
            label={t(mode === 'set' ? 'onboarding.passphraseConfirm' : 'settings.passphrase.confirm')}
            error={errors.confirm}
            testId={id('confirm')}
            inputRef={confirmRef}
            type="password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
            disabled={busy}
          />
        </>
      ) : null}
      {errors.form ? (
        <p className="form-error" role="alert" data-testid={id('error')}>
          {errors.form}
        </p>
      ) : null}
      <p className="settings__saved" role="status" data-testid={id('done')}>
        {done ? t(doneLabel) : ''}
      </p>
      <div className="settings__actions">
        <button
          type="submit"
          className={mode === 'remove' ? 'button' : 'button button--primary'}
          data-testid={id('submit')}
          disabled={busy}
        >
          {busy ? <span className="spinner" aria-hidden="true" /> : null}
          {busy ? t('settings.passphrase.working') : t(submitLabel)}
        </button>
      </div>
    </form>
  );
}
