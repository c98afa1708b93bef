import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import exifr, { sidecar as exifrSidecar } from 'exifr';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore, type Core } from '../../src/main/core/core';
import { CHANGED_SINCE_SCAN } from '../../src/main/core/metadata/metadata-writer';
import { TANDEM_VERSION } from '../../src/main/core/metadata/tandem-version';
import { decodeXmlEntities } from '../../src/main/core/metadata/xmp-fields';
import type { MetadataWriteProgress } from '../../src/shared/api';
import { asList, exiftoolRead } from '../support/exiftool-cli';
import { FIXTURE_PHOTOS, tempDir } from '../support/temp-dirs';

const CAPTION = 'Кот на подоконнике 🐈\nвторая строка — "quoted" & <tagged>';
const KEYWORDS = ['кот', 'Places|France|Paris', 'AC/DC', '🐈 cat'];
const FORMATS = {
  'coffee-gray.jpg': 'jpeg',
  'chelsea-alpha.png': 'png',
  'coffee.webp': 'webp',
  'chelsea.tif': 'tiff',
  'astronaut.heic': 'heic',
} as const;

/** A digiKam/Lightroom sidecar with things Tandem must keep: a foreign namespace, a rating, MWG face regions, digiKam tags. */
const FOREIGN_SIDECAR = `<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
 <rdf:Description rdf:about=''
  xmlns:xmp='http://ns.adobe.com/xap/1.0/'
  xmlns:acme='http://acme.example/ns/1.0/'
  xmlns:digiKam='http://www.digikam.org/ns/1.0/'
  xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/'
  xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#'
  xmlns:stDim='http://ns.adobe.com/xap/1.0/sType/Dimensions#'
  xmlns:dc='http://purl.org/dc/elements/1.1/'>
  <xmp:Rating>4</xmp:Rating>
  <acme:Shelf>B-12</acme:Shelf>
  <digiKam:TagsList><rdf:Seq><rdf:li>People/Alice</rdf:li></rdf:Seq></digiKam:TagsList>
  <dc:subject><rdf:Bag><rdf:li>old-word</rdf:li></rdf:Bag></dc:subject>
  <mwg-rs:Regions rdf:parseType='Resource'>
   <mwg-rs:AppliedToDimensions stDim:w='640' stDim:h='480' stDim:unit='pixel'/>
   <mwg-rs:RegionList><rdf:Bag><rdf:li rdf:parseType='Resource'>
     <mwg-rs:Name>Alice</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>
     <mwg-rs:Area stArea:x='0.5' stArea:y='0.5' stArea:w='0.2' stArea:h='0.3' stArea:unit='normalized'/>
   </rdf:li></rdf:Bag></mwg-rs:RegionList>
  </mwg-rs:Regions>
 </rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>`;

let tmp: { dir: string; cleanup: () => void };
let photosDir: string;
let core: Core;
let rootId: number;

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
function idOf(rel: string): number {
  const row = core.db.prepare('SELECT id FROM photos WHERE rel_path = ?').get(rel) as { id: number } | undefined;
  if (!row) throw new Error(`no photo ${rel}`);
  return row.id;
}
function describeWith(id: number): void {
  core.captions.add(id, 'user', CAPTION);
  for (const k of KEYWORDS) core.keywords.add(id, k, 'user');
}
function jobError(id: number, target: string): string | null {
  const row = core.db.prepare("SELECT error FROM jobs WHERE kind = 'write-metadata' AND photo_id = ? AND model = ?").get(id, target) as
    | { error: string | null }
    | undefined;
  return row?.error ?? null;
}

beforeAll(async () => {
  tmp = tempDir('tandem-metadata-');
  photosDir = join(tmp.dir, 'photos');
  for (const sub of ['side', 'embed', 'merge', 'locked', 'changed']) mkdirSync(join(photosDir, sub), { recursive: true });
  copyFileSync(join(FIXTURE_PHOTOS, 'real/rocket.jpg'), join(photosDir, 'side/rocket.jpg'));
  copyFileSync(join(FIXTURE_PHOTOS, 'real/horse.png'), join(photosDir, 'side/horse.png'));
  for (const name of Object.keys(FORMATS)) copyFileSync(join(FIXTURE_PHOTOS, 'formats', name), join(photosDir, 'embed', name));
  copyFileSync(join(FIXTURE_PHOTOS, 'real/astronaut.jpg'), join(photosDir, 'merge/astronaut.jpg'));
  writeFileSync(join(photosDir, 'merge/astronaut.jpg.xmp'), FOREIGN_SIDECAR);
  copyFileSync(join(FIXTURE_PHOTOS, 'real/coins.png'), join(photosDir, 'locked/coins.png'));
  copyFileSync(join(FIXTURE_PHOTOS, 'real/chelsea.png'), join(photosDir, 'changed/chelsea.png'));
  copyFileSync(join(FIXTURE_PHOTOS, 'real/coffee.png'), join(photosDir, 'changed/coffee.png'));
  for (const f of ['side/rocket.jpg', 'side/horse.png', ...Object.keys(FORMATS).map((n) => `embed/${n}`)]) chmodSync(join(photosDir, f), 0o644);
  chmodSync(join(photosDir, 'merge/astronaut.jpg'), 0o644);
  chmodSync(join(photosDir, 'changed/chelsea.png'), 0o644);
  chmodSync(join(photosDir, 'changed/coffee.png'), 0o644);
  core = openCore({ dataDir: join(tmp.dir, 'data') });
  rootId = (await core.library.addRoot(photosDir)).id;
  await core.library.scan();
}, 120_000);

