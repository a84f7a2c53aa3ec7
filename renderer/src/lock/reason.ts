/** Why the app locked: the user asked (button, shortcut) or it sat idle for the set minutes. */
export type LockReason = { kind: 'manual' } | { kind: 'idle'; minutes: number };
