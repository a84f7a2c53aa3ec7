// The 60-digit safety number shared with a contact, in twelve groups of five.
import { useEffect, useState } from 'react';
import { errorMessage, useRefuge } from '../../api.js';
import { Avatar } from '../../components/Avatar.js';
import { Modal } from '../../components/Modal.js';
import { groupDigits } from '../../format.js';
import { t } from '../../i18n/index.js';

export function SafetyNumberDialog({ peer, onClose }: { peer: string; onClose: () => void }) {
  const api = useRefuge();
  const [digits, setDigits] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    api.contacts
      .safetyNumber({ username: peer })
      .then((r) => {
        if (!cancelled) setDigits(r.digits);
      })
      .catch((e: unknown) => {
        if (!cancelled) setError(errorMessage(e));
      });
    return () => {
      cancelled = true;
    };
  }, [api, peer]);

  return (
    <Modal title={t('safety.title')} onClose={onClose} testId="safety-number-dialog" closeLabel={t('common.close')}>
      <div className="safety">
        <div className="safety__who">
          <Avatar name={peer} size="lg" />
          <span className="safety__name">{peer}</span>
        </div>
        <p className="modal__lead">{t('safety.lead', { name: peer })}</p>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : digits ? (
          <p className="safety__digits" data-testid="safety-number" data-digits={digits}>
            {groupDigits(digits).map((g, i) => (
              <span key={i} className="safety__group">
                {g}{' '}
              </span>
            ))}
          </p>
        ) : (
          <p className="safety__loading" role="status">
            {t('safety.loading')}
          </p>
        )}
        <div className="modal__actions">
          <button type="button" className="button button--primary" onClick={onClose} autoFocus>
            {t('safety.close')}
          </button>
        </div>
      </div>
    </Modal>
  );
}
