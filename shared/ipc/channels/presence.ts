// Contract channels of the presence area (see shared/ipc/contract.ts).
export const presenceChannels = {} as const;
