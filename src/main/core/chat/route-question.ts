/**
 * Tandem routing (DESIGN.md §3): a short factual question goes to BLIP VQA, which answers tersely and
 * precisely; anything open-ended goes to LLaVA. The rules are deliberately plain so a user can predict
 * them, and the UI/CLI always says which model answered (and the user can force either).
 */

export type AnswerRoute = 'blip' | 'llava';

export interface RouteDecision {
  route: AnswerRoute;
  /** Short reason for logs, tests and a tooltip ("counting question", "open-ended: 'why'"). */
  reason: string;
}

/** BLIP VQA was trained on short VQAv2-style questions; longer ones are outside what it answers well. */
export const MAX_BLIP_WORDS = 12;

/** Words that make a question a matter of opinion, story or explanation rather than a visible fact. */
const OPEN_ENDED_WORDS = [
  'why', 'explain', 'describe', 'description', 'story', 'poem', 'imagine', 'think', 'opinion', 'feel', 'feeling',
  'feelings', 'mood', 'atmosphere', 'vibe', 'emotion', 'emotions', 'meaning', 'symbolize', 'symbolise', 'suggest',
  'recommend', 'advice', 'compare', 'difference', 'differences', 'happen', 'happening', 'happened', 'going on',
  'might', 'could', 'would', 'should', 'caption', 'title', 'write', 'summarize', 'summarise', 'detail', 'details',
  'detailed', 'interesting', 'style', 'past or the future', 'era', 'guess', 'tell me', 'tell a', 'tell us', 'elaborate',
  'improve', 'critique', 'funny', 'joke',
];

/** Factual question shapes BLIP VQA handles: counting, yes/no, colour, and what/which/where/who about an object. */
const FACTUAL_PATTERNS: { pattern: RegExp; reason: string }[] = [
  { pattern: /^how many\b/, reason: 'counting question' },
  { pattern: /^(what|which) colou?rs?\b/, reason: 'colour question' },
  { pattern: /\bwhat colou?r\b/, reason: 'colour question' },
  { pattern: /^(is|are|was|were|does|do|did|can|has|have|will|am)\b/, reason: 'yes/no question' },
  { pattern: /^(what|which|where|who|whose)\b/, reason: 'what/which/where question' },
  { pattern: /^(what's|where's|who's)\b/, reason: 'what/which/where question' },
  { pattern: /^(count|name)\b/, reason: 'counting question' },
  // VQAv2-style fragments with no question word: "color of the sky", "number of people", "type of dog".
  { pattern: /^(the )?colou?rs?( of\b|$)/, reason: 'colour question' },
  { pattern: /^(the )?(number|amount|count) of\b/, reason: 'counting question' },
  {
    pattern: /^(the )?(type|kind|sort|breed|brand|make|species|shape|size|material|gender|sport|season|time|name) of\b/,
    reason: 'what/which/where question',
  },
];

function normalise(question: string): string {
  return question
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function containsPhrase(text: string, phrase: string): boolean {
  return ` ${text} `.includes(` ${phrase} `);
}

/**
 * The route for one question. A route the user forces wins; then a model the user named (the question cannot go
 * to a model other than the one asked for); only then the question's shape (routeQuestion).
 */
export function chooseRoute(question: string, opts: { requested?: AnswerRoute | 'auto'; namedModel?: AnswerRoute | null } = {}): RouteDecision {
  if (opts.requested && opts.requested !== 'auto') return { route: opts.requested, reason: `${opts.requested} chosen` };
  if (opts.namedModel) return { route: opts.namedModel, reason: `a ${opts.namedModel === 'blip' ? 'BLIP' : 'LLaVA'} model was named` };
  return routeQuestion(question);
}

/** Decides which model answers `question` when the user asked for the automatic route. */
export function routeQuestion(question: string): RouteDecision {
  const text = normalise(question);
  if (!text) return { route: 'llava', reason: 'empty question' };
  const words = text.split(' ');
  // Several sentences or questions read as conversation, not a lookup.
  const sentences = question.split(/[.?!]+\s+\S/).length;
  if (sentences > 1) return { route: 'llava', reason: 'several sentences' };
  const openEnded = OPEN_ENDED_WORDS.find((w) => containsPhrase(text, w));
  if (openEnded) return { route: 'llava', reason: `open-ended: '${openEnded}'` };
  if (words.length > MAX_BLIP_WORDS) return { route: 'llava', reason: `long question (${words.length} words)` };
  for (const { pattern, reason } of FACTUAL_PATTERNS) {
    if (pattern.test(text)) return { route: 'blip', reason };
  }
  return { route: 'llava', reason: 'not a short factual question' };
}
