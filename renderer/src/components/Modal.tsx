// A modal dialog on the native <dialog> element: focus is trapped, Esc closes, the rest of the
// page is inert, and the browser restores focus to the opener when it closes.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { IconClose } from './Icons.js';

export function Modal({
  title,
  onClose,
  children,
  testId,
  closeLabel,
  size = 'normal',
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
  closeLabel: string;
  /** wide: room for a side navigation (settings) */
  size?: 'normal' | 'wide';
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (!dialog.open) dialog.showModal();
    // React's autoFocus runs before the dialog is shown (and so does nothing): the element that
    // should take the focus says so with data-autofocus; otherwise showModal picks the first control.
    dialog.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    const cancel = (e: Event) => {
      e.preventDefault();
      onCloseRef.current();
    };
    // Chromium skips the cancel event and closes the dialog itself when Esc comes without a user
    // activation since the last cancel (close-watcher abuse rules): a close we did not ask for
    // must unmount the dialog too, or it would stay in the page, hidden, with the page inert.
    const closedByBrowser = () => onCloseRef.current();
    dialog.addEventListener('cancel', cancel);
    dialog.addEventListener('close', closedByBrowser);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      dialog.removeEventListener('close', closedByBrowser);
      if (dialog.open) dialog.close();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={size === 'wide' ? 'modal modal--wide' : 'modal'}
      aria-labelledby={titleId}
      data-testid={testId}
      onMouseDown={(e) => {
        // a press on the backdrop (the dialog box itself, outside its content) closes it
        if (e.target === e.currentTarget) onCloseRef.current();
      }}
    >
      <div className="modal__content">
        <header className="modal__header">
          <h2 id={titleId} className="modal__title">
            {title}
          </h2>
          <button type="button" className="icon-button" aria-label={closeLabel} data-testid="modal-close" onClick={() => onCloseRef.current()}>
            <IconClose />
          </button>
        </header>
        {children}
      </div>
    </dialog>
  );
}
