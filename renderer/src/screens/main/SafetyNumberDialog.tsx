// The safety number shared with a contact: 60 digits in twelve groups of five and a QR code of
// both identity keys, the verified mark, and -- when their key changed -- accepting the new one.
import { useCallback, useEffect, useId, useState } from 'react';
import { errorMessage, useRefuge } from '../../api.js';
import { Avatar } from '../../components/Avatar.js';
import { IconShield, IconWarning } from '../../components/Icons.js';
import { Modal } from '../../components/Modal.js';
import { QrCode } from '../../components/QrCode.js';
import { groupDigits } from '../../format.js';
import { t } from '../../i18n/index.js';

type Safety = { digits: string; qr: string; verified: boolean; identityChanged: boolean };

export function SafetyNumberDialog({ peer, onClose, onChanged }: { peer: string; onClose: () => void; onChanged: () => void }) {
  const api = useRefuge();
  const [safety, setSafety] = useState<Safety | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [announce, setAnnounce] = useState('');
  const digitsId = useId();

  const load = useCallback(async () => {
    const r = await api.verify.safetyNumber({ username: peer });
    setSafety({ digits: r.digits, qr: r.qr, verified: r.verified, identityChanged: r.identityChanged });
  }, [api, peer]);

  useEffect(() => {
    let cancelled = false;
    api.verify
      .safetyNumber({ username: peer })
      .then((r) => {
        if (!cancelled) setSafety({ digits: r.digits, qr: r.qr, verified: r.verified, identityChanged: r.identityChanged });
      })
      .catch((e: unknown) => {
        if (!cancelled) setError(errorMessage(e));
      });
    return () => {
      cancelled = true;
    };
  }, [api, peer]);

  async function act(run: () => Promise<unknown>, done: string) {
    setBusy(true);
    setError(null);
    try {
      await run();
      await load();
      setAnnounce(done);
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  const groups = safety ? groupDigits(safety.digits) : [];
  return (
    <Modal title={t('safety.title')} onClose={onClose} testId="safety-number-dialog" closeLabel={t('common.close')}>
      <div className="safety">
        <div className="safety__who">
          <Avatar name={peer} size="lg" />
          <span className="safety__name">{peer}</span>
          {safety ? (
            <span
              className={safety.verified ? 'safety__state safety__state--verified' : 'safety__state'}
              data-testid="safety-verified"
              data-verified={safety.verified}
            >
              {safety.verified ? <IconShield className="safety__state-icon" /> : null}
              {safety.verified ? t('safety.verified') : t('safety.notVerified')}
            </span>
          ) : null}
        </div>
        {safety?.identityChanged ? (
          <div className="safety__changed" role="note" data-testid="safety-changed-note">
            <IconWarning className="safety__changed-icon" />
            <p>{t('safety.changed', { name: peer })}</p>
          </div>
        ) : null}
        <p className="modal__lead" id={`${digitsId}-lead`}>
          {t('safety.lead', { name: peer })}
        </p>
        {error ? (
          <p className="form-error" role="alert" data-testid="safety-error">
            {error}
          </p>
        ) : null}
        {safety ? (
          <div className="safety__codes">
            <p
              className="safety__digits"
              data-testid="safety-number"
              data-digits={safety.digits}
              aria-label={t('safety.digitsLabel', { digits: groups.join(' ') })}
              translate="no"
            >
              {groups.map((g, i) => (
                <span key={i} className="safety__group" aria-hidden="true">
                  {g}
                </span>
              ))}
            </p>
            <figure className="safety__qr">
              <QrCode text={safety.qr} label={t('safety.qrLabel', { name: peer })} testId="safety-qr" />
              <figcaption className="safety__qr-caption">{t('safety.qrCaption')}</figcaption>
            </figure>
          </div>
        ) : error ? null : (
          <p className="safety__loading" role="status">
            {t('safety.loading')}
          </p>
        )}
        <p className="sr-only" role="status">
          {announce}
        </p>
        <div className="modal__actions">
          {safety?.identityChanged ? (
            <button
              type="button"
              className="button"
              data-testid="safety-accept-button"
              disabled={busy}
              onClick={() => void act(() => api.verify.acceptIdentity({ username: peer }), t('safety.accepted'))}
            >
              {t('safety.accept')}
            </button>
          ) : null}
          {safety ? (
            <button
              type="button"
              className="button"
              data-testid="safety-verify-button"
              disabled={busy}
              onClick={() =>
                void act(
                  () => api.verify.setVerified({ username: peer, verified: !safety.verified }),
                  safety.verified ? t('safety.unmarked') : t('safety.marked'),
                )
              }
            >
              {safety.verified ? t('safety.unmark') : t('safety.mark')}
            </button>
          ) : null}
          <button type="button" className="button button--primary" onClick={onClose} data-autofocus>
            {t('safety.close')}
          </button>
        </div>
      </div>
    </Modal>
  );
}
