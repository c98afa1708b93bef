import { describe, expect, it } from 'vitest';
import type { CaptionEntry } from '../../src/shared/api';
import { modelOfSource, settingsSummary, shownEntryId, sourceLabel } from '../../src/renderer/lib/caption-history';
import { buildFolderTree } from '../../src/renderer/lib/folder-tree';
import { describeFilters, NO_FILTERS, toPhotoFilters } from '../../src/renderer/lib/gallery-filters';
import { highlightParts } from '../../src/renderer/lib/highlight';
import { formatBytes, formatGps, formatMonth, readableError } from '../../src/renderer/lib/format';

const entry = (id: number, source: string, text = `t${id}`): CaptionEntry => ({ id, source, text, createdAt: '2024-01-01T00:00:00Z', settings: null });

describe('caption history', () => {
  it('shows the newest user edit over file and model captions, as the core does', () => {
    expect(shownEntryId([entry(5, 'model:blip-base'), entry(4, 'user'), entry(3, 'file'), entry(1, 'user')])).toBe(4);
    expect(shownEntryId([entry(5, 'model:blip-large'), entry(3, 'file')])).toBe(3);
    expect(shownEntryId([entry(7, 'model:blip-large'), entry(6, 'model:blip-base')])).toBe(7);
    expect(shownEntryId([])).toBeNull();
  });

  it('names who wrote a caption and how', () => {
    expect(sourceLabel('user')).toBe('You');
    expect(sourceLabel('file')).toBe('From the file');
    expect(sourceLabel('model:blip-base')).toBe('blip-base');
    expect(modelOfSource('model:blip-vqa-base')).toBe('blip-vqa-base');
    expect(modelOfSource('user')).toBeNull();
    expect(settingsSummary(JSON.stringify({ numBeams: 3, maxLength: 30, prompt: 'a photo of' }))).toBe('3 beams · max 30 tokens · prompt “a photo of”');
    expect(settingsSummary(JSON.stringify({ numBeams: 1 }))).toBe('greedy');
    expect(settingsSummary('not json')).toBe('');
  });
});

describe('folder tree', () => {
  it('nests folders under their library folder with own and total counts', () => {
    const roots = [{ id: 1, path: '/home/me/Pictures', addedAt: '', photoCount: 9 }];
    const tree = buildFolderTree(roots, [
      { rootId: 1, folder: '', count: 1 },
      { rootId: 1, folder: '2020/summer', count: 3 },
      { rootId: 1, folder: '2020', count: 2 },
      { rootId: 1, folder: '2019/winter', count: 3 },
      { rootId: 2, folder: 'other', count: 50 },
    ]);
    expect(tree).toHaveLength(1);
    const top = tree[0]!;
    expect([top.name, top.own, top.total]).toEqual(['Pictures', 1, 9]);
    expect(top.children.map((c) => [c.path, c.own, c.total])).toEqual([
      ['2019', 0, 3],
      ['2020', 2, 5],
    ]);
    expect(top.children[1]!.children.map((c) => [c.name, c.total])).toEqual([['summer', 3]]);
  });
});

describe('gallery filters', () => {
  it('turns the user’s filters into the contract’s', () => {
    expect(toPhotoFilters(NO_FILTERS)).toEqual({});
    expect(toPhotoFilters({ folder: { rootId: 2, path: 'exif', name: 'exif' }, show: 'uncaptioned', from: '2020-01-01', to: '' })).toEqual({
      rootId: 2,
      folder: 'exif',
      captioned: 'no',
      takenFrom: '2020-01-01',
    });
    expect(toPhotoFilters({ ...NO_FILTERS, show: 'failed' })).toEqual({ problems: true });
    expect(describeFilters({ folder: { rootId: 1, path: '', name: 'photos' }, show: 'captioned', from: '2020-01-01', to: '2020-12-31' })).toBe(
      'in photos · captioned · taken 2020-01-01 to 2020-12-31',
    );
  });
});

describe('formatting', () => {
  it('splits search highlights into marked parts', () => {
    expect(highlightParts('Morning \u0001coffee\u0002 in Paris')).toEqual([
      { text: 'Morning ', match: false },
      { text: 'coffee', match: true },
      { text: ' in Paris', match: false },
    ]);
  });

  it('formats sizes, places and months', () => {
    expect(formatBytes(990_000_000)).toBe('990 MB');
    expect(formatBytes(1_880_000_000)).toBe('1.9 GB');
    expect(formatBytes(null)).toBe('—');
    expect(formatGps(48.8584, -2.2945)).toBe('48.85840° N, 2.29450° W');
    expect(formatMonth(null)).toBe('No date');
    expect(formatMonth('2021-03')).toMatch(/2021/);
  });

  it('never shows a stack trace', () => {
    expect(readableError(new Error('Folder not found: /x'))).toBe('Folder not found: /x');
    expect(readableError(new Error('boom\n    at foo (bar.js:1:1)'))).toBe('boom');
    expect(readableError(new Error("Error invoking remote method 'tandem:x': Error: Model missing"))).toBe('Model missing');
    expect(readableError({})).toBe('Something went wrong.');
  });
});
