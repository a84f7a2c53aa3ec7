// Building blocks of the contract table.
import { z } from 'zod';

export const Empty = z.object({}).strict();
export const Ok = z.object({ ok: z.literal(true) });

export function channel<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res, doc: string) {
  return { request, response, doc };
}
