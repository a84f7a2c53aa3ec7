// Turning text into full-text search terms, and a user's search box into an FTS5 query.
//
// The index (migration 2) tokenizes message text with Signal's `signal_tokenizer`: words split on
// Unicode word boundaries, case-folded, diacritics removed; CJK ideographs one token each;
// emoji dropped. Words are indexed unstemmed, so what a user has typed so far is always a
// prefix of the indexed word ("encrypti" finds "encryption", "메시지" finds "메시지를").
// Two extra kinds of term live in the FTS `meta` column:
// - `x<hex>`: each emoji of the message (from messages.search_terms, see emojiTerms), so
//   emoji can be searched even though the tokenizer drops them;
// - `c<hex>`: the first 8 characters of the conversation id, so a search inside one
//   conversation is an FTS intersection instead of a scan (the exact id is checked after).
//
// User input never reaches FTS5 as syntax: every word becomes a double-quoted string (with `"`
// doubled), so AND/OR/NEAR/*/^/:/( ) typed by the user are plain text.

/** Emoji (with skin-tone modifiers) and flags (pairs of regional indicators). */
const EMOJI = /\p{RI}\p{RI}|[\p{Extended_Pictographic}\p{Emoji_Modifier}]/gu;
/** At most this many distinct emoji terms per message (a wall of emoji needs no more). */
const MAX_EMOJI_TERMS = 64;
/** At most this many words of a query are used; the rest are ignored. */
export const MAX_QUERY_WORDS = 16;

function emojiTerm(match: string): string {
  let hex = '';
  for (const ch of match) hex += (ch.codePointAt(0) ?? 0).toString(16);
  return `x${hex}`;
}

/** The emoji of `text` as they appear in it (each match of EMOJI, in order, duplicates kept). */
export function emojiIn(text: string): string[] {
  return text.match(EMOJI) ?? [];
}

/**
 * The value of messages.search_terms for a message: its distinct emoji as `x<hex>` terms, or ''
 * when it has none ('' rather than NULL: NULL marks a row whose terms are not computed yet).
 */
export function emojiTerms(text: string): string {
  const terms = new Set<string>();
  for (const match of emojiIn(text)) {
    terms.add(emojiTerm(match));
    if (terms.size >= MAX_EMOJI_TERMS) break;
  }
  return [...terms].join(' ');
}

/**
 * The `c<hex>` term of a conversation. Must equal the SQL in migration 2:
 * 'c' || hex(substr(conversation_id, 1, 8)) (the tokenizer lowercases both).
 */
export function conversationTerm(conversationId: string): string {
  const head = Array.from(conversationId).slice(0, 8).join('');
  return `c${Buffer.from(head, 'utf8').toString('hex')}`;
}

