// Find someone by username on the relay and open an end-to-end encrypted conversation.
import { useRef, useState, useEffect, type FormEvent } from 'react';
import { canonicalUsername, isValidUsername } from '../../../../shared/protocol/username.js';
import { errorCode, errorMessage, isUnreachable, useRefuge } from '../../api.js';
import { Field, USERNAME_INPUT } from '../../components/Field.js';
import { Modal } from '../../components/Modal.js';
import { t } from '../../i18n/index.js';
import { addContactByUsername } from '../../sync.js';

export function AddContactDialog({
  serverUrl,
  ownUsername,
  onClose,
  onAdded,
}: {
  serverUrl: string;
  ownUsername: string;
  onClose: () => void;
  onAdded: (conversationId: string) => void;
}) {
  const api = useRefuge();
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const refocus = useRef(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  useEffect(() => {
    if (refocus.current && !busy) {
      refocus.current = false;
      inputRef.current?.focus();
      inputRef.current?.select();
    }
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const name = canonicalUsername(username);
    if (!isValidUsername(name)) {
      setError(t('onboarding.err.username'));
      inputRef.current?.focus();
      return;
    }
    if (ownUsername && name === canonicalUsername(ownUsername)) {
      setError(t('addContact.err.self'));
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { conversationId } = await addContactByUsername(api, serverUrl, name);
      if (alive.current) onAdded(conversationId);
    } catch (err) {
      if (!alive.current) return;
      setError(
        errorCode(err) === 'USER_NOT_FOUND'
          ? t('error.userNotFound', { name })
          : isUnreachable(err)
            ? t('error.unreachable', { url: serverUrl })
            : errorMessage(err),
      );
      refocus.current = true;
      setBusy(false);
    }
  }

  return (
    <Modal title={t('addContact.title')} onClose={onClose} testId="add-contact-dialog" closeLabel={t('common.close')}>
      <form className="modal__form" onSubmit={submit} noValidate aria-busy={busy}>
        <p className="modal__lead">{t('addContact.lead')}</p>
        <Field
          label={t('addContact.username')}
          error={error}
          testId="add-contact-username"
          inputRef={inputRef}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          {...USERNAME_INPUT}
          data-autofocus
          required
          disabled={busy}
        />
        <div className="modal__actions">
          <button type="button" className="button" onClick={onClose}>
            {t('addContact.cancel')}
          </button>
          <button type="submit" className="button button--primary" data-testid="add-contact-submit" disabled={busy}>
            {busy ? <span className="spinner" aria-hidden="true" /> : null}
            {busy ? t('addContact.working') : t('addContact.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
