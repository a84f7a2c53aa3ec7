import { avatarColour, initials } from '../format.js';

/**
 * A generated avatar: initials on a colour derived from the name; a group's is a rounded square.
 * Decorative (the name is shown beside it).
 */
export function Avatar({ name, size = 'md', group = false }: { name: string; size?: 'sm' | 'md' | 'lg'; group?: boolean }) {
  return (
    <span className={`avatar avatar--${size} avatar--c${avatarColour(name)}${group ? ' avatar--group' : ''}`} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