afterAll(async () => {
  await core?.close();
  chmodSync(join(photosDir, 'locked'), 0o755);
  tmp?.cleanup();
});

describe('writing captions and keywords to XMP sidecars', () => {
  it('creates photo.jpg.xmp with every field, leaves the photo untouched, and reads back with exiftool and exifr', async () => {
    const id = idOf('side/rocket.jpg');
    const before = sha(join(photosDir, 'side/rocket.jpg'));
    describeWith(id);
    const result = await core.metadata.write({ kind: 'photos', photoIds: [id] });
    expect(result).toMatchObject({ state: 'done', written: 1, failed: 0 });
    expect(sha(join(photosDir, 'side/rocket.jpg'))).toBe(before);
    const sidecar = join(photosDir, 'side/rocket.jpg.xmp');
    const tags = exiftoolRead(sidecar);
    expect(tags['XMP-dc:Description']).toBe(CAPTION);
    expect(asList(tags['XMP-dc:Subject']).sort()).toEqual(['AC/DC', 'France', 'Paris', 'Places', 'кот', '🐈 cat'].sort());
    expect(asList(tags['XMP-lr:HierarchicalSubject'])).toEqual(['Places|France|Paris']);
    expect(tags['XMP-xmp:CreatorTool']).toBe(`Tandem ${TANDEM_VERSION}`);
    expect(tags['XMP-tandem:CaptionSource']).toBe('user');
    expect(tags['XMP-tandem:CaptionEdited']).toBe(false);
    const viaExifr = (await exifrSidecar(readFileSync(sidecar), { mergeOutput: false }, 'xmp')) as Record<string, Record<string, unknown>>;
    // exifr leaves XML escapes in XMP text ("&amp;"); Tandem's reader decodes them.
    expect(decodeXmlEntities((viaExifr['dc']!['description'] as { value: string }).value)).toBe(CAPTION);
    expect(viaExifr['tandem']!['CaptionSource']).toBe('user');
  });

  it('records a model caption as the model\'s, and an edited one as edited', async () => {
    const id = idOf('side/horse.png');
    core.captions.add(id, 'model:blip-base', 'a horse in a field');
    await core.metadata.write({ kind: 'photos', photoIds: [id] });
    let tags = exiftoolRead(join(photosDir, 'side/horse.png.xmp'));
    expect(tags).toMatchObject({ 'XMP-dc:Description': 'a horse in a field', 'XMP-tandem:CaptionSource': 'model:blip-base', 'XMP-tandem:CaptionModel': 'blip-base' });
    core.captions.add(id, 'user', 'a brown horse');
    await core.metadata.write({ kind: 'photos', photoIds: [id] });
    tags = exiftoolRead(join(photosDir, 'side/horse.png.xmp'));
    expect(tags).toMatchObject({ 'XMP-dc:Description': 'a brown horse', 'XMP-tandem:CaptionSource': 'user', 'XMP-tandem:CaptionEdited': true });
  });

  it('merges into an existing sidecar: foreign namespaces, the rating, face regions and digiKam tags stay', async () => {
    const id = idOf('merge/astronaut.jpg');
    // The scan read the sidecar's keyword as the file's.
    expect(core.keywords.list(id).map((k) => `${k.keyword}:${k.source}`)).toEqual(['old-word:file']);
    describeWith(id);
    await core.metadata.write({ kind: 'photos', photoIds: [id] });
    const tags = exiftoolRead(join(photosDir, 'merge/astronaut.jpg.xmp'));
    expect(tags['XMP-xmp:Rating']).toBe(4);
    expect(tags['XMP-acme:Shelf']).toBe('B-12');
    expect(asList(tags['XMP-digiKam:TagsList'])).toEqual(['People/Alice']);
    expect(JSON.stringify(tags['XMP-mwg-rs:RegionInfo'])).toContain('Alice');
    expect(tags['XMP-dc:Description']).toBe(CAPTION);
    expect(asList(tags['XMP-dc:Subject'])).toContain('old-word');
    expect(asList(tags['XMP-dc:Subject'])).toContain('кот');
  });

  it('writes nothing again when nothing changed, and only the changed photo after an edit', async () => {
    const ids = [idOf('side/rocket.jpg'), idOf('side/horse.png'), idOf('merge/astronaut.jpg')];
    const mtime = statSync(join(photosDir, 'side/rocket.jpg.xmp')).mtimeMs;
    const again = await core.metadata.write({ kind: 'photos', photoIds: ids });
    expect(again).toMatchObject({ written: 0, skipped: 3, failed: 0 });
    expect(statSync(join(photosDir, 'side/rocket.jpg.xmp')).mtimeMs).toBe(mtime);
    core.keywords.add(ids[0]!, 'rocket', 'user');
    const one = await core.metadata.write({ kind: 'photos', photoIds: ids });
    expect(one).toMatchObject({ written: 1, skipped: 2 });
    expect(asList(exiftoolRead(join(photosDir, 'side/rocket.jpg.xmp'))['XMP-dc:Subject'])).toContain('rocket');
  });
});

