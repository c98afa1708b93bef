import { describe, expect, it } from 'vitest';
import { ExportNames, stemOf } from '../../src/main/core/export/export-names';
import { csvField, csvHeader, csvRow, jsonlRow, keywordCell, sidecarText, splitCaptionSource, type ManifestRow } from '../../src/main/core/export/manifest-rows';
import { needsReencode } from '../../src/main/core/export/image-output';

/** A small RFC 4180 reader, to check that what csvRow writes reads back field for field. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

const row = (over: Partial<ManifestRow> = {}): ManifestRow => ({
  fileName: 'IMG_0001.jpg',
  path: '/photos/2021/IMG_0001.jpg',
  caption: 'a dog on a couch',
  source: 'model',
  model: 'blip-base',
  keywords: ['dog', 'couch'],
  width: 640,
  height: 480,
  size: 12345,
  takenAt: '2021-03-02T08:15:00',
  ...over,
});

describe('manifest rows', () => {
  it('writes a plain CSV row unquoted, with the header columns in order', () => {
    expect(csvHeader()).toBe('file_name,path,caption,source,model,keywords,width,height,size,taken_at\r\n');
    expect(csvRow(row())).toBe('IMG_0001.jpg,/photos/2021/IMG_0001.jpg,a dog on a couch,model,blip-base,"dog, couch",640,480,12345,2021-03-02T08:15:00\r\n');
  });

  it('quotes commas, quotes and line breaks, and reads back exactly (Unicode and multi-line captions)', () => {
    const tricky = row({
      fileName: 'unicode name ракета 🚀.jpg',
      caption: 'She said "hi",\nthen left\r\nfor Zürich — 東京',
      keywords: ['a,b', 'say "x"', 'Places|France|Paris'],
      width: null,
      height: null,
      takenAt: null,
    });
    const text = csvHeader() + csvRow(tricky);
    const [header, fields] = parseCsv(text);
    expect(header).toHaveLength(10);
    expect(fields).toEqual([
      'unicode name ракета 🚀.jpg',
      '/photos/2021/IMG_0001.jpg',
      'She said "hi",\nthen left\r\nfor Zürich — 東京',
      'model',
      'blip-base',
      '"a,b", "say \\"x\\"", Places|France|Paris',
      '',
      '',
      '12345',
      '',
    ]);
    expect(csvField('=1+1')).toBe('=1+1');
    expect(keywordCell([])).toBe('');
  });

  it('writes one JSON object per line, line breaks and U+2028 escaped, Unicode kept', () => {
    const line = jsonlRow(row({ caption: 'line one\nline two\u2028three', keywords: ['Ёлка'] }));
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\n\r\u2028\u2029]/);
    expect(line).toContain('Ёлка');
    expect(JSON.parse(line)).toEqual({
      file_name: 'IMG_0001.jpg',
      path: '/photos/2021/IMG_0001.jpg',
      caption: 'line one\nline two\u2028three',
      source: 'model',
      model: 'blip-base',
      keywords: ['Ёлка'],
      width: 640,
      height: 480,
      size: 12345,
      taken_at: '2021-03-02T08:15:00',
    });
  });

  it('splits stored caption sources into source and model', () => {
    expect(splitCaptionSource('model:blip-large')).toEqual({ source: 'model', model: 'blip-large' });
    expect(splitCaptionSource('user')).toEqual({ source: 'user', model: '' });
    expect(splitCaptionSource(null)).toEqual({ source: '', model: '' });
  });

  it('writes sidecars one caption per line, a caption’s own line breaks folded into spaces', () => {
    expect(sidecarText(['a red car'])).toBe('a red car\n');
    expect(sidecarText(['first\nline', '  second  ', ''])).toBe('first line\nsecond\n');
    expect(sidecarText([])).toBe('');
  });
});

describe('export names', () => {
  it('gives clashing names -2, -3 … by stem, across extensions, case and Unicode normalisation', () => {
    const names = new ExportNames();
    expect(names.claim('IMG_0001.jpg')).toEqual({ stem: 'IMG_0001', renamed: false });
    expect(names.claim('IMG_0001.jpg')).toEqual({ stem: 'IMG_0001-2', renamed: true });
    expect(names.claim('img_0001.PNG')).toEqual({ stem: 'img_0001-3', renamed: true });
    // An original that happens to be called like a renamed one is renamed in turn.
    expect(names.claim('IMG_0001-2.jpg')).toEqual({ stem: 'IMG_0001-2-2', renamed: true });
    expect(names.claim('Cafe\u0301.jpg')).toEqual({ stem: 'Cafe\u0301', renamed: false });
    expect(names.claim('Caf\u00e9.jpg').renamed).toBe(true);
    expect(names.claim('.hidden').stem).toBe('.hidden');
    expect(stemOf('archive.tar.gz')).toBe('archive.tar');
  });

  it('re-encodes copies only when a max side is asked for and the image needs it', () => {
    const src = { path: '/x.jpg', fileName: 'x.jpg', width: 200, height: 100, orientation: 1, format: 'jpeg' };
    expect(needsReencode(src, null)).toBe(false);
    expect(needsReencode(src, 256)).toBe(false);
    expect(needsReencode(src, 128)).toBe(true);
    expect(needsReencode({ ...src, orientation: 6 }, 256)).toBe(true);
    expect(needsReencode({ ...src, format: 'heic' }, 256)).toBe(true);
  });
});
