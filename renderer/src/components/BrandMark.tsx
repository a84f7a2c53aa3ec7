import { IconLock, IconShield } from './Icons.js';

/** The app mark on the gate screens (inline SVG: nothing to fetch, nothing the CSP has to allow). */
export function BrandMark({ variant = 'shield' }: { variant?: 'shield' | 'lock' }) {
  return <div className="brand-mark" aria-hidden="true">{variant === 'lock' ? <IconLock /> : <IconShield />}</div>;
}
