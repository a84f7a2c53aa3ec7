// Clear words for what can go wrong with a group: a user the relay does not know, no session,
// a changed safety number, not (or no longer) allowed. Shared by the new-group dialog and the
// members panel.
import { errorCode, errorMessage, isUnreachable } from '../../../api.js';
import { t } from '../../../i18n/index.js';

/** One user ensureSessions could not open a session with (the code says why). */
export function sessionFailure(username: string, code: string, serverUrl: string): string {
  switch (code) {
    case 'USER_NOT_FOUND':
      return t('error.userNotFound', { name: username });
    case 'IDENTITY_CHANGED':
      return t('group.err.identityChanged', { name: username });
    case 'RELAY_UNREACHABLE':
    case 'RELAY_TIMEOUT':
      return t('error.unreachable', { url: serverUrl });
    default:
      return t('group.err.noSession', { name: username });
  }
}

/** An error from a groups.* call or a relay flow; `username` is the member concerned, if any. */
export function groupError(error: unknown, serverUrl: string, username = ''): string {
  if (isUnreachable(error)) return t('error.unreachable', { url: serverUrl });
  switch (errorCode(error)) {
    case 'USER_NOT_FOUND':
      return t('error.userNotFound', { name: username });
    case 'NO_SESSION':
      return username ? t('group.err.noSession', { name: username }) : errorMessage(error);
    case 'IDENTITY_CHANGED':
      return username ? t('group.err.identityChanged', { name: username }) : errorMessage(error);
    case 'NOT_A_MEMBER':
      return t('group.err.notMember');
    case 'NOT_ADMIN':
      return t('group.err.notAdmin');
    case 'NOT_ALLOWED':
      return t('group.err.lastAdmin');
    case 'ALREADY_MEMBER':
      return t('group.err.already', { name: username });
    default:
      return errorMessage(error);
  }
}
