import { memo, type MouseEvent } from 'react';
import type { MessageStatus, ReplyRef } from '../../api.js';
import { IconAlert, IconCheck, IconCheckDouble, IconClock, IconCopy, IconRead, IconReply } from '../../components/Icons.js';
import { formatFullTime, formatMessageTime } from '../../format.js';
import { t, type Language } from '../../i18n/index.js';
import { linkify } from '../../links.js';
import { readByText } from './groups/events.js';

export type BubbleMessage = {
  id: string;
  text: string;
  sentAt: number;
  outgoing: boolean;
  /** 'me' or the sender's username */
  sender: string;
  status: MessageStatus;
  replyTo?: ReplyRef | null;
  /** set on messages that never reached the core (the send call failed): the reason, and a retry */
  localError?: string;
  /** our group messages: the members who read it (Message.readBy; absent while our read receipts are off) */
  readBy?: readonly string[];
};

const STATUS_KEY = {
  sending: 'status.sending',
  sent: 'status.sent',
  delivered: 'status.delivered',
  read: 'status.read',
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
    case 'read':
      return <IconRead className="bubble__status-icon bubble__status-icon--read" />;
    case 'failed':
      return <IconAlert className="bubble__status-icon" />;
    default:
      return null;
  }
}

/** Who a quote is from, as the reader knows them. */
export function quoteSender(sender: string): string {
  return sender === 'me' ? t('message.you') : sender;
}

/** Message text with http(s) links as links that ask before opening (see LinkDialog). Never HTML. */
function MessageText({ text, onOpenLink }: { text: string; onOpenLink?: ((href: string) => void) | undefined }) {
  return (
    <>
      {linkify(text).map((part, i) =>
        part.kind === 'text' ? (
          part.text
        ) : (
          <a
            key={i}
            className="bubble__link"
            href={part.href}
            target="_blank"
            rel="noopener noreferrer"
            data-testid="message-link"
            onClick={(e: MouseEvent) => {
              e.preventDefault();
              onOpenLink?.(part.href);
            }}
            // a middle click would open it without asking
            onAuxClick={(e: MouseEvent) => e.preventDefault()}
          >
            {part.text}
          </a>
        ),
      )}
    </>
  );
}

export const MessageBubble = memo(function MessageBubble({
  message,
  continues,
  now,
  showSender = false,
  highlighted = false,
  copied = false,
  onRetry,
  onReply,
  onCopy,
  onOpenLink,
  onJumpToQuote,
}: {
  message: BubbleMessage;
  /** same sender as the previous bubble, a moment later, same day: drawn tighter */
  continues: boolean;
  now: number;
  /** re-renders the (memoised) bubble when the language changes */
  lang: Language;
  /** a group's incoming message at the start of a run: the sender's name above the text */
  showSender?: boolean;
  /** the message a search result jumped to: marked, briefly flashed, focusable for the keyboard */
  highlighted?: boolean;
  /** its text was just copied */
  copied?: boolean;
  onRetry?: (message: BubbleMessage) => void;
  onReply?: (message: BubbleMessage) => void;
  onCopy?: (message: BubbleMessage) => void;
  onOpenLink?: (href: string) => void;
  onJumpToQuote?: (id: string) => void;
}) {
  const { outgoing, status, replyTo } = message;
  const statusLabel = t(STATUS_KEY[status]);
  const readBy = outgoing ? readByText(message.readBy) : null;
  const pending = message.localError !== undefined || message.id.startsWith('local-');
  const classes = ['msg', outgoing ? 'msg--out' : 'msg--in', continues ? 'msg--cont' : '', status === 'failed' ? 'msg--failed' : '', highlighted ? 'msg--target' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div
      className={classes}
      data-testid="message"
      data-direction={outgoing ? 'outgoing' : 'incoming'}
      data-status={status}
      data-message-id={message.id}
      data-jump-target={highlighted ? 'true' : undefined}
      tabIndex={highlighted ? -1 : undefined}
    >
      <div className="msg__row">
        <div className="bubble">
          {showSender && !outgoing ? (
            <span className="bubble__sender" data-testid="message-sender" dir="auto">
              {message.sender}
            </span>
          ) : null}
          {replyTo ? (
            <button
              type="button"
              className="quote"
              data-testid="message-quote"
              data-quote-id={replyTo.id}
              data-found={replyTo.found}
              disabled={!replyTo.found || !onJumpToQuote}
              aria-label={replyTo.found ? t('message.quoteJump', { name: quoteSender(replyTo.sender), text: replyTo.text }) : t('message.quoteMissing')}
              onClick={() => onJumpToQuote?.(replyTo.id)}
            >
              {replyTo.found ? (
                <>
                  <span className="quote__sender">{quoteSender(replyTo.sender)}</span>
                  <span className="quote__text" dir="auto">
                    {replyTo.text}
                  </span>
                </>
              ) : (
                <span className="quote__text quote__text--missing">{t('message.quoteMissing')}</span>
              )}
            </button>
          ) : null}
          <p className="bubble__text" data-testid="message-text" dir="auto">
            <MessageText text={message.text} onOpenLink={onOpenLink} />
          </p>
          <span className="bubble__meta">
            <time dateTime={new Date(message.sentAt).toISOString()} title={formatFullTime(message.sentAt)}>
              {formatMessageTime(message.sentAt, now)}
            </time>
            {outgoing ? (
              <span className="bubble__status" data-testid="message-status" title={readBy ? `${statusLabel} · ${readBy}` : statusLabel} data-read-by={readBy ? message.readBy?.join(' ') : undefined}>
                <StatusIcon status={status} />
                <span className="sr-only">{readBy ?? statusLabel}</span>
              </span>
            ) : null}
          </span>
        </div>
        {!pending && (onReply || onCopy) ? (
          <div className="msg__actions" role="group" aria-label={t('message.actions')}>
            {onReply ? (
              <button
                type="button"
                className="icon-button msg__action"
                aria-label={t('message.reply')}
                title={t('message.reply')}
                data-testid="message-reply"
                onClick={() => onReply(message)}
              >
                <IconReply />
              </button>
            ) : null}
            {onCopy ? (
              <button
                type="button"
                className="icon-button msg__action"
                aria-label={copied ? t('message.copied') : t('message.copy')}
                title={copied ? t('message.copied') : t('message.copy')}
                data-testid="message-copy"
                data-copied={copied ? 'true' : undefined}
                onClick={() => onCopy(message)}
              >
                {copied ? <IconCheck /> : <IconCopy />}
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
      {outgoing && status === 'failed' ? (
        <div className="msg__failure" role="alert">
          <IconAlert className="msg__failure-icon" />
          <span>{message.localError ? `${statusLabel}: ${message.localError}` : statusLabel}</span>
          {onRetry ? (
            <button type="button" className="link-button" data-testid="message-retry" onClick={() => onRetry(message)}>
              {t('message.retry')}
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
});
