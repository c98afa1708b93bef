import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { TandemApi } from '../../src/shared/api';
import { tempDir } from '../support/temp-dirs';

/** What the page may see (this file is type-checked without the DOM lib). */
type PageGlobals = { tandem: TandemApi; require?: unknown; process?: unknown };

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The Electron binary, if this machine has one. Found the way `require('electron')` finds it, but without
 * requiring it: that module starts a download when the binary is missing.
 */
function electronBinary(): { path: string | null; why: string } {
  const override = process.env['TANDEM_ELECTRON'];
  if (override) return existsSync(override) ? { path: override, why: '' } : { path: null, why: `TANDEM_ELECTRON=${override} does not exist` };
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { path: null, why: 'the electron package is not installed' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return { path: null, why: 'the Electron binary was never downloaded (node_modules/electron/path.txt is missing)' };
  const rel = readFileSync(pathFile, 'utf8').trim();
  const dist = process.env['ELECTRON_OVERRIDE_DIST_PATH'] ?? join(pkgDir, 'dist');
  const path = join(dist, rel);
  return existsSync(path) ? { path, why: '' } : { path: null, why: `the Electron binary ${path} does not exist` };
}

const binary = electronBinary();
if (!binary.path) console.log(`[electron-smoke] skipped: ${binary.why}. The renderer is covered in Chromium by tests/e2e/library.test.ts.`);

describe('Electron app smoke test', () => {
  const tmp = tempDir('tandem-electron-');
  afterAll(() => tmp.cleanup());

  it.skipIf(!binary.path)('starts, shows the library page and exposes only window.tandem', async () => {
    const { build } = await import('electron-vite');
    await build({ root: ROOT });
    // Without ELECTRON_RENDERER_URL the shell loads the built page from out/renderer, as a packaged app does.
    const { ELECTRON_RENDERER_URL: _devServer, ...env } = process.env;
    const app = await electron.launch({
      executablePath: binary.path!,
      args: [ROOT],
      cwd: ROOT,
      env: { ...env, TANDEM_HOME: tmp.dir },
    });
    try {
      const page = await app.firstWindow();
      await page.getByRole('heading', { name: 'No library folders yet' }).waitFor();
      const exposed = await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals;
        return { mediaBase: g.tandem.mediaBase, hasRequire: g.require !== undefined, hasProcess: g.process !== undefined };
      });
      expect(exposed).toEqual({ mediaBase: 'tandem://', hasRequire: false, hasProcess: false });
      const status = await page.evaluate(() => (globalThis as unknown as PageGlobals).tandem.invoke('library.status', {}));
      expect(status.dataDir).toBe(tmp.dir);
    } finally {
      await app.close();
    }
  });
});
