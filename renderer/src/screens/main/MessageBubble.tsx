import { memo } from 'react';
import type { MessageStatus } from '../../api.js';
import { IconAlert, IconCheck, IconCheckDouble, IconClock } from '../../components/Icons.js';
import { formatFullTime, formatMessageTime } from '../../format.js';
import { t } from '../../i18n/index.js';

export type BubbleMessage = {
  id: string;
  text: string;
  sentAt: number;
  outgoing: boolean;
  status: MessageStatus;
  /** set on messages that never reached the core (the send call failed): the reason, and a retry */
  localError?: string;
};

const STATUS_KEY = {
  sending: 'status.sending',
  sent: 'status.sent',
  delivered: 'status.delivered',
  failed: 'status.failed',
  received: 'status.received',
} as const;

function StatusIcon({ status }: { status: MessageStatus }) {
  switch (status) {
    case 'sending':
      return <IconClock className="bubble__status-icon" />;
    case 'sent':
      return <IconCheck className="bubble__status-icon" />;
    case 'delivered':
      return <IconCheckDouble className="bubble__status-icon" />;
    case 'failed':
      return <IconAlert className="bubble__status-icon" />;
    default:
      return null;
  }
}

export const MessageBubble = memo(function MessageBubble({
  message,
  continues,
  now,
  onRetry,
}: {
  message: BubbleMessage;
  /** same sender as the previous bubble, a moment later: drawn tighter */
  continues: boolean;
  now: number;
  onRetry?: (id: string) => void;
}) {
  const { outgoing, status } = message;
  const statusLabel = t(STATUS_KEY[status]);
  const classes = ['msg', outgoing ? 'msg--out' : 'msg--in', continues ? 'msg--cont' : '', status === 'failed' ? 'msg--failed' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div
      className={classes}
      data-testid="message"
      data-direction={outgoing ? 'outgoing' : 'incoming'}
      data-status={status}
      data-message-id={message.id}
    >
      <div className="bubble">
        <p className="bubble__text" data-testid="message-text" dir="auto">
          {message.text}
        </p>
        <span className="bubble__meta">
          <time dateTime={new Date(message.sentAt).toISOString()} title={formatFullTime(message.sentAt)}>
            {formatMessageTime(message.sentAt, now)}
          </time>
          {outgoing ? (
            <span className="bubble__status" data-testid="message-status" title={statusLabel}>
              <StatusIcon status={status} />
              <span className="sr-only">{statusLabel}</span>
            </span>
          ) : null}
        </span>
      </div>
      {outgoing && status === 'failed' ? (
        <div className="msg__failure" role="alert">
          <IconAlert className="msg__failure-icon" />
          <span>{message.localError ? `${statusLabel}: ${message.localError}` : statusLabel}</span>
          {onRetry && message.localError !== undefined ? (
            <button type="button" className="link-button" onClick={() => onRetry(message.id)}>
              {t('message.retry')}
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
});
