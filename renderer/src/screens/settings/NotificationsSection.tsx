// Settings → Notifications: what a desktop notification shows (name and text, name only, or
// neither), and whether this system lets Refuge show any (the permission is asked here, on a
// click, or after the first message the user sends -- never at start-up).
import { useEffect, useId, useState } from 'react';
import type { Settings } from '../../api.js';
import { SelectField } from '../../components/Field.js';
import { t } from '../../i18n/index.js';
import { notificationPermission, requestNotificationPermission, type Permission } from '../../notifications.js';
import { useSaveSetting } from '../../settings/useSaveSetting.js';
import type { SettingsSectionProps } from './sections.js';

const PRIVACY: Settings['notifications'][] = ['name-and-text', 'name-only', 'none'];

export function NotificationsSection(_props: SettingsSectionProps) {
  const headingId = useId();
  const { settings, save, saving, error, saved } = useSaveSetting();
  const [permission, setPermission] = useState<Permission>(() => notificationPermission());
  useEffect(() => {
    // the user may change it in the system settings while the dialog is open
    const onFocus = () => setPermission(notificationPermission());
    window.addEventListener('focus', onFocus);
    return () => window.removeEventListener('focus', onFocus);
  }, []);
  const labels = {
    'name-and-text': t('settings.notifications.nameAndText'),
    'name-only': t('settings.notifications.nameOnly'),
    none: t('settings.notifications.none'),
  };
  return (
    <div className="settings__section">
      <section className="settings__group" aria-labelledby={headingId}>
        <h3 className="settings__heading" id={headingId}>
          {t('settings.notifications.title')}
        </h3>
        <SelectField
          label={t('settings.notifications.label')}
          hint={t('settings.notifications.hint')}
          testId="settings-notifications"
          options={PRIVACY.map((v) => ({ value: v, label: labels[v] }))}
          value={settings?.notifications ?? ''}
          disabled={!settings || saving}
          onChange={(e) => {
            const notifications = PRIVACY.find((v) => v === e.target.value);
            if (notifications) void save({ notifications });
          }}
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <p className="settings__saved" role="status" data-testid="settings-notifications-saved">
          {saved ? t('settings.saved') : ''}
        </p>
        <div className="settings__permission" data-testid="notifications-permission" data-permission={permission}>
          {permission === 'granted' ? <p className="settings__note">{t('settings.notifications.granted')}</p> : null}
          {permission === 'denied' ? <p className="settings__note">{t('settings.notifications.denied')}</p> : null}
          {permission === 'unsupported' ? <p className="settings__note">{t('settings.notifications.unsupported')}</p> : null}
          {permission === 'default' ? (
            <>
              <p className="settings__note">{t('settings.notifications.ask')}</p>
              <div className="settings__actions">
                <button
                  type="button"
                  className="button"
                  data-testid="notifications-permission-button"
                  onClick={() => void requestNotificationPermission().then(setPermission)}
                >
                  {t('settings.notifications.allow')}
                </button>
              </div>
            </>
          ) : null}
        </div>
        <p className="settings__note">{t('settings.notifications.mute')}</p>
      </section>
    </div>
  );
}
