// First run: choose a username and server, set a passphrase when the profile needs one, create
// the keys (account.create) and register them with the relay (shared/sync registerAccount).
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { canonicalUsername, isValidUsername } from '../../../shared/protocol/username.js';
import { errorCode, errorMessage, isUnreachable, useRefuge, type AppStatus } from '../api.js';
import { Field } from '../components/Field.js';
import { BrandMark } from '../components/BrandMark.js';
import { t } from '../i18n/index.js';
import { registerWithRelay } from '../sync.js';
import { RestoreBackup } from './backup/RestoreBackup.js';

export const MIN_PASSPHRASE = 8;

type Phase = 'idle' | 'creating' | 'registering';

export function validServerUrl(value: string): boolean {
  try {
    const u = new URL(value.trim());
    return ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && u.hostname !== '';
  } catch {
    return false;
  }
}

function isUsernameProblem(e: unknown): boolean {
  const code = errorCode(e) ?? '';
  return /username|taken|exists|conflict/i.test(code) || /taken|already (registered|exists|in use)/i.test(errorMessage(e, ''));
}

export function Onboarding({ status, onStatus }: { status: AppStatus; onStatus: (s: AppStatus) => void }) {
  const api = useRefuge();
  const [username, setUsername] = useState(status.username ?? '');
  const [serverUrl, setServerUrl] = useState(status.serverUrl ?? '');
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [phase, setPhase] = useState<Phase>('idle');
  const [errors, setErrors] = useState<{ username?: string; server?: string; passphrase?: string; confirm?: string; form?: string }>({});
  const usernameRef = useRef<HTMLInputElement>(null);
  const serverRef = useRef<HTMLInputElement>(null);
  const passRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);
  const busy = phase !== 'idle';
  const needPassphrase = status.passphraseRequired;
  const [restoring, setRestoring] = useState(false); // "Restore from a backup" (issue 7)
  // focus moves after the re-render that re-enables the inputs
  const focusAfterRender = useRef<HTMLInputElement | null>(null);
  useEffect(() => {
    const el = focusAfterRender.current;
    if (el && !el.disabled) {
      focusAfterRender.current = null;
      el.focus();
      el.select();
    }
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const name = canonicalUsername(username);
    const server = serverUrl.trim();
    const next: typeof errors = {};
    if (!isValidUsername(name)) next.username = t('onboarding.err.username');
    if (!validServerUrl(server)) next.server = t('onboarding.err.server');
    if (needPassphrase) {
      if (passphrase.length < MIN_PASSPHRASE) next.passphrase = t('onboarding.err.passphraseShort', { min: MIN_PASSPHRASE });
      else if (passphrase !== confirm) next.confirm = t('onboarding.err.passphraseMismatch');
    }
    setErrors(next);
    if (next.username) return usernameRef.current?.focus();
    if (next.server) return serverRef.current?.focus();
    if (next.passphrase) return passRef.current?.focus();
    if (next.confirm) return confirmRef.current?.focus();

    try {
      setPhase('creating');
      const registration = await api.account.create({
        username: name,
        serverUrl: server,
        ...(needPassphrase ? { passphrase } : {}),
      });
      setPhase('registering');
      await registerWithRelay(api, server, registration); // also records it (account.markRegistered)
      onStatus(await api.app.status({}));
    } catch (err) {
      setPhase('idle');
      if (isUsernameProblem(err)) {
        const code = errorCode(err);
        setErrors({
          username:
            code === 'USERNAME_TAKEN'
              ? t('onboarding.err.taken', { name })
              : code === 'INVALID_USERNAME'
                ? t('onboarding.err.username')
                : errorMessage(err),
        });
        focusAfterRender.current = usernameRef.current;
      } else if (isUnreachable(err)) {
        setErrors({ form: t('error.unreachable', { url: server }) });
      } else {
        setErrors({ form: errorMessage(err) });
      }
    }
  }

  if (restoring) return <RestoreBackup status={status} onStatus={onStatus} onBack={() => setRestoring(false)} />;

  const buttonText = phase === 'creating' ? t('onboarding.creating') : phase === 'registering' ? t('onboarding.registering') : t('onboarding.create');

  return (
    <main className="gate" data-testid="onboarding">
      <div className="gate__card">
        <BrandMark />
        <h1 className="gate__title">{t('onboarding.title')}</h1>
        <p className="gate__lead">{status.state === 'unregistered' ? t('onboarding.resumeLead') : t('onboarding.lead')}</p>
        <form className="gate__form" onSubmit={submit} noValidate aria-busy={busy}>
          <Field
            label={t('onboarding.username')}
            hint={t('onboarding.usernameHint')}
            error={errors.username}
            testId="onboarding-username"
            inputRef={usernameRef}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoComplete="username"
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
            maxLength={64}
            required
            autoFocus
            disabled={busy}
          />
          <Field
            label={t('onboarding.server')}
            hint={t('onboarding.serverHint')}
            error={errors.server}
            testId="onboarding-server"
            inputRef={serverRef}
            type="url"
            value={serverUrl}
            onChange={(e) => setServerUrl(e.target.value)}
            autoComplete="url"
            spellCheck={false}
            required
            disabled={busy}
          />
          {needPassphrase ? (
            <>
              <Field
                label={t('onboarding.passphrase')}
                hint={t('onboarding.passphraseHint', { min: MIN_PASSPHRASE })}
                error={errors.passphrase}
                testId="onboarding-passphrase"
                inputRef={passRef}
                type="password"
                value={passphrase}
                onChange={(e) => setPassphrase(e.target.value)}
                autoComplete="new-password"
                required
                disabled={busy}
              />
              <Field
                label={t('onboarding.passphraseConfirm')}
                error={errors.confirm}
                testId="onboarding-passphrase-confirm"
                inputRef={confirmRef}
                type="password"
                value={confirm}
                onChange={(e) => setConfirm(e.target.value)}
                autoComplete="new-password"
                required
                disabled={busy}
              />
            </>
          ) : null}
          {errors.form ? (
            <p className="form-error" role="alert" data-testid="onboarding-error">
              {errors.form}
            </p>
          ) : null}
          <button type="submit" className="button button--primary button--block" data-testid="onboarding-create" disabled={busy}>
            {busy ? <span className="spinner" aria-hidden="true" /> : null}
            {buttonText}
          </button>
        </form>
        {status.state === 'no-account' ? (
          <button type="button" className="link-button onboarding__restore" data-testid="onboarding-restore" onClick={() => setRestoring(true)} disabled={busy}>
            {t('restore.open')}
          </button>
        ) : null}
      </div>
    </main>
  );
}
