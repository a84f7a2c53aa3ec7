// Contract channels of the groups area (see shared/ipc/contract.ts).
export const groupsChannels = {} as const;
