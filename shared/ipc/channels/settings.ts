// Contract channels of the settings area (see shared/ipc/contract.ts). Add 'settings.*'-style entries here.
export const settingsChannels = {} as const;
