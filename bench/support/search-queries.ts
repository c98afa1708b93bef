import type { PhotoFilters, PhotoSort } from '../../src/shared/api';
import type { Db } from '../../src/main/core/store/database';
import { searchWord } from './caption-vocabulary';
import { pick, randInt, seededRng, type Rng } from './rng';

export type QueryKind =
  | 'word'
  | 'two words'
  | 'typing prefix'
  | 'one letter'
  | 'phrase'
  | 'word + folder'
  | 'word + date range'
  | 'word + captioned'
  | 'name + uncaptioned'
  | 'list page 1 by date'
  | 'list page 1 + filter'
  | 'list deep page'
  | 'sidebar folders';

export type BenchQuery =
  | { kind: QueryKind; op: 'search'; text: string; filters: PhotoFilters; offset: number; limit: number }
  | { kind: QueryKind; op: 'list'; filters: PhotoFilters; sort: PhotoSort; offset: number; limit: number }
  | { kind: QueryKind; op: 'folders' };

const LIMIT = 200;

/** A typed prefix sequence: "d", "do", "dog". */
function typing(word: string): string[] {
  return Array.from({ length: word.length }, (_, i) => word.slice(0, i + 1));
}

/**
 * ~500 queries of mixed kinds, drawn from the same vocabulary as the captions and from the folders
 * actually present, then shuffled so kinds interleave (as they would across a session).
 */
export function makeQueries(db: Db, seed = 7): BenchQuery[] {
  const rng: Rng = seededRng(seed);
  const folders = db.prepare("SELECT DISTINCT folder FROM photos WHERE folder != ''").pluck().all() as string[];
  const years = [...new Set(folders.map((f) => f.split('/')[0]!).filter((y) => /^\d{4}$/.test(y)))];
  const names = db.prepare('SELECT file_name FROM photos ORDER BY random() LIMIT 200').pluck().all() as string[];
  const q: BenchQuery[] = [];
  const search = (kind: QueryKind, text: string, filters: PhotoFilters = {}): void => {
    q.push({ kind, op: 'search', text, filters, offset: 0, limit: LIMIT });
  };
  const anyWord = (): string => (rng() < 0.5 ? searchWord.any(rng) : pick(rng, [searchWord.subject, searchWord.object, searchWord.verb])(rng));
  const dateRange = (): PhotoFilters => {
    const from = new Date(Date.UTC(randInt(rng, 2005, 2023), randInt(rng, 0, 11), 1));
    const to = new Date(from.getTime() + randInt(rng, 30, 730) * 86_400_000);
    return { takenFrom: from.toISOString().slice(0, 10), takenTo: to.toISOString().slice(0, 10) };
  };

  for (let i = 0; i < 100; i++) search('word', anyWord());
  for (let i = 0; i < 80; i++) {
    const text = rng() < 0.5 ? `${searchWord.subject(rng)} ${searchWord.object(rng)}` : `${searchWord.adjective(rng)} ${searchWord.object(rng)}`;
    search('two words', text);
  }
  // As-you-type: every keystroke is a query. A few end in a second word ("dog c", "dog co", …).
  // The first keystroke is its own kind: a lone letter means a whole word (fts-query.ts).
  for (let i = 0; i < 16; i++) for (const p of typing(anyWord())) search(p.length === 1 ? 'one letter' : 'typing prefix', p);
  for (let i = 0; i < 4; i++) {
    const first = searchWord.subject(rng);
    for (const p of typing(searchWord.object(rng))) search('typing prefix', `${first} ${p}`);
  }
  for (let i = 0; i < 50; i++) {
    const r = rng();
    const text =
      r < 0.4
        ? `"${searchWord.adjective(rng)} ${searchWord.object(rng)}"`
        : r < 0.7
          ? `"${searchWord.verb(rng)} on a"`
          : `"a ${searchWord.subject(rng)} ${searchWord.verb(rng)}"`;
    search('phrase', text);
  }
  for (let i = 0; i < 50; i++) {
    search('word + folder', anyWord(), { folder: rng() < 0.5 ? pick(rng, years) : pick(rng, folders) });
  }
  for (let i = 0; i < 50; i++) search('word + date range', anyWord(), dateRange());
  for (let i = 0; i < 25; i++) search('word + captioned', anyWord(), { captioned: 'yes' });
  for (let i = 0; i < 25; i++) {
    // Uncaptioned photos are found by file name or folder words only.
    const text = rng() < 0.5 ? pick(rng, ['img', 'dsc', 'pxl', 'dscf', 'jpg']) : pick(rng, names).split(/[_.\s-]/)[1] ?? 'img';
    search('name + uncaptioned', text, { captioned: 'no' });
  }
  for (let i = 0; i < 25; i++) q.push({ kind: 'list page 1 by date', op: 'list', filters: {}, sort: 'taken', offset: 0, limit: LIMIT });
  for (let i = 0; i < 25; i++) {
    const r = rng();
    const filters: PhotoFilters = r < 0.4 ? { folder: pick(rng, years) } : r < 0.7 ? dateRange() : { captioned: rng() < 0.5 ? 'yes' : 'no' };
    q.push({ kind: 'list page 1 + filter', op: 'list', filters, sort: 'taken', offset: 0, limit: LIMIT });
  }
  for (let i = 0; i < 20; i++) {
    q.push({ kind: 'list deep page', op: 'list', filters: {}, sort: 'taken', offset: LIMIT * randInt(rng, 1, 100), limit: LIMIT });
  }
  for (let i = 0; i < 10; i++) q.push({ kind: 'sidebar folders', op: 'folders' });
  // Fisher–Yates with the seeded generator.
  for (let i = q.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [q[i], q[j]] = [q[j]!, q[i]!];
  }
  return q;
}
