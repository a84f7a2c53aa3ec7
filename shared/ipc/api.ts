// Turns the flat channel table into the nested `refuge.messages.send(...)` API.
import { type Channel, type RequestOf, type ResponseOf, channels } from './contract.js';

type Namespace<C extends string> = C extends `${infer N}.${string}` ? N : never;
type MethodOf<C extends string, N extends string> = C extends `${N}.${infer M}` ? M : never;

export type RefugeApi = {
  [N in Namespace<Channel>]: {
    [M in MethodOf<Channel, N>]: `${N}.${M}` extends infer C extends Channel
      ? (request: RequestOf<C>) => Promise<ResponseOf<C>>
      : never;
  };
};

export type Invoke = <C extends Channel>(channel: C, request: RequestOf<C>) => Promise<ResponseOf<C>>;

export function createApi(invoke: Invoke): RefugeApi {
  const api: Record<string, Record<string, (request: unknown) => Promise<unknown>>> = {};
  for (const name of channels) {
    const [ns, method] = name.split('.') as [string, string];
    const group = (api[ns] ??= {});
    group[method] = (request: unknown) => invoke(name, request as RequestOf<typeof name>);
  }
  return api as unknown as RefugeApi;
}