describe('embedding into the photo files (opt-in per library folder)', () => {
  it('writes every field into JPEG, PNG, WebP, TIFF and HEIC, keeps mtime, and the files still decode', async () => {
    core.metadata.store.setEmbed(rootId, true);
    const ids = Object.keys(FORMATS).map((n) => idOf(`embed/${n}`));
    const mtimes = Object.keys(FORMATS).map((n) => statSync(join(photosDir, 'embed', n)).mtimeMs);
    for (const id of ids) describeWith(id);
    const result = await core.metadata.write({ kind: 'folder', rootId, folder: 'embed' });
    expect(result, result.message ?? '').toMatchObject({ written: 5, failed: 0 });
    for (const [i, [name, format]] of Object.entries(FORMATS).entries()) {
      const file = join(photosDir, 'embed', name);
      const tags = exiftoolRead(file);
      expect(tags['XMP-dc:Description'], name).toBe(CAPTION);
      expect(tags['IFD0:ImageDescription'], name).toBe(CAPTION);
      expect(asList(tags['XMP-dc:Subject']).length, name).toBe(6);
      expect(asList(tags['XMP-lr:HierarchicalSubject']), name).toEqual(['Places|France|Paris']);
      expect(tags['XMP-tandem:CaptionSource'], name).toBe('user');
      if (format === 'jpeg') {
        expect(tags['IPTC:Caption-Abstract'], name).toBe(CAPTION);
        expect(asList(tags['IPTC:Keywords']), name).toContain('кот');
      }
      // utimes takes seconds as a double: the sub-microsecond part may round.
      expect(Math.abs(statSync(file).mtimeMs - mtimes[i]!), name).toBeLessThan(0.001);
      if (format !== 'heic') {
        const m = await sharp(file).metadata();
        expect(m.width, name).toBeGreaterThan(0);
        await sharp(file).raw().toBuffer();
      }
      if (format !== 'webp') {
        const viaExifr = (await exifr.parse(readFileSync(file), { xmp: true, iptc: true, mergeOutput: true } as never)) as Record<string, unknown>;
        expect(JSON.stringify(viaExifr['description'] ?? viaExifr['ImageDescription']), name).toContain('Кот на подоконнике');
      }
      // The database follows the file: its new hash, so the next scan sees nothing to re-read.
      const row = core.photos.row(ids[i]!);
      expect(row.hash, name).toBe(sha(file));
    }
    const rescan = await core.library.scan();
    expect(rescan.changed).toBe(0);
  });

  it('leaves a photo that changed since the scan alone, with the reason', async () => {
    const id = idOf('changed/chelsea.png');
    describeWith(id);
    appendFileSync(join(photosDir, 'changed/chelsea.png'), Buffer.from('edited elsewhere'));
    const before = sha(join(photosDir, 'changed/chelsea.png'));
    const result = await core.metadata.write({ kind: 'photos', photoIds: [id] });
    expect(result).toMatchObject({ written: 0, skipped: 1 });
    expect(result.message).toContain(CHANGED_SINCE_SCAN);
    expect(jobError(id, 'embedded')).toBe(CHANGED_SINCE_SCAN);
    expect(sha(join(photosDir, 'changed/chelsea.png'))).toBe(before);
  });

  it('gives a read-only file and a read-only folder their own error, and the run goes on', async () => {
    const lockedFile = idOf('changed/coffee.png');
    const lockedFolder = idOf('locked/coins.png');
    const fine = idOf('side/rocket.jpg');
    for (const id of [lockedFile, lockedFolder]) describeWith(id);
    core.keywords.add(fine, 'after-locks', 'user');
    chmodSync(join(photosDir, 'changed/coffee.png'), 0o444);
    chmodSync(join(photosDir, 'locked'), 0o555);
    core.metadata.store.setEmbed(rootId, false);
    try {
      const progress: MetadataWriteProgress[] = [];
      const result = await core.metadata.write({ kind: 'photos', photoIds: [lockedFolder, lockedFile, fine] }, {
        embed: true,
        onProgress: (p) => progress.push(p),
      });
      expect(result).toMatchObject({ state: 'done', written: 1, failed: 2 });
      expect(jobError(lockedFile, 'embedded')).toMatch(/coffee\.png is read-only/);
      expect(jobError(lockedFolder, 'embedded')).toMatch(/folder .*locked is read-only/);
      expect(progress.at(-1)).toMatchObject({ state: 'done', done: 3, total: 3 });
      expect(existsSync(join(photosDir, 'locked/coins.png.xmp'))).toBe(false);
    } finally {
      chmodSync(join(photosDir, 'changed/coffee.png'), 0o644);
    }
  });
});

