// The message box: Enter sends, Shift+Enter makes a new line; IME composition (Korean, Japanese…)
// is never interrupted by Enter. Grows with its text up to a limit. Shows the message being
// replied to (Esc cancels it), tells the peer we are typing (the core throttles and obeys the
// setting), and is held -- disabled, with the reason -- while the peer's new identity is unaccepted.
import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ReplyRef } from '../../api.js';
import { IconClose, IconReply, IconSend, IconWarning } from '../../components/Icons.js';
import { t } from '../../i18n/index.js';
import { quoteSender } from './MessageBubble.js';

export const MAX_MESSAGE_CHARS = 64 * 1024;

export function Composer({
  peer,
  placeholder,
  offline,
  held,
  replyTo,
  focusToken,
  onCancelReply,
  onSend,
  onTyping,
}: {
  peer: string;
  /** the empty box's hint (default: "Message {peer}") */
  placeholder?: string | undefined;
  offline: boolean;
  /** sending is held until the user accepts the peer's new safety number */
  held: boolean;
  /** the message this one will reply to */
  replyTo: ReplyRef | null;
  /** changes when the composer should take the focus (a reply was started) */
  focusToken: number;
  onCancelReply: () => void;
  onSend: (text: string) => void;
  onTyping: (typing: boolean) => void;
}) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const heldNoteId = useId();
  /** we told the peer we are typing (and have not said we stopped) */
  const typingSent = useRef(false);
  const onTypingRef = useRef(onTyping);
  onTypingRef.current = onTyping;

  // auto-grow (CSSOM writes are allowed under a strict CSP; max-height caps it)
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight}px`;
  }, [text]);

  useEffect(() => {
    if (focusToken > 0) ref.current?.focus();
  }, [focusToken]);

  // leaving the conversation with a draft: the peer's indicator stops now rather than timing out
  useEffect(
    () => () => {
      if (typingSent.current) onTypingRef.current(false);
    },
    [],
  );

  function stopTyping() {
    if (!typingSent.current) return;
    typingSent.current = false;
    onTyping(false);
  }

  function change(next: string) {
    setText(next);
    if (next.trim() && !held) {
      typingSent.current = true;
      onTyping(true); // every keystroke: the core decides when to actually send
    } else {
      stopTyping();
    }
  }

  function send() {
    if (held) return;
    const body = text.trim();
    if (!body) return;
    if (body.length > MAX_MESSAGE_CHARS) {
      setError(t('composer.tooLong'));
      return;
    }
    setError(null);
    stopTyping();
    onSend(body);
    setText('');
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Escape' && replyTo) {
      e.preventDefault();
      onCancelReply();
      return;
    }
    if (e.key !== 'Enter' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.nativeEvent.isComposing || e.keyCode === 229) return; // confirming an IME candidate
    e.preventDefault();
    send();
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    send();
  }

  const canSend = text.trim().length > 0 && !held;
  return (
    <form className="composer" onSubmit={submit}>
      {held ? (
        <p className="composer__note composer__note--held" data-testid="composer-held" id={heldNoteId}>
          <IconWarning className="composer__note-icon" />
          {t('composer.held', { name: peer })}
        </p>
      ) : null}
      {offline && !held ? (
        <p className="composer__note" data-testid="composer-offline">
          {t('composer.offline')}
        </p>
      ) : null}
      {error ? (
        <p className="composer__note composer__note--error" role="alert">
          {error}
        </p>
      ) : null}
      {replyTo && !held ? (
        <div className="composer__reply" data-testid="composer-reply" data-reply-id={replyTo.id}>
          <IconReply className="composer__reply-icon" />
          <div className="composer__reply-body">
            <span className="composer__reply-title">{t('composer.replyingTo', { name: quoteSender(replyTo.sender) })}</span>
            <span className="composer__reply-text" dir="auto">
              {replyTo.text}
            </span>
          </div>
          <button
            type="button"
            className="icon-button"
            aria-label={t('composer.cancelReply')}
            title={t('composer.cancelReply')}
            data-testid="composer-reply-cancel"
            onClick={() => {
              onCancelReply();
              ref.current?.focus();
            }}
          >
            <IconClose />
          </button>
        </div>
      ) : null}
      <div className="composer__row">
        <textarea
          ref={ref}
          className="composer__input"
          aria-label={t('composer.label')}
          aria-describedby={held ? heldNoteId : undefined}
          placeholder={held ? t('composer.heldPlaceholder') : (placeholder ?? t('composer.placeholder', { name: peer }))}
          data-testid="composer"
          rows={1}
          value={text}
          disabled={held}
          onChange={(e) => change(e.target.value)}
          onKeyDown={onKeyDown}
          dir="auto"
          autoFocus
        />
        <button type="submit" className="send-button" aria-label={t('composer.send')} title={t('composer.send')} data-testid="send-button" disabled={!canSend}>
          <IconSend />
        </button>
      </div>
    </form>
  );
}
