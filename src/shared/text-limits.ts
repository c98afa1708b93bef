/**
 * Upper bounds on text a single request may carry (issue 13). The core's work grows with the text
 * (FTS5 terms, tokenizers, SQLite writes on the main thread), so one oversized request could freeze
 * the app: a 20,000-word search took 1.8 s on 7 photos. The limits sit far above anything a person
 * types, so they only ever stop runaway input.
 */

/** A search as typed: characters, and words (each word is one FTS5 prefix term). */
export const MAX_QUERY_CHARS = 500;
export const MAX_QUERY_TERMS = 32;

/** A caption a user writes (models stop at `maxLength` tokens long before this). */
export const MAX_CAPTION_CHARS = 2_000;

/** One chat message to LLaVA; its context window holds only a few thousand tokens anyway. */
export const MAX_CHAT_MESSAGE_CHARS = 8_000;

/** A BLIP VQA question: BLIP was trained on VQAv2's short questions; longer text only costs encoder time. */
export const MAX_QUESTION_CHARS = 500;

/** A caption prompt ("a photography of") that BLIP continues. */
export const MAX_PROMPT_CHARS = 200;

/** A folder filter (Linux PATH_MAX is 4096 bytes). */
export const MAX_PATH_CHARS = 4_096;

/** A keyword (tag) a user types, and how many one photo may carry; files may bring more, the editor never adds past this. */
export const MAX_KEYWORD_CHARS = 100;
export const MAX_KEYWORDS_PER_PHOTO = 200;

/** Photo ids one export request may name (a selection); beyond this, export the search or filters instead. */
export const MAX_EXPORT_PHOTO_IDS = 100_000;
