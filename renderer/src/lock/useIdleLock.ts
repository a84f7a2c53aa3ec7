// Auto-lock: calls onIdle after `minutes` without mouse, keyboard or focus activity (0 = off).
import { useEffect, useRef } from 'react';
import { ACTIVITY_EVENTS, IdleTimer } from './idle.js';

export function useIdleLock(minutes: number, onIdle: () => void): void {
  const callback = useRef(onIdle);
  callback.current = onIdle;
  useEffect(() => {
    if (!(minutes > 0)) return;
    const timer = new IdleTimer(minutes * 60_000, () => callback.current());
    const activity = () => timer.activity();
    const onVisible = () => {
      if (document.visibilityState === 'visible') timer.activity();
    };
    timer.start();
    for (const type of ACTIVITY_EVENTS) window.addEventListener(type, activity, { capture: true, passive: true });
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      timer.stop();
      for (const type of ACTIVITY_EVENTS) window.removeEventListener(type, activity, { capture: true });
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [minutes]);
}
