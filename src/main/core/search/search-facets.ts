import type { PhotoFilters } from '../../../shared/api';

/**
 * Filters as full-text tokens. Each FTS row carries a hidden `facets` column (library folder, every
 * ancestor folder, taken year/month/day, captioned, status), so "dog in 2010/Birthday" is one FTS5 AND
 * of two posting lists instead of walking every "dog" and looking each photo up in `photos`: that
 * join cost ~2 µs a row, 230 ms for a broad word at a million photos.
 *
 * Tokens are lowercase letters and digits only, so unicode61 keeps each one whole; folders are hex so any
 * name is one exact token (no hashing, no collisions).
 */
export interface FacetSource {
  root_id: number;
  folder: string;
  taken_at: string | null;
  caption_text: string | null;
  status: string;
}

export interface FacetMatch {
  /** FTS5 expression over the facets column, or null when no filter narrows. */
  expr: string | null;
  /** A facet token to exclude (NOT): missing photos unless a status filter asks for them. */
  exclude: string | null;
  /** True when the tokens say exactly what filterClauses says, so the join to photos can be skipped. */
  exact: boolean;
}

const STATUSES = ['ok', 'unsupported', 'broken', 'missing'] as const;

function hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

export function normalizeFolder(folder: string): string {
  return folder.replace(/^\/+|\/+$/g, '');
}

/** The folder and each of its ancestors ("a/b/c" → a, a/b, a/b/c): a folder filter includes subfolders. */
function folderTokens(folder: string): string[] {
  const parts = normalizeFolder(folder).split('/').filter(Boolean);
  return parts.map((_, i) => `d${hex(parts.slice(0, i + 1).join('/'))}`);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;

export function facetTokens(row: FacetSource): string {
  const t = [`r${row.root_id}`, ...folderTokens(row.folder), `c${row.caption_text === null ? 0 : 1}`];
  const d = row.taken_at ? DATE.exec(row.taken_at) : null;
  if (d) t.push(`y${d[1]}`, `m${d[1]}${d[2]}`, `t${d[1]}${d[2]}${d[3]}`);
  // Last, always: migration 5's trigger rewrites the tail when only the status changes (a photo goes missing).
  t.push(`s${row.status}`);
  return t.join(' ');
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/**
 * The tokens that cover [from, to] exactly (both whole days): days at the ragged ends, whole months,
 * whole years in between. Two decades cost ~50 tokens, not 7,000 days.
 */
export function dateRangeTokens(from: string, to: string): string[] {
  const a = DATE.exec(from);
  const b = DATE.exec(to);
  if (!a || !b) return [];
  let y = Number(a[1]), m = Number(a[2]), d = Number(a[3]);
  const ey = Number(b[1]), em = Number(b[2]), ed = Number(b[3]);
  const key = (yy: number, mm: number, dd: number) => yy * 10000 + mm * 100 + dd;
  const end = key(ey, em, ed);
  const out: string[] = [];
  const p2 = (n: number) => String(n).padStart(2, '0');
  while (key(y, m, d) <= end) {
    if (m === 1 && d === 1 && key(y, 12, 31) <= end) {
      out.push(`y${y}`);
      y++;
      continue;
    }
    const last = daysInMonth(y, m);
    if (d === 1 && key(y, m, last) <= end) {
      out.push(`m${y}${p2(m)}`);
    } else {
      const stop = y === ey && m === em ? Math.min(ed, last) : last;
      for (let dd = d; dd <= stop; dd++) out.push(`t${y}${p2(m)}${p2(dd)}`);
    }
    m++;
    d = 1;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return out;
}

const BARE_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** What the filters mean as facet tokens. Anything the tokens cannot say exactly leaves `exact` false. */
export function facetMatch(f: PhotoFilters): FacetMatch {
  const and: string[] = [];
  let exact = true;
  if (f.rootId !== undefined) and.push(`r${f.rootId}`);
  if (f.folder !== undefined && f.folder !== '') {
    const t = folderTokens(f.folder);
    if (t.length > 0) and.push(t[t.length - 1]!);
  }
  if (f.captioned === 'yes') and.push('c1');
  if (f.captioned === 'no') and.push('c0');
  let exclude: string | null = null;
  if (f.status && f.status.length > 0) {
    const chosen = STATUSES.filter((s) => f.status!.includes(s));
    if (chosen.length === 0) and.push('snone');
    else if (chosen.length < STATUSES.length) and.push(chosen.length === 1 ? `s${chosen[0]}` : `(${chosen.map((s) => `s${s}`).join(' OR ')})`);
  } else {
    // The default hides missing photos: a NOT of their short list costs less than an OR of the other three.
    exclude = 'smissing';
  }
  if (f.takenFrom || f.takenTo) {
    if (f.takenFrom && f.takenTo && BARE_DAY.test(f.takenFrom) && BARE_DAY.test(f.takenTo)) {
      const t = dateRangeTokens(f.takenFrom, f.takenTo);
      and.push(t.length === 0 ? 'snone' : t.length === 1 ? t[0]! : `(${t.join(' OR ')})`);
    } else {
      exact = false; // one bound or a time of day: the join to photos decides
    }
  }
  if (f.problems) exact = false;
  return { expr: and.length > 0 ? and.join(' AND ') : null, exclude, exact };
}
