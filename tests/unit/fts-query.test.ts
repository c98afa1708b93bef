import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../src/main/core/search/fts-query';
import { MAX_QUERY_CHARS, MAX_QUERY_TERMS } from '../../src/shared/text-limits';

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

  it('keeps the first MAX_QUERY_TERMS words of a runaway query and says so', () => {
    const vocabulary = ['red', 'car', 'night', 'dog', 'couch', 'tree', 'sky', 'blue'];
    const huge = Array.from({ length: 20_000 }, (_, i) => `${vocabulary[i % vocabulary.length]}${i}`).join(' ');
    const db = new Database(':memory:');
    db.exec("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')");
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 7; i++) insert.run(`photo ${i}: ${vocabulary.join(' ')} red0 car1`);
    const t0 = performance.now();
    const q = parseSearchQuery(huge);
    db.prepare('SELECT rowid FROM t WHERE t MATCH ?').all(q.match);
    const ms = performance.now() - t0;
    expect(q.terms.length).toBeLessThanOrEqual(MAX_QUERY_TERMS);
    expect(q.terms.slice(0, 2)).toEqual(['red0', 'car1']);
    expect(q.notice).toMatch(new RegExp(`first ${MAX_QUERY_TERMS} words`));
    expect(ms).toBeLessThan(250);
  });
  it('counts excluded words and phrase words against the limit, and cuts a phrase that crosses it', () => {
    const many = Array.from({ length: MAX_QUERY_TERMS - 2 }, (_, i) => `w${i}`).join(' ');
    const q = parseSearchQuery(`${many} -nope "one two three"`);
    expect(q.match).toContain('NOT ("nope"*)');
    expect(q.match).toContain('"one")');
    expect(q.match).not.toContain('two');
    expect(q.notice).toMatch(/the rest was ignored/);
    // Exactly at the limit nothing is cut, and trailing spaces or operators do not count.
    const exact = parseSearchQuery(`${Array.from({ length: MAX_QUERY_TERMS }, (_, i) => `w${i}`).join(' ')}  AND `);
    expect(exact.terms).toHaveLength(MAX_QUERY_TERMS);
    expect(exact.notice).toBeNull();
  });
  it('reads only the first MAX_QUERY_CHARS characters', () => {
    const q = parseSearchQuery(`sky ${'x'.repeat(MAX_QUERY_CHARS * 20)}`);
    expect(q.terms).toEqual(['sky', 'x'.repeat(MAX_QUERY_CHARS - 4)]);
    expect(q.notice).toMatch(/characters\) of a search are used/);
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

describe('parseSearchQuery with prefix expansion', () => {
  const vocabulary = ['sitting', 'sittings', 'table', 'tablecloth', 'night', 'nights'];
  const expand = (prefix: string): string[] | null => (prefix === 'many' ? null : vocabulary.filter((w) => w.startsWith(prefix)));

  it('searches a prefix as its whole words, one word as itself and no word as the exact word', () => {
    expect(parseSearchQuery('sitting tablec', expand).match).toBe('("sitting" OR "sittings") AND "tablecloth"');
    expect(parseSearchQuery('sittingx', expand).match).toBe('"sittingx"');
  });
  it('keeps a prefix the expander declines, and leaves phrases, one letter and OR alone', () => {
    expect(parseSearchQuery('many', expand).match).toBe('"many"*');
    expect(parseSearchQuery('"red car" OR table -night', expand).match).toBe('("red car" OR ("table" OR "tablecloth")) NOT (("night" OR "nights"))');
    expect(parseSearchQuery('table c', expand).match).toBe('("table" OR "tablecloth") AND "c"');
  });
  it('reports the same terms and highlight phrases as without it', () => {
    for (const q of ['sitting tablec', '"a table" night', 'table -night']) {
      const { terms, phrases, notice } = parseSearchQuery(q, expand);
      expect({ terms, phrases, notice }, q).toEqual((({ terms, phrases, notice }) => ({ terms, phrases, notice }))(parseSearchQuery(q)));
    }
  });
});
