// Contract channels of the backup area (see shared/ipc/contract.ts). Add 'backup.*'-style entries here.
export const backupChannels = {} as const;
