import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../src/main/core/search/fts-query';

describe('parseSearchQuery', () => {
  it('makes every word a prefix query joined by AND', () => {
    expect(parseSearchQuery('dog couch').match).toBe('"dog"* AND "couch"*');
  });
  it('keeps quoted phrases, OR and -exclusions', () => {
    expect(parseSearchQuery('"red car" OR bike -night').match).toBe('("red car" OR "bike"*) NOT ("night"*)');
  });
  it('reads an unbalanced quote as plain words with a notice', () => {
    const q = parseSearchQuery('"unbalanced words');
    expect(q.match).toBe('"unbalanced"* AND "words"*');
    expect(q.notice).toMatch(/closing quote/);
  });
  it('explains queries that hold nothing to search for', () => {
    expect(parseSearchQuery('AND OR').match).toBeNull();
    expect(parseSearchQuery('AND OR').notice).toMatch(/only search operators/);
    expect(parseSearchQuery('🙂🚀').notice).toMatch(/Nothing searchable/);
    expect(parseSearchQuery('-cat').notice).toMatch(/at least one word/);
    expect(parseSearchQuery('   ').notice).toBeNull();
  });
  it('lowercases and keeps non-Latin words', () => {
    expect(parseSearchQuery('Ракета Café').terms).toEqual(['ракета', 'café']);
  });

  const hostile = [
    '"', '""', '"unbalanced', 'AND OR', 'OR', 'NOT', '*', '^', 'a*b', 'NEAR(a b)', 'col:value', '(', ')', '((', '🙂', 'x"y"z',
    "'; DROP TABLE photos; --", '-', '--', '- -a', 'a OR', 'OR a', 'a OR OR b', '\u0000', '\\', 'a:b:c', '{a b}', '+a', 'a AND',
  ];
  it('always produces syntax SQLite accepts', () => {
    const db = new Database(':memory:');
    db.exec("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='unicode61 remove_diacritics 2', prefix='2 3 4'); INSERT INTO t VALUES ('a red car at night')");
    for (const input of hostile) {
      const { match } = parseSearchQuery(input);
      if (match === null) continue;
      expect(() => db.prepare('SELECT rowid FROM t WHERE t MATCH ?').all(match), input).not.toThrow();
    }
  });
});
