// Desktop notifications through the Notification API: shown natively by Electron in the app, by
// the browser under the web host. What they say is decided by notify.ts (the privacy setting).
export type Permission = NotificationPermission | 'unsupported';

export function notificationPermission(): Permission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Asks once, and only on a user action (a click, a sent message): never at start-up. */
export async function requestNotificationPermission(): Promise<Permission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

/**
 * Shows one notification; a later one with the same tag (the conversation) replaces it, so a
 * burst of messages leaves one notification per conversation. Clicking it runs onClick.
 */
export function showNotification(content: { title: string; body: string }, tag: string, onClick: () => void): void {
  if (notificationPermission() !== 'granted') return;
  try {
    const n = new Notification(content.title, { body: content.body, tag });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  } catch {
    // some platforms refuse page notifications (e.g. a service worker is required): nothing to show
  }
}
