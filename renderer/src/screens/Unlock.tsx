// A locked profile: ask for the passphrase (or, with an OS keychain, unlock without one).
// Wrong passphrases get the core's message; after too many, the core makes the user wait and says
// how long: the button stays disabled (with a countdown) until then.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { errorCode, errorMessage, useRefuge, type AppStatus } from '../api.js';
import { Field } from '../components/Field.js';
import { BrandMark } from '../components/BrandMark.js';
import { t } from '../i18n/index.js';
import type { LockReason } from '../lock/reason.js';
import { waitFromMessage } from '../lock/retry.js';

/** Seconds left until `until` (epoch ms), ticking once a second; 0 when past or null. */
function useCountdown(until: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === null) return;
    setNow(Date.now());
    const id = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(id);
  }, [until]);
  return until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
}

export function Unlock({
  status,
  onStatus,
  reason = null,
  lockError = null,
}: {
  status: AppStatus;
  onStatus: (s: AppStatus) => void;
  reason?: LockReason | null;
  lockError?: string | null;
}) {
  const api = useRefuge();
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [waitUntil, setWaitUntil] = useState<number | null>(null);
  const secondsLeft = useCountdown(waitUntil);
  const waiting = secondsLeft > 0;
  const inputRef = useRef<HTMLInputElement>(null);
  const needPassphrase = status.passphraseRequired;
  const refocus = useRef(false);

  useEffect(() => {
    if (refocus.current && !busy) {
      refocus.current = false;
      inputRef.current?.focus();
    }
  });

  // the wait is over: forget it, so the button says "Unlock" again
  useEffect(() => {
    if (waitUntil !== null && !waiting) {
      setWaitUntil(null);
      refocus.current = true;
    }
  }, [waitUntil, waiting]);

  async function unlock(request: { passphrase?: string }) {
    setBusy(true);
    setError(null);
    try {
      onStatus(await api.vault.unlock(request));
    } catch (err) {
      const message = errorMessage(err);
      setError(message);
      if (errorCode(err) === 'TOO_MANY_ATTEMPTS') setWaitUntil(Date.now() + waitFromMessage(message));
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
    if (busy || waiting) return;
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

  // locking by hand needs no explanation; locking by itself does
  const notice = reason?.kind === 'idle' ? t('unlock.idleLocked', { minutes: reason.minutes }) : null;

  return (
    <main className="gate" data-testid="unlock">
      <div className="gate__card">
        <BrandMark variant="lock" />
        <h1 className="gate__title">{t('unlock.title')}</h1>
        <p className="gate__lead">{lead}</p>
        {notice ? (
          <p className="gate__notice" role="status" data-testid="unlock-notice" data-reason={reason?.kind}>
            {notice}
          </p>
        ) : null}
        {lockError ? (
          <p className="form-error gate__notice" role="alert" data-testid="lock-error">
            {t('unlock.lockFailed', { message: lockError })}
          </p>
        ) : null}
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
            <button
              type="submit"
              className="button button--primary button--block"
              data-testid="unlock-button"
              data-waiting={waiting ? 'true' : undefined}
              disabled={busy || waiting}
            >
              {busy ? <span className="spinner" aria-hidden="true" /> : null}
              {busy
                ? t('unlock.working')
                : waiting
                  ? t('unlock.wait', { seconds: secondsLeft })
                  : needPassphrase
                    ? t('unlock.submit')
                    : t('app.retry')}
            </button>
          ) : (
            <div className="spinner spinner--large" aria-hidden="true" />
          )}
        </form>
      </div>
    </main>
  );
}
