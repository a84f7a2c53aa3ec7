// The sections of the Settings dialog, in order. To add one, write a component taking
// SettingsSectionProps and add one entry here; its title is a string key in i18n/en.ts (and
// ko.ts). Sections read and save settings through useSettings() (../../settings/SettingsContext.tsx).
import type { ComponentType } from 'react';
import type { AppStatus } from '../../api.js';
import { IconBell, IconEye, IconLock, IconPalette, IconServer } from '../../components/Icons.js';
import type { StringKey } from '../../i18n/index.js';
import { AppearanceSection } from './AppearanceSection.js';
import { NotificationsSection } from './NotificationsSection.js';
import { PrivacySection } from './PrivacySection.js';
import { SecuritySection } from './SecuritySection.js';
import { ServerSection } from './ServerSection.js';
import { BackupsSection } from '../backup/BackupsSection.js';
import { IconBackup } from '../backup/BackupIcon.js';

export type SettingsSectionProps = {
  status: AppStatus;
  /** the profile has a passphrase, so it can be locked (lock now, auto-lock) */
  canLock: boolean;
  /** re-reads app.status after a change to how the profile is protected */
  refreshStatus: () => Promise<void>;
};

export type SettingsSection = {
  /** stable id: data-section, and the `settings-section-<id>` test id */
  id: string;
  title: StringKey;
  icon: ComponentType<{ className?: string }>;
  Component: ComponentType<SettingsSectionProps>;
};

export const settingsSections: SettingsSection[] = [
  // security first: the dialog opens on it (e2e/search-lock.spec.ts relies on that)
  { id: 'security', title: 'settings.security.title', icon: IconLock, Component: SecuritySection },
  { id: 'appearance', title: 'settings.appearance.title', icon: IconPalette, Component: AppearanceSection },
  { id: 'notifications', title: 'settings.notifications.title', icon: IconBell, Component: NotificationsSection },
  { id: 'privacy', title: 'settings.privacy.title', icon: IconEye, Component: PrivacySection },
  { id: 'backups', title: 'settings.backups.title', icon: IconBackup, Component: BackupsSection },
  { id: 'server', title: 'settings.server.title', icon: IconServer, Component: ServerSection },
];
