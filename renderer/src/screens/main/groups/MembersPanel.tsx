// A group's members and settings, opened from the chat header. Everyone sees the members (admins
// marked) and may leave; admins also add and remove members, grant and revoke admin rights and
// rename the group. Removing and leaving ask first. Every change is one groups.* call; the core
// queues the encrypted notices, and `onChanged` has the sync engine send them.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { canonicalUsername, isValidUsername } from '../../../../../shared/protocol/username.js';
import { MAX_GROUP_MEMBERS, useRefuge, type Group } from '../../../api.js';
import { Avatar } from '../../../components/Avatar.js';
import { Field, USERNAME_INPUT } from '../../../components/Field.js';
import { Modal } from '../../../components/Modal.js';
import { t, tp } from '../../../i18n/index.js';
import { openGroupSessions } from '../../../sync.js';
import { groupError, sessionFailure } from './errors.js';
import { useMounted } from '../../../useMounted.js';

type Confirm = { kind: 'remove'; username: string } | { kind: 'leave' };

export function MembersPanel({
  group,
  loadError,
  serverUrl,
  ownUsername,
  onClose,
  onChanged,
}: {
  /** null while groups.info has not answered yet */
  group: Group | null;
  loadError: string | null;
  serverUrl: string;
  ownUsername: string;
  onClose: () => void;
  /** a change was made: the new state, to show at once and to send out */
  onChanged: (group: Group) => void;
}) {
  const api = useRefuge();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [newName, setNewName] = useState(group?.name ?? '');
  const [adding, setAdding] = useState('');
  const [addError, setAddError] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const alive = useMounted();

  // the name box follows renames from elsewhere until the user edits it
  const shownName = useRef(group?.name ?? '');
  useEffect(() => {
    if (!group) return;
    if (newName === shownName.current) setNewName(group.name);
    shownName.current = group.name;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [group?.name]);

  useEffect(() => {
    if (confirm) confirmRef.current?.focus();
  }, [confirm]);

  const me = canonicalUsername(ownUsername);
  const title = group?.name || t('group.panel.members');
  const canManage = !!group && group.member && group.admin;

  /** runs one change; `label` is the progress line while it runs */
  async function run(label: string, change: () => Promise<Group>, username = ''): Promise<boolean> {
    if (busy) return false;
    setBusy(label);
    setError(null);
    try {
      const next = await change();
      if (!alive.current) return false;
      onChanged(next);
      return true;
    } catch (e) {
      if (alive.current) setError(groupError(e, serverUrl, username));
      return false;
    } finally {
      if (alive.current) setBusy(null);
    }
  }

  async function rename(e: FormEvent) {
    e.preventDefault();
    if (!group) return;
    const name = newName.trim();
    if (!name || name === group.name) return;
    await run(t('group.panel.working'), () => api.groups.rename({ groupId: group.groupId, name }));
  }

  async function add(e: FormEvent) {
    e.preventDefault();
    if (!group) return;
    const username = canonicalUsername(adding);
    if (!isValidUsername(username)) {
      setAddError(t('onboarding.err.username'));
      return;
    }
    if (group.members.some((m) => m.username === username)) {
      setAddError(t('group.err.already', { name: username }));
      return;
    }
    if (group.members.length + 1 > MAX_GROUP_MEMBERS) {
      setAddError(t('group.new.err.tooMany', { max: MAX_GROUP_MEMBERS }));
      return;
    }
    setAddError(null);
    const done = await run(
      t('group.progress.adding', { name: username }),
      async () => {
        const { failed } = await openGroupSessions(api, serverUrl, { usernames: [username] });
        const failure = failed[0];
        if (failure) throw Object.assign(new Error(sessionFailure(failure.username, failure.code, serverUrl)), { code: 'SESSION_FAILED' });
        return api.groups.add({ groupId: group.groupId, username });
      },
      username,
    );
    if (done) setAdding('');
  }

  async function confirmed() {
    if (!group || !confirm) return;
    const action = confirm;
    setConfirm(null);
    if (action.kind === 'remove') {
      await run(t('group.panel.working'), () => api.groups.remove({ groupId: group.groupId, username: action.username }), action.username);
    } else if (await run(t('group.panel.working'), () => api.groups.leave({ groupId: group.groupId }))) {
      onClose();
    }
  }

  return (
    <Modal title={title} onClose={onClose} testId="group-panel" closeLabel={t('common.close')}>
      <div className="group-panel" aria-busy={busy !== null}>
        {group ? (
          <p className="group-panel__count" data-testid="group-panel-count">
            {tp('group.memberCount', group.members.length)}
          </p>
        ) : loadError ? (
          <p className="form-error" role="alert">
            {loadError}
          </p>
        ) : (
          <p className="group-panel__count">
            <span className="spinner" aria-hidden="true" />
          </p>
        )}
        {group && !group.member ? (
          <p className="group-panel__notice" data-testid="group-panel-not-member">
            {t('group.notMember')}
          </p>
        ) : null}
        {canManage ? (
          <form className="group-panel__row" onSubmit={rename}>
            <Field
              label={t('group.panel.rename')}
              testId="group-rename-input"
              value={newName}
              onChange={(e) => setNewName(e.target.value)}
              maxLength={128}
              autoComplete="off"
              disabled={busy !== null}
            />
            <button
              type="submit"
              className="button"
              data-testid="group-rename-submit"
              disabled={busy !== null || !newName.trim() || newName.trim() === group.name}
            >
              {t('group.panel.renameSave')}
            </button>
          </form>
        ) : null}
        {group ? (
          <section aria-label={t('group.panel.members')}>
            <h3 className="group-panel__heading">{t('group.panel.members')}</h3>
            <ul className="member-list" data-testid="group-members">
              {group.members.map((m) => {
                const self = m.username === me;
                return (
                  <li key={m.username} className="member" data-testid="group-member" data-username={m.username} data-admin={m.admin ? 'true' : 'false'}>
                    <Avatar name={m.username} size="sm" />
                    <span className="member__name">{self ? t('group.panel.you', { name: m.username }) : m.username}</span>
                    {m.admin ? (
                      <span className="member__badge" data-testid="group-member-admin">
                        {t('group.panel.admin')}
                      </span>
                    ) : null}
                    {canManage && !self ? (
                      <span className="member__actions">
                        <button
                          type="button"
                          className="button button--small"
                          data-testid="group-member-toggle-admin"
                          aria-label={m.admin ? t('group.panel.revokeAdmin', { name: m.username }) : t('group.panel.makeAdmin', { name: m.username })}
                          disabled={busy !== null}
                          onClick={() =>
                            void run(t('group.panel.working'), () => api.groups.setAdmin({ groupId: group.groupId, username: m.username, admin: !m.admin }), m.username)
                          }
                        >
                          {m.admin ? t('group.panel.revokeAdminShort') : t('group.panel.makeAdminShort')}
                        </button>
                        <button
                          type="button"
                          className="button button--small button--danger"
                          data-testid="group-member-remove"
                          aria-label={t('group.panel.remove', { name: m.username })}
                          disabled={busy !== null}
                          onClick={() => setConfirm({ kind: 'remove', username: m.username })}
                        >
                          {t('group.panel.removeShort')}
                        </button>
                      </span>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          </section>
        ) : null}
        {canManage ? (
          <form className="group-panel__row" onSubmit={add} noValidate>
            <Field
              label={t('group.panel.add')}
              error={addError}
              testId="group-add-username"
              value={adding}
              onChange={(e) => {
                setAdding(e.target.value);
                setAddError(null);
              }}
              {...USERNAME_INPUT}
              disabled={busy !== null}
            />
            <button type="submit" className="button" data-testid="group-add-submit" disabled={busy !== null || !adding.trim()}>
              {t('group.panel.addSubmit')}
            </button>
          </form>
        ) : null}
        {confirm && group ? (
          <div className="confirm" role="alertdialog" aria-label={t('group.panel.confirmTitle')} data-testid="group-confirm">
            <p className="confirm__text">
              {confirm.kind === 'remove' ? t('group.confirm.remove', { name: confirm.username, group: group.name }) : t('group.confirm.leave', { group: group.name })}
            </p>
            <div className="confirm__actions">
              <button type="button" className="button" data-testid="group-confirm-cancel" onClick={() => setConfirm(null)}>
                {t('group.confirm.cancel')}
              </button>
              <button ref={confirmRef} type="button" className="button button--danger-solid" data-testid="group-confirm-ok" onClick={() => void confirmed()}>
                {confirm.kind === 'remove' ? t('group.confirm.removeOk') : t('group.confirm.leaveOk')}
              </button>
            </div>
          </div>
        ) : null}
        {busy ? (
          <p className="group-panel__status" role="status" data-testid="group-panel-status">
            <span className="spinner" aria-hidden="true" />
            {busy}
          </p>
        ) : null}
        {error ? (
          <p className="form-error" role="alert" data-testid="group-panel-error">
            {error}
          </p>
        ) : null}
        {group?.member && !confirm ? (
          <div className="group-panel__footer">
            <button type="button" className="button button--danger" data-testid="group-leave" disabled={busy !== null} onClick={() => setConfirm({ kind: 'leave' })}>
              {t('group.panel.leave')}
            </button>
          </div>
        ) : null}
      </div>
    </Modal>
  );
}
