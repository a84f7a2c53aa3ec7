import { avatarColour, initials } from '../format.js';

/** A generated avatar: initials on a colour derived from the name. Decorative (the name is shown beside it). */
export function Avatar({ name, size = 'md' }: { name: string; size?: 'sm' | 'md' | 'lg' }) {
  return (
    <span className={`avatar avatar--${size} avatar--c${avatarColour(name)}`} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