describe('the write queue', () => {
  it('pauses, resumes and cancels; a job left running by a crash is queued again', async () => {
    const ids = (core.db.prepare("SELECT id FROM photos WHERE status = 'ok' ORDER BY id").all() as { id: number }[]).map((r) => r.id);
    const states: string[] = [];
    const off = core.events.on('metadata.progress', (p) => states.push(p.state));
    try {
      expect(await core.metadata.start({ kind: 'photos', photoIds: ids })).toBe(ids.length);
      core.metadata.pause();
      await expect.poll(() => core.metadata.lastProgress?.state).toBe('paused');
      // Pausing stops after the file in hand.
      expect(core.metadata.store.counts().queued).toBeGreaterThanOrEqual(ids.length - 1);
      expect(core.metadata.store.counts().running).toBe(0);
      core.metadata.resume();
      await expect.poll(() => core.metadata.running).toBe(false);
      expect(core.metadata.lastProgress).toMatchObject({ state: 'done', done: ids.length });
      expect(states).toContain('paused');

      await core.metadata.start({ kind: 'photos', photoIds: ids });
      core.metadata.pause();
      core.metadata.cancel();
      await expect.poll(() => core.metadata.running).toBe(false);
      expect(core.metadata.lastProgress?.state).toBe('cancelled');
      expect(core.metadata.store.counts().queued).toBe(0);

      // A process killed mid-write leaves its job "running": the next start puts it back in the queue.
      core.metadata.store.enqueue([ids[0]!], 'sidecar');
      core.metadata.store.claim();
      expect(core.metadata.store.recoverInterrupted()).toBe(1);
      expect(core.metadata.store.counts().queued).toBe(1);
      await core.metadata.resumeQueued();
      expect(core.metadata.store.counts().queued).toBe(0);
    } finally {
      off();
    }
  });

  it('"write after captioning" and "write after each edit" queue the photo by themselves (both off by default)', async () => {
    const id = idOf('merge/astronaut.jpg');
    const sidecar = join(photosDir, 'merge/astronaut.jpg.xmp');
    expect(core.settings.get()).toMatchObject({ writeMetadataAfterCaptioning: false, writeMetadataAfterEdit: false });
    core.captions.add(id, 'model:blip-large', 'ignored while the setting is off');
    core.events.emit('caption.added', { photoId: id, text: 'ignored while the setting is off', source: 'model:blip-large' });
    await new Promise((r) => setTimeout(r, 50));
    expect(core.metadata.running).toBe(false);
    expect(core.metadata.store.counts().queued).toBe(0);

    core.settings.set({ writeMetadataAfterEdit: true });
    core.captions.add(id, 'user', 'edited again');
    core.metadata.afterEdit([id]);
    await expect.poll(() => exiftoolRead(sidecar)['XMP-dc:Description'], { timeout: 20_000 }).toBe('edited again');

    // A model caption never hides a person's: the shown caption, and so the file, keep the edit.
    core.settings.set({ writeMetadataAfterEdit: false, writeMetadataAfterCaptioning: true });
    const other = idOf('side/horse.png');
    core.db.prepare("DELETE FROM captions WHERE photo_id = ? AND source = 'user'").run(other);
    core.captions.refreshShown(other);
    core.captions.add(other, 'model:blip-large', 'a horse standing in the grass');
    core.events.emit('caption.added', { photoId: other, text: 'a horse standing in the grass', source: 'model:blip-large' });
    await expect.poll(() => exiftoolRead(join(photosDir, 'side/horse.png.xmp'))['XMP-dc:Description'], { timeout: 20_000 }).toBe(
      'a horse standing in the grass',
    );
    expect(exiftoolRead(join(photosDir, 'side/horse.png.xmp'))['XMP-tandem:CaptionSource']).toBe('model:blip-large');
    core.settings.set({ writeMetadataAfterCaptioning: false });
  });
});

