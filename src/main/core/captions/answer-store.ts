import { nowIso, type Db } from '../store/database';

export interface AnswerEntry {
  id: number;
  question: string;
  answer: string;
  model: string;
  createdAt: string;
}

/** BLIP VQA answers kept per photo; LLaVA gets them as grounding so the two models agree. */
export class AnswerStore {
  constructor(private readonly db: Db) {}

  add(photoId: number, question: string, answer: string, model: string): number {
    const info = this.db
      .prepare('INSERT INTO answers (photo_id, question, answer, model, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(photoId, question, answer, model, nowIso());
    return Number(info.lastInsertRowid);
  }

  forPhoto(photoId: number): AnswerEntry[] {
    return (
      this.db.prepare('SELECT id, question, answer, model, created_at FROM answers WHERE photo_id = ? ORDER BY id').all(photoId) as {
        id: number;
        question: string;
        answer: string;
        model: string;
        created_at: string;
      }[]
    ).map((r) => ({ id: r.id, question: r.question, answer: r.answer, model: r.model, createdAt: r.created_at }));
  }
}
