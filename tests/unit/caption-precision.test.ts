import { describe, expect, it } from 'vitest';
import { AppSettings } from '../../src/shared/api';
import { CaptionStore } from '../../src/main/core/captions/caption-store';
import { captionRecord, captionSettingsKey, DEFAULT_CAPTION_SETTINGS } from '../../src/main/core/jobs/caption-settings';
import { JobStore } from '../../src/main/core/jobs/job-store';
import { DEFAULT_SETTINGS, SettingsStore } from '../../src/main/core/settings/settings-store';
import { openDatabase } from '../../src/main/core/store/database';
import { precisionOf, sourceWithPrecision } from '../../src/renderer/lib/caption-history';

describe('caption precision', () => {
  it('defaults to fp32, and settings saved before it existed still parse', () => {
    expect(DEFAULT_SETTINGS.captionPrecision).toBe('fp32');
    const { captionPrecision: _omitted, ...old } = DEFAULT_SETTINGS;
    expect(AppSettings.parse(old).captionPrecision).toBe('fp32');
    expect(AppSettings.safeParse({ ...DEFAULT_SETTINGS, captionPrecision: 'fp16' }).success).toBe(false);
    const db = openDatabase(':memory:');
    const store = new SettingsStore(db);
    expect(store.get().captionPrecision).toBe('fp32');
    expect(store.set({ captionPrecision: 'int8' }).captionPrecision).toBe('int8');
    expect(new SettingsStore(db).get().captionPrecision).toBe('int8');
  });

  it('is recorded with the caption but is not part of the settings key', () => {
    const key = captionSettingsKey(DEFAULT_CAPTION_SETTINGS);
    expect(key).not.toContain('precision');
    expect(captionRecord(DEFAULT_CAPTION_SETTINGS, 'int8')).toEqual({ ...(JSON.parse(key) as object), precision: 'int8' });
  });

  it('a photo captioned at one precision counts as captioned at the other, unless regenerate', () => {
    const db = openDatabase(':memory:');
    db.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/p', 'now')").run();
    const ids = [0, 1, 2].map((i) =>
      Number(
        db
          .prepare(
            `INSERT INTO photos (root_id, rel_path, file_name, folder, hash, size, mtime_ms, status, first_seen_at, updated_at)
             VALUES (1, ?, ?, '', ?, 1, 1, 'ok', 'now', 'now')`,
          )
          .run(`p${i}.jpg`, `p${i}.jpg`, `h${i}`).lastInsertRowid,
      ),
    );
    const captions = new CaptionStore(db);
    const jobs = new JobStore(db);
    const prompted = { ...DEFAULT_CAPTION_SETTINGS, prompt: 'a “photo” of', repetitionPenalty: 1.2 };
    captions.add(ids[0]!, 'model:m', 'int8 caption', captionRecord(DEFAULT_CAPTION_SETTINGS, 'int8'));
    captions.add(ids[1]!, 'model:m', 'fp32 caption', captionRecord(prompted, 'fp32'));
    expect(jobs.enqueueCaptions(ids, 'm', captionSettingsKey(DEFAULT_CAPTION_SETTINGS))).toBe(2);
    expect(jobs.enqueueCaptions(ids, 'm', captionSettingsKey(prompted))).toBe(2);
    expect(jobs.enqueueCaptions([ids[0]!], 'm', captionSettingsKey({ ...DEFAULT_CAPTION_SETTINGS, numBeams: 3 }))).toBe(1);
    expect(jobs.enqueueCaptions([ids[0]!, ids[1]!], 'x', captionSettingsKey(DEFAULT_CAPTION_SETTINGS), { regenerate: true })).toBe(2);
  });

  it('the caption history names the precision of model captions', () => {
    const rec = JSON.stringify(captionRecord(DEFAULT_CAPTION_SETTINGS, 'int8'));
    expect(precisionOf(rec)).toBe('int8');
    expect(sourceWithPrecision('model:blip-base', rec)).toBe('blip-base · int8');
    expect(sourceWithPrecision('model:blip-base', JSON.stringify(DEFAULT_CAPTION_SETTINGS))).toBe('blip-base');
    expect(sourceWithPrecision('user', null)).toBe('You');
  });
});
