import type { Db } from '../store/database';

/**
 * Keywords starting with what the user typed, most used first, for the tag editor's suggestions. Each spelling of
 * the prefix (as typed, lower case, capitalised, upper case) is an index range on photo_tags(tag), so a keystroke
 * reads only the matching rows; grouping the whole table would take seconds in a million-photo library.
 */
export function keywordSuggestions(db: Db, prefix: string, limit: number): { keyword: string; photos: number }[] {
  const p = prefix.replace(/\s+/g, ' ').trim();
  if (!p) return [];
  const lower = p.toLocaleLowerCase();
  const spellings = [...new Set([p, lower, lower.charAt(0).toLocaleUpperCase() + lower.slice(1), p.toLocaleUpperCase()])];
  const ranges = spellings.map((_, i) => `(tag >= @p${i} AND tag < @p${i} || char(1114111))`).join(' OR ');
  const params: Record<string, string | number> = { limit };
  spellings.forEach((s, i) => (params[`p${i}`] = s));
  return db
    .prepare(`SELECT tag AS keyword, count(*) AS photos FROM photo_tags WHERE ${ranges} GROUP BY tag ORDER BY photos DESC, tag LIMIT @limit`)
    .all(params) as { keyword: string; photos: number }[];
}
