import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptionStore } from '../../src/main/core/captions/caption-store';
import { importTextSidecar, parseTextSidecar, readTextSidecar, textSidecarCandidates } from '../../src/main/core/library/caption-text-sidecar';
import { openDatabase } from '../../src/main/core/store/database';

const dir = mkdtempSync(join(tmpdir(), 'tandem-txt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('caption text sidecars', () => {
  it('looks for <stem>.txt, then <stem>.caption', () => {
    expect(textSidecarCandidates('/p/IMG_1.JPG')).toEqual(['/p/IMG_1.txt', '/p/IMG_1.TXT', '/p/IMG_1.caption', '/p/IMG_1.CAPTION']);
  });

  it('reads non-empty lines, BOM and CRLF handled; non-UTF-8 gives nothing', () => {
    expect(parseTextSidecar(Buffer.from('\ufeffa dog\r\n\r\n  a cat  \n'))).toEqual(['a dog', 'a cat']);
    expect(parseTextSidecar(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toEqual([]);
  });

  it('reads the sidecar beside a photo, .txt first', async () => {
    writeFileSync(join(dir, 'a.caption'), 'from caption\n');
    expect(await readTextSidecar(join(dir, 'a.jpg'))).toEqual(['from caption']);
    writeFileSync(join(dir, 'a.txt'), 'from txt\n');
    expect(await readTextSidecar(join(dir, 'a.jpg'))).toEqual(['from txt']);
    expect(await readTextSidecar(join(dir, 'none.jpg'))).toEqual([]);
  });

  it('imports lines as file captions, the first one shown, and adds nothing on a rescan', () => {
    const db = openDatabase(':memory:');
    db.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/p', 'now')").run();
    const id = Number(
      db
        .prepare(
          `INSERT INTO photos (root_id, rel_path, file_name, folder, hash, size, mtime_ms, status, first_seen_at, updated_at)
           VALUES (1, 'a.jpg', 'a.jpg', '', 'h', 1, 1, 'ok', 'now', 'now')`,
        )
        .run().lastInsertRowid,
    );
    const captions = new CaptionStore(db);
    captions.add(id, 'model:blip-base', 'a model caption');
    expect(importTextSidecar(db, captions, id, ['shown caption', 'second caption'])).toBe(2);
    expect(importTextSidecar(db, captions, id, ['shown caption', 'second caption'])).toBe(0);
    const row = db.prepare('SELECT caption_text, caption_source FROM photos WHERE id = ?').get(id);
    expect(row).toEqual({ caption_text: 'shown caption', caption_source: 'file' });
    expect(captions.history(id).map((c) => c.source)).toEqual(['file', 'file', 'model:blip-base']);
  });
});
