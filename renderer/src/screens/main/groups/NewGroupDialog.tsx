// Start a group: a name and the people to invite (ticked from the contacts, or typed by
// username). Before the group is created, pairwise sessions are opened with every member we
// have none with yet (ensureSessions through ../../../sync.ts); a user the relay does not know,
// or whose keys cannot be used, is named in the error and nothing is created.
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { canonicalUsername, isValidUsername } from '../../../../../shared/protocol/username.js';
import { MAX_GROUP_MEMBERS, useRefuge, type Contact } from '../../../api.js';
import { Avatar } from '../../../components/Avatar.js';
import { Field, USERNAME_INPUT } from '../../../components/Field.js';
import { IconClose } from '../../../components/Icons.js';
import { Modal } from '../../../components/Modal.js';
import { t, tp } from '../../../i18n/index.js';
import { openGroupSessions } from '../../../sync.js';
import { groupError, sessionFailure } from './errors.js';
import { useMounted } from '../../../useMounted.js';

/** the longest group name the core accepts (GroupNameSchema) */
const MAX_NAME = 128;

type Step = 'sessions' | 'creating';

export function NewGroupDialog({
  serverUrl,
  ownUsername,
  onClose,
  onCreated,
}: {
  serverUrl: string;
  ownUsername: string;
  onClose: () => void;
  onCreated: (conversationId: string) => void;
}) {
  const api = useRefuge();
  const [name, setName] = useState('');
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  /** who will be invited (canonical usernames), in the order they were picked */
  const [selected, setSelected] = useState<string[]>([]);
  const [typed, setTyped] = useState('');
  const [typedError, setTypedError] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [step, setStep] = useState<Step | null>(null);
  /** the users the last attempt could not reach: marked in the list until removed */
  const [failedUsers, setFailedUsers] = useState<ReadonlySet<string>>(new Set());
  const nameRef = useRef<HTMLInputElement>(null);
  const typedRef = useRef<HTMLInputElement>(null);
  const alive = useMounted();

  useEffect(() => {
    api.contacts
      .list({})
      .then((list) => {
        if (alive.current) setContacts([...list].sort((a, b) => a.username.localeCompare(b.username)));
      })
      .catch(() => {
        // typing usernames still works without the list
        if (alive.current) setContacts([]);
      });
  }, [api]);

  const me = canonicalUsername(ownUsername);
  const busy = step !== null;
  const contactNames = new Set((contacts ?? []).map((c) => c.username));
  /** typed users who are not (yet) contacts: shown as removable chips */
  const extra = selected.filter((u) => !contactNames.has(u));

  function toggle(username: string) {
    setError(null);
    setSelected((s) => (s.includes(username) ? s.filter((u) => u !== username) : [...s, username]));
  }

  function addTyped() {
    const username = canonicalUsername(typed);
    if (!username) return;
    if (!isValidUsername(username)) {
      setTypedError(t('onboarding.err.username'));
      return;
    }
    if (username === me) {
      setTypedError(t('addContact.err.self'));
      return;
    }
    if (selected.includes(username)) {
      setTypedError(t('group.new.err.already', { name: username }));
      return;
    }
    setTypedError(null);
    setError(null);
    setSelected((s) => [...s, username]);
    setTyped('');
    typedRef.current?.focus();
  }

  function onTypedKey(e: KeyboardEvent<HTMLInputElement>) {
    // Enter adds the name to the list instead of submitting the whole form
    if (e.key === 'Enter' && !e.nativeEvent.isComposing) {
      e.preventDefault();
      addTyped();
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const groupName = name.trim();
    if (!groupName) {
      setNameError(t('group.new.err.name'));
      nameRef.current?.focus();
      return;
    }
    setNameError(null);
    // a name still in the box counts as picked
    const pending = canonicalUsername(typed);
    const members = pending && isValidUsername(pending) && pending !== me && !selected.includes(pending) ? [...selected, pending] : selected;
    if (members.length === 0) {
      setError(t('group.new.err.noMembers'));
      return;
    }
    if (members.length + 1 > MAX_GROUP_MEMBERS) {
      setError(t('group.new.err.tooMany', { max: MAX_GROUP_MEMBERS }));
      return;
    }
    if (members !== selected) {
      setSelected(members);
      setTyped('');
    }
    setError(null);
    setFailedUsers(new Set());
    setStep('sessions');
    try {
      const { failed } = await openGroupSessions(api, serverUrl, { usernames: members });
      if (!alive.current) return;
      if (failed.length > 0) {
        setFailedUsers(new Set(failed.map((f) => f.username)));
        setError(failed.map((f) => sessionFailure(f.username, f.code, serverUrl)).join(' '));
        setStep(null);
        return;
      }
      setStep('creating');
      const { conversationId } = await api.groups.create({ name: groupName, members });
      if (alive.current) onCreated(conversationId);
    } catch (err) {
      if (!alive.current) return;
      setError(groupError(err, serverUrl));
      setStep(null);
    }
  }

  return (
    <Modal title={t('group.new.title')} onClose={onClose} testId="new-group-dialog" closeLabel={t('common.close')}>
      <form className="modal__form new-group" onSubmit={submit} noValidate aria-busy={busy}>
        <p className="modal__lead">{t('group.new.lead')}</p>
        <Field
          label={t('group.new.name')}
          error={nameError}
          testId="new-group-name"
          inputRef={nameRef}
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoComplete="off"
          maxLength={MAX_NAME}
          data-autofocus
          required
          disabled={busy}
        />
        <fieldset className="picker" disabled={busy}>
          <legend className="field__label picker__legend">
            {t('group.new.members')}
            <span className="picker__count" data-testid="new-group-count">
              {tp('group.new.selected', selected.length)}
            </span>
          </legend>
          {contacts && contacts.length === 0 ? <p className="picker__empty">{t('group.new.noContacts')}</p> : null}
          {contacts && contacts.length > 0 ? (
            <ul className="picker__list" data-testid="new-group-contacts">
              {contacts.map((c) => (
                <li key={c.username}>
                  <label className="picker__option">
                    <input
                      type="checkbox"
                      className="picker__check"
                      data-testid="new-group-contact"
                      data-username={c.username}
                      checked={selected.includes(c.username)}
                      onChange={() => toggle(c.username)}
                    />
                    <Avatar name={c.username} size="sm" />
                    <span className="picker__name">{c.username}</span>
                  </label>
                </li>
              ))}
            </ul>
          ) : null}
          {extra.length > 0 ? (
            <ul className="picker__chips" aria-label={t('group.new.members')}>
              {extra.map((u) => (
                <li
                  key={u}
                  className={failedUsers.has(u) ? 'chip chip--failed' : 'chip'}
                  data-testid="new-group-member"
                  data-username={u}
                  data-failed={failedUsers.has(u) ? 'true' : undefined}
                >
                  <span className="chip__name">{u}</span>
                  <button
                    type="button"
                    className="chip__remove"
                    aria-label={t('group.new.removeMember', { name: u })}
                    title={t('group.new.removeMember', { name: u })}
                    onClick={() => toggle(u)}
                  >
                    <IconClose />
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          <div className="picker__add">
            <Field
              label={t('group.new.username')}
              error={typedError}
              testId="new-group-username"
              inputRef={typedRef}
              value={typed}
              onChange={(e) => {
                setTyped(e.target.value);
                setTypedError(null);
              }}
              onKeyDown={onTypedKey}
              {...USERNAME_INPUT}
            />
            <button type="button" className="button" data-testid="new-group-username-add" onClick={addTyped}>
              {t('group.new.usernameAdd')}
            </button>
          </div>
        </fieldset>
        {step ? (
          <p className="new-group__progress" role="status" data-testid="new-group-progress" data-step={step}>
            <span className="spinner" aria-hidden="true" />
            {step === 'sessions' ? t('group.progress.sessions') : t('group.progress.creating')}
          </p>
        ) : null}
        {error ? (
          <p className="form-error" role="alert" data-testid="new-group-error">
            {error}
          </p>
        ) : null}
        <div className="modal__actions">
          <button type="button" className="button" onClick={onClose}>
            {t('group.new.cancel')}
          </button>
          <button type="submit" className="button button--primary" data-testid="new-group-submit" disabled={busy}>
            {busy ? <span className="spinner" aria-hidden="true" /> : null}
            {t('group.new.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
