// A locked profile: ask for the passphrase (or, with an OS keychain, unlock without one).
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { errorMessage, useRefuge, type AppStatus } from '../api.js';
import { Field } from '../components/Field.js';
import { BrandMark } from '../components/BrandMark.js';
import { t } from '../i18n/index.js';

export function Unlock({ status, onStatus }: { status: AppStatus; onStatus: (s: AppStatus) => void }) {
  const api = useRefuge();
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const needPassphrase = status.passphraseRequired;
  const refocus = useRef(false);

  useEffect(() => {
    if (refocus.current && !busy) {
      refocus.current = false;
      inputRef.current?.focus();
    }
  });

  async function unlock(request: { passphrase?: string }) {
    setBusy(true);
    setError(null);
    try {
      onStatus(await api.vault.unlock(request));
    } catch (err) {
      setError(errorMessage(err));
      setPassphrase('');
      refocus.current = true;
      setBusy(false);
    }
  }

  // With an OS keychain there is nothing to type: try once on arrival.
  const tried = useRef(false);
  useEffect(() => {
    if (!needPassphrase && !tried.current) {
      tried.current = true;
      void unlock({});
    }
  }, [needPassphrase]);

  function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    if (needPassphrase && !passphrase) {
      inputRef.current?.focus();
      return;
    }
    void unlock(needPassphrase ? { passphrase } : {});
  }

  const lead = !needPassphrase
    ? t('unlock.leadKeychain')
    : status.username
      ? t('unlock.leadUser', { name: status.username })
      : t('unlock.lead');

  return (
    <main className="gate" data-testid="unlock">
      <div className="gate__card">
        <BrandMark variant="lock" />
        <h1 className="gate__title">{t('unlock.title')}</h1>
        <p className="gate__lead">{lead}</p>
        <form className="gate__form" onSubmit={submit} noValidate aria-busy={busy}>
          {needPassphrase ? (
            <Field
              label={t('unlock.passphrase')}
              error={error}
              testId="unlock-passphrase"
              inputRef={inputRef}
              type="password"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              autoComplete="current-password"
              autoFocus
              required
              disabled={busy}
            />
          ) : error ? (
            <p className="form-error" role="alert" data-testid="unlock-passphrase-error">
              {error}
            </p>
          ) : null}
          {needPassphrase || error ? (
            <button type="submit" className="button button--primary button--block" data-testid="unlock-button" disabled={busy}>
              {busy ? <span className="spinner" aria-hidden="true" /> : null}
              {busy ? t('unlock.working') : needPassphrase ? t('unlock.submit') : t('app.retry')}
            </button>
          ) : (
            <div className="spinner spinner--large" aria-hidden="true" />
          )}
        </form>
      </div>
    </main>
  );
}
