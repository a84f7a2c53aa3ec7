// Settings → Backups: export the whole history to one encrypted file now. The web host's
// browser cannot pick a file on the machine running the core, so the path is typed in full.
// Test ids: backup-export-path|passphrase|confirm|submit|error|done, and backup-progress
// (data-state running/done/failed/cancelled, -text, -cancel).
import { useId, useRef, useState, type FormEvent } from 'react';
import { errorCode, useRefuge } from '../../api.js';
import { Field } from '../../components/Field.js';
import { t, type StringKey } from '../../i18n/index.js';
import { MIN_PASSPHRASE, passphraseStrength, type Strength } from '../../settings/strength.js';
import type { SettingsSectionProps } from '../settings/sections.js';
import { formatSize, isFullPath } from './format.js';
import { backupErrorText, BackupProgressView, useBackupJob } from './useBackupJob.js';
import './backup.css';

const STRENGTH_KEY: Record<Strength, StringKey> = {
  short: 'settings.passphrase.strength.short',
  weak: 'settings.passphrase.strength.weak',
  fair: 'settings.passphrase.strength.fair',
  good: 'settings.passphrase.strength.good',
  strong: 'settings.passphrase.strength.strong',
};

type Errors = { path?: string; passphrase?: string; confirm?: string; form?: string };

/** Problems with the chosen file show under the path field; the rest under the form. */
const PATH_CODES = ['BAD_PATH', 'FILE_EXISTS', 'IO'];
function placeError(e: unknown): Errors {
  const message = backupErrorText(e);
  return PATH_CODES.includes(errorCode(e) ?? '') ? { path: message } : { form: message };
}

export function BackupsSection(_props: SettingsSectionProps) {
  const api = useRefuge();
  const headingId = useId();
  const { progress, run, cancel } = useBackupJob();
  const [path, setPath] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const pathRef = useRef<HTMLInputElement>(null);
  const passRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);
  const strength = passphraseStrength(passphrase);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const found: Errors = {};
    if (!isFullPath(path)) found.path = t('backup.err.path');
    if (Array.from(passphrase).length < MIN_PASSPHRASE) found.passphrase = t('onboarding.err.passphraseShort', { min: MIN_PASSPHRASE });
    else if (confirm !== passphrase) found.confirm = t('onboarding.err.passphraseMismatch');
    setErrors(found);
    setDone(null);
    if (found.path) return pathRef.current?.focus();
    if (found.passphrase) return passRef.current?.focus();
    if (found.confirm) return confirmRef.current?.focus();
    setBusy(true);
    try {
      const end = await run('export', () => api.backup.export({ path: path.trim(), passphrase }));
      if (end.state === 'done') {
        setPassphrase('');
        setConfirm('');
        setDone(t('backup.export.done', { count: end.messages.toLocaleString(), path: end.path ?? path.trim(), size: formatSize(end.bytes) }));
      } else if (end.state === 'cancelled') {
        setDone(t('backup.cancelled'));
      } else if (end.error) {
        setErrors(placeError(end.error));
      }
    } catch (err) {
      setErrors(placeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="settings__section" data-testid="backups-section">
      <section className="settings__group" aria-labelledby={`${headingId}-export`}>
        <h3 className="settings__heading" id={`${headingId}-export`}>
          {t('backup.export.title')}
        </h3>
        <p className="settings__note">{t('backup.export.lead')}</p>
        <form className="settings__form" onSubmit={submit} noValidate aria-busy={busy} data-testid="backup-export-form">
          <Field
            label={t('backup.export.path')}
            hint={t('backup.export.pathHint')}
            error={errors.path}
            testId="backup-export-path"
            inputRef={pathRef}
            value={path}
            onChange={(e) => setPath(e.target.value)}
            spellCheck={false}
            autoComplete="off"
            disabled={busy}
          />
          <Field
            label={t('backup.export.passphrase')}
            hint={passphrase ? t(STRENGTH_KEY[strength]) : t('backup.export.passphraseHint', { min: MIN_PASSPHRASE })}
            error={errors.passphrase}
            testId="backup-export-passphrase"
            inputRef={passRef}
            type="password"
            autoComplete="new-password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            disabled={busy}
            below={
              <span
                className={`strength strength--${passphrase ? strength : 'none'}`}
                aria-hidden="true"
                data-testid="backup-export-strength"
                data-strength={passphrase ? strength : ''}
              >
                <span className="strength__bar" />
                <span className="strength__bar" />
                <span className="strength__bar" />
                <span className="strength__bar" />
              </span>
            }
          />
          <Field
            label={t('backup.export.confirm')}
            error={errors.confirm}
            testId="backup-export-confirm"
            inputRef={confirmRef}
            type="password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
            disabled={busy}
          />
          {progress ? (
            <BackupProgressView progress={progress} label="backup.progress.label" messagesKey="backup.progress.messages" testId="backup-progress" onCancel={cancel} />
          ) : null}
          {errors.form ? (
            <p className="form-error" role="alert" data-testid="backup-export-error">
              {errors.form}
            </p>
          ) : null}
          <p className="settings__saved" role="status" data-testid="backup-export-done">
            {done ?? ''}
          </p>
          <div className="settings__actions">
            <button type="submit" className="button button--primary" data-testid="backup-export-submit" disabled={busy}>
              {busy ? <span className="spinner" aria-hidden="true" /> : null}
              {t('backup.export.submit')}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
