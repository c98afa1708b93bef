/**
 * Hostile payloads on the channels that name files or folders (issue 13): what a compromised renderer could send.
 * Every call goes through `dispatch` and `createAppHandlers`, as the app shell's ipcMain handlers do, with a real core.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppHandlers, type AppHandlers } from '../../src/main/app/app-handlers';
import { createCoreHandlers, dispatch } from '../../src/main/core/api-handlers';
import { openCore, type Core } from '../../src/main/core/core';
import { FolderGrants } from '../../src/main/core/grants/folder-grants';
import type { Envelope, FolderPurpose } from '../../src/shared/api';
import { fakeBlipRepo } from '../support/hub-server';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let core: Core;
let handlers: AppHandlers;
let now = 0;
let picked: string | null = null;
const purposes: FolderPurpose[] = [];
const grants = new FolderGrants({ now: () => now, ttlMs: 60_000 });

function call(channel: string, payload: unknown): Promise<Envelope<unknown>> {
  return dispatch(handlers, channel, payload, () => undefined);
}

async function pick(folder: string, purpose: FolderPurpose): Promise<string> {
  picked = folder;
  const env = await call('dialog.pickFolder', { purpose });
  if (!env.ok) throw new Error(env.error.message);
  const reply = env.value as { grant: string | null; path: string | null };
  expect(reply.path).toBe(folder);
  return reply.grant!;
}

function errorOf(env: Envelope<unknown>): { code: string; message: string } {
  if (env.ok) throw new Error(`expected a refusal, got ${JSON.stringify(env.value)}`);
  return env.error;
}

const HOSTILE_NAMES = [
  '../../../victim/Gemfile', '..', '../x', 'a/b', '/etc/passwd', 'a\\b', '..\\..\\x', 'C:\\Windows', 'nul\0byte', 'x'.repeat(10_000),
  '', '.staging', 'Blip-Base', 'blip base', '\u202e', 42, null, ['blip-base'],
];

let photos: string;
let modelCopy: string;
let victim: string;

beforeAll(() => {
  tmp = tempDir('tandem-hostile-');
  core = openCore({ dataDir: join(tmp.dir, 'data', 'home') });
  handlers = createAppHandlers(core, {
    pickFolder: async (purpose) => {
      purposes.push(purpose);
      return picked;
    },
  }, grants);
  photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  modelCopy = join(tmp.dir, 'copy');
  for (const [rel, content] of Object.entries(fakeBlipRepo())) {
    mkdirSync(join(modelCopy, rel, '..'), { recursive: true });
    writeFileSync(join(modelCopy, rel), content);
  }
  // The layout of the report: <data>/models/.staging/../../../victim/Gemfile.lock is <tmp>/data/victim/Gemfile.lock.
  victim = join(tmp.dir, 'data', 'victim');
  mkdirSync(victim, { recursive: true });
  writeFileSync(join(victim, 'Gemfile'), "source 'https://rubygems.org'\n");
  writeFileSync(join(victim, 'Gemfile.lock'), 'GEM\n');
  mkdirSync(join(core.paths.modelsDir, '.staging'), { recursive: true });
});

afterAll(async () => {
  await core?.close();
  tmp?.cleanup();
});

describe('pack names on every channel that takes one', () => {
  const channels: Array<[string, (name: unknown) => unknown]> = [
    ['models.remove', (name) => ({ name })],
    ['models.install', (name) => ({ name })],
    ['models.cancelInstall', (name) => ({ name })],
    ['captions.start', (model) => ({ scope: { kind: 'all' }, model })],
    ['captions.cancel', (model) => ({ model })],
    ['settings.set', (captionModel) => ({ captionModel })],
    ['settings.set', (vqaModel) => ({ vqaModel })],
    ['settings.set', (chatModel) => ({ chatModel })],
  ];

  it.each(channels)('%s refuses names with .., separators, NUL, odd case and extreme length', async (channel, payload) => {
    for (const name of HOSTILE_NAMES) {
      const error = errorOf(await call(channel, payload(name)));
      expect(error.code, `${channel} ${JSON.stringify(name).slice(0, 40)}`).toBe('invalid_request');
      expect(error.message.length).toBeLessThan(400);
    }
  });

  it('models.remove ../../../victim/Gemfile leaves victim/Gemfile.lock where it was', async () => {
    const error = errorOf(await call('models.remove', { name: '../../../victim/Gemfile' }));
    expect(error.message).toMatch(/^Invalid request for models\.remove \(name\): Not a model pack name/);
    expect(readFileSync(join(victim, 'Gemfile.lock'), 'utf8')).toBe('GEM\n');
  });

  it('settings keep the model chosen before the refused change', async () => {
    const before = core.settings.get().captionModel;
    errorOf(await call('settings.set', { captionModel: '../../etc' }));
    expect(core.settings.get().captionModel).toBe(before);
  });

  it('models.import refuses a hostile --name even with a valid grant', async () => {
    for (const name of HOSTILE_NAMES.filter((n) => typeof n === 'string')) {
      const grant = await pick(modelCopy, 'model');
      expect(errorOf(await call('models.import', { grant, name })).code).toBe('invalid_request');
    }
    expect(core.models.repository.all()).toEqual([]);
  });
});

describe('folders come only as grants from the main-process picker', () => {
  it('library.addRoot refuses a path (any path) instead of a grant', async () => {
    for (const payload of [{ path: '/etc' }, { path: photos }, { grant: '/etc' }, { grant: photos }, { grant: '~' }, { grant: photos, path: photos }]) {
      expect(errorOf(await call('library.addRoot', payload)).code).toBe('invalid_request');
    }
    expect(core.library.listRoots()).toEqual([]);
  });

  it('models.import refuses a dir instead of a grant', async () => {
    for (const payload of [{ dir: modelCopy }, { dir: modelCopy, name: 'blip-base' }, { grant: modelCopy }]) {
      expect(errorOf(await call('models.import', payload)).code).toBe('invalid_request');
    }
    expect(core.models.repository.all()).toEqual([]);
  });

  it('refuses forged grants of the right shape', async () => {
    const forged = Buffer.alloc(32, 1).toString('base64url');
    expect(errorOf(await call('library.addRoot', { grant: forged }))).toMatchObject({ code: 'invalid_grant', message: expect.stringMatching(/Choose the folder again/) });
    expect(errorOf(await call('models.import', { grant: forged })).code).toBe('invalid_grant');
  });

  it('a grant adds the folder the user picked, once', async () => {
    const grant = await pick(photos, 'library');
    expect(purposes.at(-1)).toBe('library');
    const added = await call('library.addRoot', { grant });
    expect(added).toMatchObject({ ok: true, value: { path: photos } });
    expect(errorOf(await call('library.addRoot', { grant }))).toMatchObject({ code: 'invalid_grant', message: expect.stringMatching(/no longer valid/) });
  });

  it('refuses an expired grant', async () => {
    const grant = await pick(join(tmp.dir, 'data'), 'library');
    now += 60_000;
    expect(errorOf(await call('library.addRoot', { grant }))).toMatchObject({ code: 'invalid_grant', message: expect.stringMatching(/expired/) });
    expect(core.library.listRoots().map((r) => r.path)).toEqual([photos]);
  });

  it('a grant for a model folder cannot add a library folder, nor the other way round', async () => {
    const forModel = await pick(tmp.dir, 'model');
    expect(errorOf(await call('library.addRoot', { grant: forModel })).code).toBe('invalid_grant');
    const forLibrary = await pick(modelCopy, 'library');
    expect(errorOf(await call('models.import', { grant: forLibrary })).code).toBe('invalid_grant');
    expect(core.library.listRoots().map((r) => r.path)).toEqual([photos]);
  });

  it('a model grant imports the picked folder, once', async () => {
    const grant = await pick(modelCopy, 'model');
    expect(await call('models.import', { grant, name: 'blip-base' })).toMatchObject({ ok: true, value: { name: 'blip-base', status: 'installed' } });
    expect(errorOf(await call('models.import', { grant, name: 'blip-base' })).code).toBe('invalid_grant');
    expect(await call('models.remove', { name: 'blip-base' })).toEqual({ ok: true, value: { ok: true } });
  });

  it('a cancelled picker gives no grant', async () => {
    picked = null;
    expect(await call('dialog.pickFolder', { purpose: 'library' })).toEqual({ ok: true, value: { grant: null, path: null } });
  });

  it('the picker takes only a known purpose', async () => {
    for (const payload of [{}, { purpose: 'root' }, { purpose: 'library', path: '/etc' }, { purpose: 'library', defaultPath: '/' }]) {
      expect(errorOf(await call('dialog.pickFolder', payload)).code).toBe('invalid_request');
    }
  });
});

describe('grants belong to the registry that issued them', () => {
  it('core handlers bound without the shell (no picker) redeem no grant', async () => {
    const grant = grants.issue(photos, 'library');
    const env = await dispatch(createCoreHandlers(core), 'library.addRoot', { grant }, () => undefined);
    expect(errorOf(env).code).toBe('invalid_grant');
    expect(core.library.listRoots().map((r) => r.path)).toEqual([photos]);
  });
});
