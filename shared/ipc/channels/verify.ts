// Contract channels of the verify area (see shared/ipc/contract.ts).
export const verifyChannels = {} as const;
