// Before a link from a message opens: the full address, and a choice. It opens in the system
// browser (Electron's window-open handler; a new tab under the web host), never inside Refuge.
import { IconExternal } from '../../components/Icons.js';
import { Modal } from '../../components/Modal.js';
import { t } from '../../i18n/index.js';
import { safeHref } from '../../links.js';

export function LinkDialog({ href, onClose }: { href: string; onClose: () => void }) {
  const url = safeHref(href);
  return (
    <Modal title={t('link.title')} onClose={onClose} testId="link-dialog" closeLabel={t('common.close')}>
      <div className="modal__form">
        <p className="modal__lead">{t('link.lead')}</p>
        <p className="link-dialog__url" data-testid="link-dialog-url" translate="no">
          {url ?? href}
        </p>
        <div className="modal__actions">
          <button type="button" className="button" data-testid="link-dialog-cancel" onClick={onClose} data-autofocus>
            {t('link.cancel')}
          </button>
          <button
            type="button"
            className="button button--primary"
            data-testid="link-dialog-open"
            disabled={!url}
            onClick={() => {
              if (url) window.open(url, '_blank', 'noopener,noreferrer');
              onClose();
            }}
          >
            <IconExternal />
            {t('link.open')}
          </button>
        </div>
      </div>
    </Modal>
  );
}
