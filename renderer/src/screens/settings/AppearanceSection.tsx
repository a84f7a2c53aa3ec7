// Settings → Appearance: theme (system/light/dark) and language (system/English/Korean). Both
// apply at once (Session follows the settings) and are remembered for the unlock screen.
import { useId } from 'react';
import type { Settings } from '../../api.js';
import { SelectField } from '../../components/Field.js';
import { t } from '../../i18n/index.js';
import { useSaveSetting } from '../../settings/useSaveSetting.js';
import type { SettingsSectionProps } from './sections.js';

const THEMES: Settings['theme'][] = ['system', 'light', 'dark'];
const LANGUAGES: Settings['language'][] = ['system', 'en', 'ko'];

/** Languages are named in their own language, so anyone can find theirs. */
function languageLabel(l: Settings['language']): string {
  if (l === 'en') return 'English';
  if (l === 'ko') return '한국어';
  return t('settings.language.system');
}

export function AppearanceSection(_props: SettingsSectionProps) {
  const headingId = useId();
  const { settings, save, saving, error, saved } = useSaveSetting();
  const themeLabel = { system: t('settings.theme.system'), light: t('settings.theme.light'), dark: t('settings.theme.dark') };
  return (
    <div className="settings__section">
      <section className="settings__group" aria-labelledby={headingId}>
        <h3 className="settings__heading" id={headingId}>
          {t('settings.appearance.title')}
        </h3>
        <SelectField
          label={t('settings.theme.label')}
          hint={t('settings.theme.hint')}
          testId="settings-theme"
          options={THEMES.map((v) => ({ value: v, label: themeLabel[v] }))}
          value={settings?.theme ?? ''}
          disabled={!settings || saving}
          onChange={(e) => {
            const theme = THEMES.find((v) => v === e.target.value);
            if (theme) void save({ theme });
          }}
        />
        <SelectField
          label={t('settings.language.label')}
          hint={t('settings.language.hint')}
          testId="settings-language"
          options={LANGUAGES.map((v) => ({ value: v, label: languageLabel(v) }))}
          value={settings?.language ?? ''}
          disabled={!settings || saving}
          onChange={(e) => {
            const language = LANGUAGES.find((v) => v === e.target.value);
            if (language) void save({ language });
          }}
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <p className="settings__saved" role="status" data-testid="settings-appearance-saved">
          {saved ? t('settings.saved') : ''}
        </p>
      </section>
    </div>
  );
}
