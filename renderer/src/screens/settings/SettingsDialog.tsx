// Settings: a dialog with a list of sections (tabs) on the side, one section shown at a time.
// The sections come from ./sections.tsx.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { AppStatus } from '../../api.js';
import { Modal } from '../../components/Modal.js';
import { t } from '../../i18n/index.js';
import { useSettings } from '../../settings/SettingsContext.js';
import { settingsSections } from './sections.js';

export function SettingsDialog({
  status,
  canLock,
  refreshStatus,
  initialSection,
  onClose,
}: {
  status: AppStatus;
  canLock: boolean;
  refreshStatus: () => Promise<void>;
  initialSection?: string;
  onClose: () => void;
}) {
  const { error, reload } = useSettings();
  const [current, setCurrent] = useState(() => settingsSections.find((s) => s.id === initialSection)?.id ?? settingsSections[0]?.id ?? '');
  const base = useId();
  const tabs = useRef<Array<HTMLButtonElement | null>>([]);
  const section = settingsSections.find((s) => s.id === current) ?? settingsSections[0];

  // narrow windows show the tabs as a scrolling row: keep the chosen one in view
  useEffect(() => {
    const i = settingsSections.findIndex((s) => s.id === current);
    tabs.current[i]?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [current]);

  // arrow keys move between tabs (roving focus), as in every tab list
  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const i = settingsSections.findIndex((s) => s.id === current);
    let next = -1;
    if (e.key === 'ArrowDown' || e.key === 'ArrowRight') next = (i + 1) % settingsSections.length;
    else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') next = (i - 1 + settingsSections.length) % settingsSections.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = settingsSections.length - 1;
    if (next < 0) return;
    e.preventDefault();
    const s = settingsSections[next];
    if (!s) return;
    setCurrent(s.id);
    tabs.current[next]?.focus();
  }

  return (
    <Modal title={t('settings.title')} onClose={onClose} testId="settings-dialog" closeLabel={t('common.close')} size="wide">
      <div className="settings">
        <div className="settings__nav" role="tablist" aria-label={t('settings.sections')} aria-orientation="vertical" onKeyDown={onKeyDown}>
          {settingsSections.map((s, i) => {
            const selected = s.id === section?.id;
            const Icon = s.icon;
            return (
              <button
                key={s.id}
                ref={(el) => {
                  tabs.current[i] = el;
                }}
                type="button"
                role="tab"
                id={`${base}-tab-${s.id}`}
                aria-selected={selected}
                aria-controls={`${base}-panel-${s.id}`}
                tabIndex={selected ? 0 : -1}
                className={selected ? 'settings__tab settings__tab--selected' : 'settings__tab'}
                data-testid="settings-tab"
                data-section={s.id}
                onClick={() => setCurrent(s.id)}
              >
                <Icon className="settings__tab-icon" />
                {t(s.title)}
              </button>
            );
          })}
        </div>
        {section ? (
          <div
            className="settings__panel"
            role="tabpanel"
            id={`${base}-panel-${section.id}`}
            aria-labelledby={`${base}-tab-${section.id}`}
            data-testid={`settings-section-${section.id}`}
          >
            {error ? (
              <div className="form-error settings__load-error" role="alert" data-testid="settings-error">
                {t('settings.loadError', { message: error })}{' '}
                <button type="button" className="link-button" onClick={reload}>
                  {t('app.retry')}
                </button>
              </div>
            ) : null}
            <section.Component status={status} canLock={canLock} refreshStatus={refreshStatus} />
          </div>
        ) : null}
      </div>
    </Modal>
  );
}
