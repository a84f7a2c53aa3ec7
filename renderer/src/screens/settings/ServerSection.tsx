// Settings → Server: which relay carries this account's messages, and in plain words what that
// relay can and cannot see (kept in line with docs/ARCHITECTURE.md, "The relay").
import { useId } from 'react';
import { t, type StringKey } from '../../i18n/index.js';
import type { SettingsSectionProps } from './sections.js';

const CAN_SEE: StringKey[] = ['relay.sees.usernames', 'relay.sees.keys', 'relay.sees.queue', 'relay.sees.network'];
const CANNOT_SEE: StringKey[] = ['relay.hidden.content', 'relay.hidden.contacts', 'relay.hidden.groups', 'relay.hidden.receipts', 'relay.hidden.history'];

export function ServerSection({ status }: SettingsSectionProps) {
  const headingId = useId();
  return (
    <div className="settings__section">
      <section className="settings__group" aria-labelledby={`${headingId}-server`}>
        <h3 className="settings__heading" id={`${headingId}-server`}>
          {t('settings.server.title')}
        </h3>
        <p className="settings__note">{t('settings.server.lead')}</p>
        <p className="server-url" data-testid="settings-server-url" translate="no">
          {status.serverUrl ?? t('settings.server.none')}
        </p>
      </section>
      <section className="settings__group" aria-labelledby={`${headingId}-sees`} data-testid="relay-visibility">
        <h3 className="settings__heading" id={`${headingId}-sees`}>
          {t('relay.title')}
        </h3>
        <p className="settings__note">{t('relay.lead')}</p>
        <h4 className="relay-list__title">{t('relay.sees.title')}</h4>
        <ul className="relay-list relay-list--sees" data-testid="relay-can-see">
          {CAN_SEE.map((k) => (
            <li key={k}>{t(k)}</li>
          ))}
        </ul>
        <h4 className="relay-list__title">{t('relay.hidden.title')}</h4>
        <ul className="relay-list relay-list--hidden" data-testid="relay-cannot-see">
          {CANNOT_SEE.map((k) => (
            <li key={k}>{t(k)}</li>
          ))}
        </ul>
        <p className="settings__note">{t('relay.retention')}</p>
      </section>
    </div>
  );
}
