// Onboarding → "Restore from a backup" (a fresh install only): the backup file's full path, its
// passphrase, and (where the profile needs one) a new passphrase for this computer. The core
// restores all or nothing (backup.import); then the profile is unlocked and fresh sessions are
// started with every contact, so nobody has to add anybody again.
// Test ids: restore, restore-path|backup-passphrase|profile-passphrase|profile-passphrase-confirm
// (each with -error), restore-submit, restore-back, restore-error, restore-progress (-text, -cancel).
import { useRef, useState, type FormEvent } from 'react';
import { errorCode, useRefuge, type AppStatus } from '../../api.js';
import { BrandMark } from '../../components/BrandMark.js';
import { Field } from '../../components/Field.js';
import { t } from '../../i18n/index.js';
import { MIN_PASSPHRASE } from '../../settings/strength.js';
import { reestablishAfterRestore } from '../../sync.js';
import { isFullPath } from './format.js';
import { backupErrorText, BackupProgressView, useBackupJob } from './useBackupJob.js';
import './backup.css';

type Phase = 'idle' | 'restoring' | 'unlocking';
type Errors = { path?: string; backup?: string; profile?: string; confirm?: string; form?: string };

const PATH_CODES = ['BAD_PATH', 'FILE_NOT_FOUND', 'NOT_A_BACKUP', 'IO'];

export function RestoreBackup({ status, onStatus, onBack }: { status: AppStatus; onStatus: (s: AppStatus) => void; onBack: () => void }) {
  const api = useRefuge();
  const { progress, run, cancel, reset } = useBackupJob();
  const [path, setPath] = useState('');
  const [backupPassphrase, setBackupPassphrase] = useState('');
  const [profilePassphrase, setProfilePassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [phase, setPhase] = useState<Phase>('idle');
  const [errors, setErrors] = useState<Errors>({});
  const pathRef = useRef<HTMLInputElement>(null);
  const backupRef = useRef<HTMLInputElement>(null);
  const profileRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);
  const needPassphrase = status.passphraseRequired;
  const busy = phase !== 'idle';

  function showError(e: unknown) {
    const code = errorCode(e) ?? '';
    const message = backupErrorText(e);
    if (code === 'WRONG_PASSPHRASE') {
      setErrors({ backup: message });
      setBackupPassphrase('');
      window.setTimeout(() => backupRef.current?.focus());
    } else if (PATH_CODES.includes(code)) {
      setErrors({ path: message });
      window.setTimeout(() => pathRef.current?.focus());
    } else {
      setErrors({ form: message });
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const found: Errors = {};
    if (!isFullPath(path)) found.path = t('backup.err.path');
    if (!backupPassphrase) found.backup = t('restore.err.backupPassphrase');
    if (needPassphrase) {
      if (profilePassphrase.length < MIN_PASSPHRASE) found.profile = t('onboarding.err.passphraseShort', { min: MIN_PASSPHRASE });
      else if (confirm !== profilePassphrase) found.confirm = t('onboarding.err.passphraseMismatch');
    }
    setErrors(found);
    if (found.path) return pathRef.current?.focus();
    if (found.backup) return backupRef.current?.focus();
    if (found.profile) return profileRef.current?.focus();
    if (found.confirm) return confirmRef.current?.focus();

    setPhase('restoring');
    try {
      const end = await run('import', () =>
        api.backup.import({ path: path.trim(), backupPassphrase, ...(needPassphrase ? { profilePassphrase } : {}) }),
      );
      if (end.state !== 'done') {
        setPhase('idle');
        if (end.state === 'cancelled') setErrors({ form: t('restore.cancelled') });
        else if (end.error) showError(end.error);
        return;
      }
      setPhase('unlocking');
      const unlocked = await api.vault.unlock(needPassphrase ? { passphrase: profilePassphrase } : {});
      // Sessions are never in a backup: start fresh ones now. A contact (or the relay) that cannot
      // be reached now is retried by the next restore of sessions; the history is there either way.
      if (unlocked.serverUrl) await reestablishAfterRestore(api, unlocked.serverUrl).catch(() => undefined);
      onStatus(await api.app.status({}));
    } catch (err) {
      setPhase('idle');
      reset();
      showError(err);
    }
  }

  return (
    <main className="gate" data-testid="restore">
      <div className="gate__card">
        <BrandMark />
        <h1 className="gate__title">{t('restore.title')}</h1>
        <p className="gate__lead">{t('restore.lead')}</p>
        <form className="gate__form" onSubmit={submit} noValidate aria-busy={busy}>
          <Field
            label={t('restore.path')}
            hint={t('restore.pathHint')}
            error={errors.path}
            testId="restore-path"
            inputRef={pathRef}
            value={path}
            onChange={(e) => setPath(e.target.value)}
            spellCheck={false}
            autoComplete="off"
            autoFocus
            disabled={busy}
          />
          <Field
            label={t('restore.backupPassphrase')}
            error={errors.backup}
            testId="restore-backup-passphrase"
            inputRef={backupRef}
            type="password"
            autoComplete="current-password"
            value={backupPassphrase}
            onChange={(e) => setBackupPassphrase(e.target.value)}
            disabled={busy}
          />
          {needPassphrase ? (
            <>
              <Field
                label={t('restore.profilePassphrase')}
                hint={t('restore.profilePassphraseHint', { min: MIN_PASSPHRASE })}
                error={errors.profile}
                testId="restore-profile-passphrase"
                inputRef={profileRef}
                type="password"
                autoComplete="new-password"
                value={profilePassphrase}
                onChange={(e) => setProfilePassphrase(e.target.value)}
                disabled={busy}
              />
              <Field
                label={t('restore.profilePassphraseConfirm')}
                error={errors.confirm}
                testId="restore-profile-passphrase-confirm"
                inputRef={confirmRef}
                type="password"
                autoComplete="new-password"
                value={confirm}
                onChange={(e) => setConfirm(e.target.value)}
                disabled={busy}
              />
            </>
          ) : null}
          {progress && phase !== 'idle' ? (
            <BackupProgressView
              progress={progress}
              label="restore.progress.label"
              messagesKey="restore.progress.messages"
              testId="restore-progress"
              onCancel={cancel}
            />
          ) : null}
          {errors.form ? (
            <p className="form-error" role="alert" data-testid="restore-error">
              {errors.form}
            </p>
          ) : null}
          <button type="submit" className="button button--primary button--block" data-testid="restore-submit" disabled={busy}>
            {busy ? <span className="spinner" aria-hidden="true" /> : null}
            {phase === 'restoring' ? t('restore.working') : phase === 'unlocking' ? t('restore.unlocking') : t('restore.submit')}
          </button>
          <button type="button" className="link-button restore__back" data-testid="restore-back" onClick={onBack} disabled={busy}>
            {t('restore.back')}
          </button>
        </form>
      </div>
    </main>
  );
}
