import { CaptionStore } from '../../src/main/core/captions/caption-store';
import { rebuildSearchIndex } from '../../src/main/core/search/search-index';
import type { Db } from '../../src/main/core/store/database';
import { makeCaption, makeChat, makeTags, makeUserCaption } from './caption-vocabulary';
import { pick, randInt, seededRng, type Rng } from './rng';

const EVENTS = [
  'Lisbon trip', 'Birthday', 'Christmas', 'Easter', 'Hiking', 'Beach day', 'Wedding', 'Garden', 'Zoo', 'School concert',
  'Ski week', 'New flat', 'Road trip', 'Camping', 'Graduation', 'Picnic', 'Museum', 'Harbour walk', 'Snow', 'Market',
  'Paris', 'Rome', 'Berlin', 'Grandparents', 'Football', 'Autumn walk', 'Halloween', 'Kids party', 'Bike tour', 'Cats',
];

const NAMERS: readonly ((n: number, d: Date) => string)[] = [
  (n) => `IMG_${String(n % 10000).padStart(4, '0')}.JPG`,
  (n) => `DSC_${String(n % 10000).padStart(4, '0')}.JPG`,
  (n) => `DSCF${String(n % 10000).padStart(4, '0')}.JPG`,
  (_n, d) => `IMG_${stamp(d, '')}.jpg`,
  (n, d) => `PXL_${stamp(d, '')}${String(n % 1000).padStart(3, '0')}.jpg`,
  (_n, d) => `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19).replace(/:/g, '.')}.jpg`,
];

