import { BrandMark } from '../components/BrandMark.js';
import { t } from '../i18n/index.js';

export function Splash() {
  return (
    <main className="splash" aria-busy="true">
      <BrandMark />
      <p className="splash__text" role="status">
        {t('app.loading')}
      </p>
    </main>
  );
}

export function Fatal({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <main className="splash">
      <BrandMark />
      <p className="splash__text" role="alert" data-testid="fatal-error">
        {message}
      </p>
      <button type="button" className="button button--primary" onClick={onRetry}>
        {t('app.retry')}
      </button>
    </main>
  );
}
