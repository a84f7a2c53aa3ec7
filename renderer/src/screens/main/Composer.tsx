// The message box: Enter sends, Shift+Enter makes a new line; IME composition (Korean, Japanese…)
// is never interrupted by Enter. Grows with its text up to a limit.
import { useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { IconSend } from '../../components/Icons.js';
import { t } from '../../i18n/index.js';

export const MAX_MESSAGE_CHARS = 64 * 1024;

export function Composer({ peer, offline, onSend }: { peer: string; offline: boolean; onSend: (text: string) => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);

  // auto-grow (CSSOM writes are allowed under a strict CSP; max-height caps it)
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight}px`;
  }, [text]);

  function send() {
    const body = text.trim();
    if (!body) return;
    if (body.length > MAX_MESSAGE_CHARS) {
      setError(t('composer.tooLong'));
      return;
    }
    setError(null);
    onSend(body);
    setText('');
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key !== 'Enter' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.nativeEvent.isComposing || e.keyCode === 229) return; // confirming an IME candidate
    e.preventDefault();
    send();
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    send();
  }

  const canSend = text.trim().length > 0;
  return (
    <form className="composer" onSubmit={submit}>
      {offline ? (
        <p className="composer__note" data-testid="composer-offline">
          {t('composer.offline')}
        </p>
      ) : null}
      {error ? (
        <p className="composer__note composer__note--error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="composer__row">
        <textarea
          ref={ref}
          className="composer__input"
          aria-label={t('composer.label')}
          placeholder={t('composer.placeholder', { name: peer })}
          data-testid="composer"
          rows={1}
          value={text}
          onChange={(e) => setText(e.target.value)}
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
