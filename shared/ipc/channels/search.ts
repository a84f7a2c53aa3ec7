// Contract channels of the search area (see shared/ipc/contract.ts). Add 'search.*'-style entries here.
export const searchChannels = {} as const;
