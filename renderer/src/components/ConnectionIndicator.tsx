import { t } from '../i18n/index.js';
import type { ConnectionState } from '../sync.js';

const LABEL = { online: 'conn.online', connecting: 'conn.connecting', offline: 'conn.offline' } as const;

/** A small dot and word; a polite live region so screen readers hear changes without interruption. */
export function ConnectionIndicator({ state, detail }: { state: ConnectionState; detail?: string | null }) {
  const label = t(LABEL[state]);
  return (
    <span
      className={`conn conn--${state}`}
      role="status"
      aria-live="polite"
      aria-label={t('conn.label', { state: label })}
      data-testid="connection-status"
      data-state={state}
      title={detail && state !== 'online' ? detail : undefined}
    >
      <span className="conn__dot" aria-hidden="true" />
      <span className="conn__text" aria-hidden="true">{label}</span>
    </span>
  );
}
