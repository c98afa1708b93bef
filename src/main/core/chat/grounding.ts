import type { AnswerEntry } from '../captions/answer-store';

/**
 * LLaVA's system context (DESIGN.md §3): BLIP's caption and its earlier answers about the photo, so the two
 * models agree on plain facts and LLaVA spends its words on what BLIP cannot do.
 */
export interface GroundingFacts {
  /** The caption shown for the photo (a user's edit wins over BLIP's), or null when there is none yet. */
  caption: string | null;
  captionSource: string | null;
  /** BLIP VQA answers about this photo, oldest first. */
  answers: readonly Pick<AnswerEntry, 'question' | 'answer' | 'model'>[];
  fileName?: string | null;
  takenAt?: string | null;
}

/** Only the newest answers: the prompt stays short, and later answers reflect the user's latest questions. */
export const MAX_GROUNDING_ANSWERS = 10;

export function groundingPrompt(facts: GroundingFacts): string {
  const lines = [
    'You are Tandem, a friendly assistant talking with the user about one photo from their personal archive.',
    'Look at the photo carefully and answer in plain language.',
  ];
  const known: string[] = [];
  if (facts.caption) {
    const by = facts.captionSource === 'user' ? 'the user' : 'BLIP, a captioning model';
    known.push(`- Caption (by ${by}): "${facts.caption}"`);
  }
  for (const a of facts.answers.slice(-MAX_GROUNDING_ANSWERS)) known.push(`- Q: ${a.question} A: ${a.answer}`);
  if (facts.takenAt) known.push(`- Taken: ${facts.takenAt}`);
  if (known.length > 0) {
    lines.push(
      'Facts already established about this photo (from BLIP, a precise visual question-answering model, and from the library):',
      ...known,
      'Stay consistent with these facts unless the photo clearly shows otherwise; do not contradict them without saying why.',
    );
  }
  return lines.join('\n');
}