function stamp(d: Date, sep: string): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}${sep}_${iso.slice(11, 19).replace(/:/g, '')}`;
}

export interface BuildReport {
  rows: number;
  captioned: number;
  userCaptions: number;
  tagged: number;
  chats: number;
  rowsMs: number;
  ftsMs: number;
  totalMs: number;
}

export interface BuildOptions {
  rows: number;
  /** Share of ok photos with a model caption; the rest wait in the caption queue. */
  captionedShare?: number;
  onProgress?: (done: number, total: number, phase: string) => void;
}

// Two decades of digital photos; scanned albums (undated) stand in for the older prints.
const START = Date.UTC(2003, 0, 1);
const SPAN_DAYS = (Date.UTC(2025, 0, 1) - START) / 86_400_000;

/**
 * Fills a fresh database with one library folder of `rows` photos grouped into events (one folder per
 * event, 5–250 photos taken over a day or two), then captions, tags and a few chats, then one FTS row per
 * photo through the core's refreshSearchRow, all in one transaction. Deterministic for a given size.
 */
export function buildSyntheticLibrary(db: Db, opts: BuildOptions): BuildReport {
  const rng: Rng = seededRng(20240601);
  const captionedShare = opts.captionedShare ?? 0.75;
  const report: BuildReport = { rows: 0, captioned: 0, userCaptions: 0, tagged: 0, chats: 0, rowsMs: 0, ftsMs: 0, totalMs: 0 };
  const t0 = performance.now();
  db.transaction(() => {
    const now = new Date().toISOString();
    const rootId = Number(db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)').run('/home/alex/Pictures', now).lastInsertRowid);
    const insertPhoto = db.prepare(
      `INSERT INTO photos (root_id, rel_path, file_name, folder, hash, size, mtime_ms, format, width, height, orientation, taken_at,
         camera_make, camera_model, status, status_reason, missing_since, caption_text, caption_source, first_seen_at, updated_at)
       VALUES (@root_id, @rel_path, @file_name, @folder, @hash, @size, @mtime_ms, 'jpeg', @width, @height, @orientation, @taken_at,
         @make, @model, @status, @reason, @missing_since, @caption_text, @caption_source, @now, @now)`,
    );
    const insertCaption = db.prepare(
      'INSERT INTO captions (photo_id, source, text, settings, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    const insertTag = db.prepare('INSERT OR IGNORE INTO photo_tags (photo_id, tag) VALUES (?, ?)');
    const insertChat = db.prepare('INSERT INTO chats (photo_id, title, created_at, updated_at) VALUES (?, ?, ?, ?)');
    const insertMessage = db.prepare('INSERT INTO messages (chat_id, role, text, model, created_at) VALUES (?, ?, ?, ?, ?)');
    const settings = JSON.stringify({ beams: 3, maxLength: 30 });

    let n = 0;
    while (n < opts.rows) {
      // One event: a folder of photos taken close together.
      const day = new Date(START + Math.floor(rng() * SPAN_DAYS) * 86_400_000);
      const y = day.getUTCFullYear();
      const iso = day.toISOString().slice(0, 10);
      const r = rng();
      const folder =
        r < 0.6 ? `${y}/${iso} ${pick(rng, EVENTS)}` : r < 0.85 ? `${y}/${iso.slice(0, 7)}` : r < 0.95 ? `Phone/DCIM/Camera/${y}` : `Scans/Album ${randInt(rng, 1, 40)}`;
      const scanned = folder.startsWith('Scans');
      const size = Math.min(opts.rows - n, randInt(rng, 5, 250));
      const namer = pick(rng, NAMERS);
      const make = pick(rng, ['Canon', 'NIKON CORPORATION', 'SONY', 'FUJIFILM', 'Apple', 'Google']);
      let t = day.getTime() + randInt(rng, 7, 12) * 3_600_000;
      for (let k = 0; k < size; k++, n++) {
        t += randInt(rng, 5, 600) * 1000;
        const when = new Date(t);
        const fileName = namer(n + 1, when).replace(/(\.\w+)$/, `_${n}$1`);
        const s = rng();
        const status = s < 0.97 ? 'ok' : s < 0.98 ? 'broken' : s < 0.99 ? 'unsupported' : 'missing';
        const captioned = status !== 'broken' && status !== 'unsupported' && rng() < captionedShare;
        const user = captioned && rng() < 0.02;
        const modelCaption = captioned ? makeCaption(rng) : null;
        const userCaption = user ? makeUserCaption(rng) : null;
        const info = insertPhoto.run({
          root_id: rootId,
          rel_path: `${folder}/${fileName}`,
          file_name: fileName,
          folder,
          hash: (n * 2654435761).toString(16).padStart(64, '0'),
          size: randInt(rng, 1_500_000, 6_000_000),
          mtime_ms: t,
          width: 4000,
          height: 3000,
          orientation: 1,
          // Scans and screenshots rarely carry a date; those sort by mtime.
          taken_at: scanned || rng() < 0.02 ? null : when.toISOString().slice(0, 19),
          make: scanned ? null : make,
          model: scanned ? null : `${make} model`,
          status,
          reason: status === 'ok' || status === 'missing' ? null : 'JPEG data cannot be decoded: the file is truncated.',
          missing_since: status === 'missing' ? now : null,
          caption_text: userCaption ?? modelCaption,
          caption_source: userCaption ? 'user' : modelCaption ? 'model:blip-base' : null,
          now,
        });
        const id = Number(info.lastInsertRowid);
        if (modelCaption) {
          insertCaption.run(id, 'model:blip-base', modelCaption, settings, now);
          report.captioned++;
        }
        if (userCaption) {
          insertCaption.run(id, 'user', userCaption, null, now);
          report.userCaptions++;
        }
        if (rng() < 0.05) {
          for (const tag of makeTags(rng)) insertTag.run(id, tag);
          report.tagged++;
        }
        if (captioned && rng() < 0.005) {
          const chatId = Number(insertChat.run(id, null, now, now).lastInsertRowid);
          const [q, a] = makeChat(rng);
          insertMessage.run(chatId, 'user', q, null, now);
          insertMessage.run(chatId, 'assistant', a, 'model:llava-interleave-qwen-0.5b', now);
          report.chats++;
        }
        if (n % 5000 === 0) opts.onProgress?.(n, opts.rows, 'rows');
      }
    }
    report.rows = n;
    report.rowsMs = performance.now() - t0;

    const t1 = performance.now();
    // One INSERT … SELECT with refreshSearchRow's own text functions: a million per-row calls took minutes.
    opts.onProgress?.(0, n, 'fts');
    rebuildSearchIndex(db);
    report.ftsMs = performance.now() - t1;
  })();
  report.totalMs = performance.now() - t0;
  return report;
}

/**
 * Recomputes the shown caption with the core's own rule for a sample of photos and counts disagreements,
 * to prove the bulk SQL above wrote what CaptionStore would have. Rolled back, so the data is untouched.
 */
export function checkShownCaptions(db: Db, sample: number): number {
  const ids = db.prepare('SELECT id FROM photos ORDER BY random() LIMIT ?').pluck().all(sample) as number[];
  const before = db.prepare('SELECT caption_text, caption_source FROM photos WHERE id = ?');
  const store = new CaptionStore(db);
  let mismatches = 0;
  const probe = db.transaction(() => {
    for (const id of ids) {
      const a = before.get(id) as { caption_text: string | null; caption_source: string | null };
      store.refreshShown(id);
      const b = before.get(id) as { caption_text: string | null; caption_source: string | null };
      if (a.caption_text !== b.caption_text || a.caption_source !== b.caption_source) mismatches++;
    }
    throw new RollbackSignal();
  });
  try {
    probe();
  } catch (err) {
    if (!(err instanceof RollbackSignal)) throw err;
  }
  return mismatches;
}

class RollbackSignal extends Error {}
