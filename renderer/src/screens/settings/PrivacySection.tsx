// Settings → Privacy: read receipts and typing indicators. Off means neither sent nor shown (the
// core enforces both directions; the UI just stops showing them).
import { useId } from 'react';
import { Switch } from '../../components/Switch.js';
import { t } from '../../i18n/index.js';
import { useSaveSetting } from '../../settings/useSaveSetting.js';
import type { SettingsSectionProps } from './sections.js';

export function PrivacySection(_props: SettingsSectionProps) {
  const headingId = useId();
  const { settings, save, saving, error, saved } = useSaveSetting();
  return (
    <div className="settings__section">
      <section className="settings__group" aria-labelledby={headingId}>
        <h3 className="settings__heading" id={headingId}>
          {t('settings.privacy.title')}
        </h3>
        <Switch
          label={t('settings.receipts.label')}
          hint={t('settings.receipts.hint')}
          testId="settings-receipts"
          checked={settings?.receipts ?? false}
          disabled={!settings || saving}
          onChange={(receipts) => void save({ receipts })}
        />
        <Switch
          label={t('settings.typing.label')}
          hint={t('settings.typing.hint')}
          testId="settings-typing"
          checked={settings?.typing ?? false}
          disabled={!settings || saving}
          onChange={(typing) => void save({ typing })}
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <p className="settings__saved" role="status" data-testid="settings-privacy-saved">
          {saved ? t('settings.saved') : ''}
        </p>
      </section>
    </div>
  );
}