describe('reading sidecars at a scan', () => {
  it('imports sidecar captions and keywords as from the file, and a model caption as that model\'s', async () => {
    const other = openCore({ dataDir: join(tmp.dir, 'data-2') });
    try {
      await other.library.addRoot(photosDir);
      await other.library.scan();
      const id = (rel: string) => (other.db.prepare('SELECT id FROM photos WHERE rel_path = ?').get(rel) as { id: number }).id;
      const rocket = other.photos.row(id('side/rocket.jpg'));
      expect(rocket.caption_text).toBe(CAPTION);
      expect(rocket.caption_source).toBe('file');
      expect(other.keywords.list(rocket.id).map((k) => [k.keyword, k.source])).toContainEqual(['Places|France|Paris', 'file']);
      // dc:subject's flattened levels are not imported next to the hierarchical keyword they came from.
      expect(other.keywords.list(rocket.id).map((k) => k.keyword)).not.toContain('France');
      // The sidecar that Tandem wrote for a model's caption brings it back as that model's, below any person's words.
      // (the queue test above left horse.png's sidecar with a blip-large caption written "after captioning").
      const horse = other.photos.row(id('side/horse.png'));
      expect(horse).toMatchObject({ caption_text: 'a horse standing in the grass', caption_source: 'model:blip-large' });
      const embedded = other.photos.row(id('embed/coffee-gray.jpg'));
      expect(embedded.caption_text).toBe(CAPTION);
      const hits = other.search.search('подоконнике', {}, 0, 10).items.map((h) => h.relPath);
      expect(hits).toContain('side/rocket.jpg');
      // Every photo described above is found by a keyword: from its embedded XMP (JPEG, PNG, TIFF) or its sidecar (the
      // queue test wrote sidecars for all of them; that is how WebP and HEIC keywords come back, exifr reads neither).
      expect(other.search.search('paris', {}, 0, 20).items.map((h) => h.relPath).sort()).toEqual(
        [
          'changed/chelsea.png', 'changed/coffee.png', 'embed/astronaut.heic', 'embed/chelsea-alpha.png', 'embed/chelsea.tif',
          'embed/coffee-gray.jpg', 'embed/coffee.webp', 'merge/astronaut.jpg', 'side/rocket.jpg',
        ].sort(),
      );
      // HEIC's caption comes back through EXIF ImageDescription.
      expect(other.photos.row(id('embed/astronaut.heic')).caption_text).toBe(CAPTION);
    } finally {
      await other.close();
    }
  });

  it('a sidecar marked tandem:CaptionSource model:… is imported as that model\'s caption, and BLIP ranks below a person', async () => {
    const dir = join(tmp.dir, 'model-sidecar');
    mkdirSync(dir);
    copyFileSync(join(FIXTURE_PHOTOS, 'real/rocket.jpg'), join(dir, 'r.jpg'));
    writeFileSync(
      join(dir, 'r.jpg.xmp'),
      `<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
       <rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/' xmlns:tandem='https://tandem.app/ns/1.0/'>
       <dc:description><rdf:Alt><rdf:li xml:lang='x-default'>a rocket on a pad</rdf:li></rdf:Alt></dc:description>
       <tandem:CaptionSource>model:blip-large</tandem:CaptionSource></rdf:Description></rdf:RDF></x:xmpmeta>`,
    );
    const other = openCore({ dataDir: join(tmp.dir, 'data-3') });
    try {
      await other.library.addRoot(dir);
      await other.library.scan();
      const row = other.db.prepare('SELECT id, caption_text, caption_source FROM photos').get() as { id: number; caption_text: string; caption_source: string };
      expect(row).toMatchObject({ caption_text: 'a rocket on a pad', caption_source: 'model:blip-large' });
      other.captions.add(row.id, 'user', 'my rocket');
      other.captions.add(row.id, 'model:blip-base', 'a newer model caption');
      expect(other.photos.row(row.id).caption_text).toBe('my rocket');
    } finally {
      await other.close();
    }
  });
});
