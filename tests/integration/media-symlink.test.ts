/**
 * The media protocol serves by photo id; a symlink swapped in after the scan must not turn an id into a way to read
 * any file (issue 13). Runs the code behind `tandem://` (MediaService + mediaResponse) on a real core.
 */
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaResponse } from '../../src/main/app/media-response';
import { openCore, type Core } from '../../src/main/core/core';
import { readMedia } from '../../src/main/core/library/media-service';
import { thumbPath } from '../../src/main/core/library/thumbnails';
import { FIXTURE_PHOTOS, tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let core: Core;
let library: string;
let secret: string;

function idOf(fileName: string): number {
  const photo = core.search.list({}, 'name', 0, 100).items.find((p) => p.fileName === fileName);
  if (!photo) throw new Error(`no photo ${fileName}`);
  return photo.id;
}

/** Replaces a scanned photo by a link to the secret file, as an attacker with write access to the folder would. */
function swapForLink(fileName: string, target = secret): void {
  renameSync(join(library, fileName), join(library, `${fileName}.orig`));
  symlinkSync(target, join(library, fileName));
}

beforeAll(async () => {
  tmp = tempDir('tandem-media-link-');
  library = join(tmp.dir, 'photos');
  mkdirSync(library);
  for (const name of ['horse.png', 'coins.png', 'rocket.jpg', 'astronaut.jpg']) copyFileSync(join(FIXTURE_PHOTOS, 'real', name), join(library, name));
  mkdirSync(join(library, 'album'));
  copyFileSync(join(FIXTURE_PHOTOS, 'real', 'coffee.png'), join(library, 'album', 'coffee.png'));
  // Outside the library, and a real image, so only the containment check can refuse it.
  mkdirSync(join(tmp.dir, 'private'));
  secret = join(tmp.dir, 'private', 'secret.png');
  copyFileSync(join(FIXTURE_PHOTOS, 'real', 'chelsea.png'), secret);
  core = openCore({ dataDir: join(tmp.dir, 'data') });
  await core.library.addRoot(library);
  await core.library.scan();
});

afterAll(async () => {
  await core?.close();
  tmp?.cleanup();
});

describe('tandem://photo and tandem://thumb with a symlink swapped in after the scan', () => {
  it('serves a photo that is still a plain file inside its folder', async () => {
    const id = idOf('rocket.jpg');
    const response = await mediaResponse(core.media, `photo/${id}`);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(join(library, 'rocket.jpg')))).toBe(true);
  });

  it('refuses the original when it now links outside the library (403, nothing read)', async () => {
    const id = idOf('horse.png');
    swapForLink('horse.png');
    await expect(core.media.resolve(`photo/${id}`)).rejects.toMatchObject({ code: 'outside_library' });
    const response = await mediaResponse(core.media, `photo/${id}`);
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/leads outside its folder/);
    expect((await mediaResponse(core.media, `photo/${id}`, 'HEAD')).status).toBe(403);
  });

  it('does not rebuild a thumbnail from a linked-in file', async () => {
    const id = idOf('coins.png');
    rmSync(thumbPath(core.paths.thumbsDir, core.photos.row(id).hash, 'large'), { force: true }); // made on first view, if it was
    swapForLink('coins.png');
    const response = await mediaResponse(core.media, `thumb/${id}?size=large`);
    expect(response.status).toBe(403);
  });

  it('refuses a photo whose parent folder became a link to elsewhere', async () => {
    const id = idOf('coffee.png');
    const elsewhere = join(tmp.dir, 'private', 'album');
    mkdirSync(elsewhere);
    copyFileSync(secret, join(elsewhere, 'coffee.png'));
    renameSync(join(library, 'album'), join(library, 'album.orig'));
    symlinkSync(elsewhere, join(library, 'album'));
    expect((await mediaResponse(core.media, `photo/${id}`)).status).toBe(403);
  });

  it('follows a link that stays inside the library', async () => {
    const id = idOf('astronaut.jpg');
    renameSync(join(library, 'astronaut.jpg'), join(library, 'astronaut-real.jpg'));
    symlinkSync(join(library, 'astronaut-real.jpg'), join(library, 'astronaut.jpg'));
    expect((await mediaResponse(core.media, `photo/${id}`)).status).toBe(200);
  });

  it('refuses to read a resolved file that was swapped for a link before the read', async () => {
    const id = idOf('rocket.jpg');
    // Resolved while it was fine: what a request racing a swap would hold.
    const reply = await core.media.resolve(`photo/${id}`);
    swapForLink('rocket.jpg');
    await expect(readMedia(reply)).rejects.toMatchObject({ code: 'outside_library' });
  });
});
