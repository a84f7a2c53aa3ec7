import { IconLock } from '../../components/Icons.js';
import { t } from '../../i18n/index.js';

export function EmptyChat() {
  return (
    <div className="empty-chat" data-testid="empty-state">
      <div className="empty-chat__icon" aria-hidden="true">
        <IconLock />
      </div>
      <h2 className="empty-chat__title">{t('chat.empty.title')}</h2>
      <p className="empty-chat__lead">{t('chat.empty.lead')}</p>
    </div>
  );
}
