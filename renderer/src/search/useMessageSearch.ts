// Type-ahead search: waits for a pause in typing, asks the core, and drops answers to queries the
// user has already typed past. Results stay on screen while the next query runs (no flicker).
import { useEffect, useRef, useState } from 'react';
import { errorMessage, type RefugeApi, type SearchResult } from '../api.js';

export const SEARCH_DEBOUNCE_MS = 200;
export const SEARCH_LIMIT = 50;

export type SearchState = {
  /** the trimmed query the shown results belong to ('' = nothing searched yet) */
  query: string;
  results: SearchResult[];
  loading: boolean;
  error: string | null;
};

const IDLE: SearchState = { query: '', results: [], loading: false, error: null };

export function useMessageSearch(api: RefugeApi, input: string, conversationId?: string): SearchState {
  const [state, setState] = useState<SearchState>(IDLE);
  const seq = useRef(0);
  const query = input.trim();

  useEffect(() => {
    const mine = ++seq.current;
    if (!query) {
      setState(IDLE);
      return;
    }
    setState((s) => ({ ...s, loading: true }));
    const timer = window.setTimeout(() => {
      api.search
        .query({ query, limit: SEARCH_LIMIT, ...(conversationId ? { conversationId } : {}) })
        .then(({ results }) => {
          if (mine === seq.current) setState({ query, results, loading: false, error: null });
        })
        .catch((e: unknown) => {
          if (mine === seq.current) setState({ query, results: [], loading: false, error: errorMessage(e) });
        });
    }, SEARCH_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [api, query, conversationId]);

  return state;
}