/** An FTS5 string literal: the only syntax inside it is `""` for a quote. */
export function ftsString(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

export interface CompiledQuery {
  /** the FTS5 MATCH expression (without a conversation filter) */
  match: string;
  /** emoji of the query as typed, for highlighting (the index cannot highlight them) */
  emoji: string[];
}

export type Tokenize = (text: string) => string[];

/**
 * Compiles what the user typed into an FTS5 expression: each whitespace-separated word must
 * match (AND). A word is a phrase of its tokens whose last token is a prefix ("unique-mark" ->
 * "unique mark"*), OR the same with the last token stemmed (English: "encryption" ->
 * "encrypt"*; Korean: "메시지를" -> "메시지"*). Emoji in a word must appear in the message.
 * Returns null when nothing searchable is left (empty, punctuation only): the result is empty.
 */
export function compileQuery(input: string, tokenize: Tokenize): CompiledQuery | null {
  const words = input.split(/\s+/u).filter((w) => w.length > 0).slice(0, MAX_QUERY_WORDS);
  const clauses: string[] = [];
  const emoji: string[] = [];
  for (const word of words) {
    const parts: string[] = [];
    const tokens = tokenize(word);
    if (tokens.length > 0) parts.push(wordClause(word, tokens, tokenize));
    const found = emojiIn(word);
    for (const match of new Set(found)) {
      emoji.push(match);
      parts.push(`meta : ${ftsString(emojiTerm(match))}`);
    }
    clauses.push(...parts);
  }
  if (clauses.length === 0) return null;
  return { match: clauses.join(' AND '), emoji: [...new Set(emoji)] };
}

function wordClause(word: string, tokens: string[], tokenize: Tokenize): string {
  // Quote the tokens rather than the raw word when they re-tokenize to themselves (they
  // normally do), so the last one can be replaced by its stem.
  const joined = tokens.join(' ');
  if (!sameTokens(tokenize(joined), tokens)) return `text : ${ftsString(word)}`;
  const last = tokens[tokens.length - 1] ?? '';
  const head = tokens.slice(0, -1);
  // A one-character prefix (a letter, a digit, a lone jamo) matches a large part of the index
  // for no use; a CJK ideograph is a whole token anyway.
  const prefix = Array.from(last).length > 1;
  const phrase = (lastToken: string, star: boolean) => `${ftsString([...head, lastToken].join(' '))}${star ? '*' : ''}`;
  const alternatives = [phrase(last, prefix)];
  // signal_tokenizer returns Hangul decomposed (NFD jamo); stem the composed form. Either form
  // may go into the query: FTS5 runs the quoted text through the same tokenizer.
  const stem = stemOf(last.normalize('NFC'));
  // "stem"* alone would find everything "word"* finds; keeping both ranks the messages that
  // have what was typed above the other forms (bm25 adds up the phrases a message matches).
  if (stem !== null && stem !== last && prefix) alternatives.push(phrase(stem, true));
  const expr = alternatives.length === 1 ? alternatives[0] : `(${alternatives.join(' OR ')})`;
  return `text : ${expr}`;
}

function sameTokens(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** The stem of one (case-folded, NFC) token, or null if it has none worth searching. */
export function stemOf(token: string): string | null {
  if (/^[a-z]+$/u.test(token)) return englishStem(token);
  if (/^[\uac00-\ud7a3]+$/u.test(token)) return koreanStem(token);
  return null;
}

/** Suffixes stripped from English words (longest first); a prefix search on the rest follows. */
const ENGLISH_SUFFIXES = [
  'ational',
  'fulness',
  'ousness',
  'iveness',
  'ations',
  'ation',
  'ments',
  'ment',
  'ness',
  'ings',
  'ions',
  'ing',
  'ion',
  'ies',
  'ied',
  'ers',
  'ed',
  'es',
  'ly',
  's',
];

/**
 * A light English stemmer for queries: strips one common inflectional or derivational suffix
 * and undoubles a final consonant ("stopped" -> "stop", "encryption" -> "encrypt",
 * "messages" -> "messag"). The result is searched as a prefix, so it only needs to be a prefix
 * of the other forms of the word. Null when nothing is stripped or too little would remain.
 */
export function englishStem(word: string): string | null {
  if (word.length < 4) return null;
  for (const suffix of ENGLISH_SUFFIXES) {
    if (!word.endsWith(suffix)) continue;
    if (suffix === 's' && /(ss|us|is)$/u.test(word)) return null;
    let stem = word.slice(0, -suffix.length);
    if (stem.length < 3) continue;
    if (/([b-df-hj-np-tv-z])\1$/u.test(stem) && !/(ll|ss|zz)$/u.test(stem)) stem = stem.slice(0, -1);
    // "happiness" -> "happi": the other forms are "happy", "happier"; search "happ".
    if (stem.endsWith('i') && stem.length > 3) stem = stem.slice(0, -1);
    return stem;
  }
  return null;
}

/** Korean particles (josa) that follow a noun, longest first. */
const KOREAN_PARTICLES = [
  '에서는',
  '에게서',
  '으로는',
  '이라고',
  '에서',
  '에게',
  '한테',
  '으로',
  '까지',
  '부터',
  '처럼',
  '보다',
  '하고',
  '이랑',
  '라고',
  '은',
  '는',
  '이',
  '가',
  '을',
  '를',
  '에',
  '의',
  '도',
  '로',
  '와',
  '과',
  '만',
  '랑',
];

/**
 * Strips one particle from a Korean word ("메시지를" -> "메시지") when at least two syllables
 * remain, so "메시지를" also finds "메시지가". Null when there is none.
 */
export function koreanStem(word: string): string | null {
  for (const particle of KOREAN_PARTICLES) {
    if (word.endsWith(particle) && word.length - particle.length >= 2) return word.slice(0, -particle.length);
  }
  return null;
}
