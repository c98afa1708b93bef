import { describe, expect, it } from 'vitest';
import { KeywordStore, keywordsHash } from '../../src/main/core/library/keyword-store';
import { openDatabase, type Db } from '../../src/main/core/store/database';

function setup(): { db: Db; keywords: KeywordStore; id: number } {
  const db = openDatabase(':memory:');
  db.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/p', 'now')").run();
  const info = db
    .prepare(
      `INSERT INTO photos (root_id, rel_path, file_name, folder, hash, size, mtime_ms, status, first_seen_at, updated_at)
       VALUES (1, 'a.jpg', 'a.jpg', '', 'h', 1, 1, 'ok', 'now', 'now')`,
    )
    .run();
  return { db, keywords: new KeywordStore(db), id: Number(info.lastInsertRowid) };
}

function ftsHits(db: Db, q: string): number[] {
  return (db.prepare('SELECT rowid FROM photo_fts WHERE photo_fts MATCH ?').all(q) as { rowid: number }[]).map((r) => r.rowid);
}

describe('KeywordStore', () => {
  it('adds, lists, removes keywords per photo and keeps them searchable', () => {
    const { db, keywords, id } = setup();
    expect(keywords.add(id, '  Ёлка  ', 'user')).toBe(true);
    expect(keywords.add(id, 'Places|France|Paris')).toBe(true);
    expect(keywords.add(id, 'Ёлка')).toBe(false);
    expect(keywords.list(id).map((k) => [k.keyword, k.source])).toEqual([
      ['Places|France|Paris', 'user'],
      ['Ёлка', 'user'],
    ]);
    expect(ftsHits(db, 'paris')).toEqual([id]);
    expect(ftsHits(db, 'ёлка')).toEqual([id]);
    expect(keywords.remove(id, 'Places|France|Paris')).toBe(true);
    expect(ftsHits(db, 'paris')).toEqual([]);
    expect(keywords.listMany([id, 999]).get(id)?.map((k) => k.keyword)).toEqual(['Ёлка']);
  });

  it('imports file keywords without taking over words the user added', () => {
    const { keywords, id } = setup();
    keywords.add(id, 'beach', 'user');
    expect(keywords.importFromFile(id, ['beach', 'sunset', '', 'bad\nword'])).toBe(1);
    expect(keywords.list(id).map((k) => `${k.keyword}:${k.source}`)).toEqual(['beach:user', 'sunset:file']);
    expect(keywords.vocabulary()).toEqual([
      { keyword: 'beach', photos: 1 },
      { keyword: 'sunset', photos: 1 },
    ]);
  });

  it('rejects empty and multi-line keywords with a user-facing message', () => {
    const { keywords, id } = setup();
    expect(() => keywords.add(id, '   ')).toThrow(/keyword must be/);
    expect(() => keywords.add(id, 'two\nlines')).toThrow(/keyword must be/);
    expect(() => keywords.add(999, 'x')).toThrow(/does not exist/);
  });

  it('hashes keyword sets independent of order', () => {
    expect(keywordsHash(['b', 'a'])).toBe(keywordsHash(['a', 'b', 'a']));
    expect(keywordsHash([])).toBe('');
  });
});
