// Contract channels of the lock area (see shared/ipc/contract.ts). Add 'lock.*'-style entries here.
export const lockChannels = {} as const;
