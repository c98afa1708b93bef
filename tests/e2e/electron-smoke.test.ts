import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { TandemApi } from '../../src/shared/api';
import { tempDir } from '../support/temp-dirs';

/** What the page may see (this file is type-checked without the DOM lib). */
type PageGlobals = { tandem: TandemApi; require?: unknown; process?: unknown };

const ROOT = resolve(import.meta.dirname, '../..');

/** The Electron binary, if this machine has one (`require('electron')` is its path, and throws when it was never downloaded). */
function electronBinary(): { path: string | null; why: string } {
  try {
    const path: unknown = createRequire(import.meta.url)('electron');
    if (typeof path === 'string' && existsSync(path)) return { path, why: '' };
    return { path: null, why: `the electron package points at ${String(path)}, which does not exist` };
  } catch (err) {
    return { path: null, why: `the Electron binary is not installed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
}

const binary = electronBinary();
if (!binary.path) console.log(`[electron-smoke] skipped: ${binary.why}. The renderer is covered in Chromium by tests/e2e/library.test.ts.`);

describe('Electron app smoke test', () => {
  const tmp = tempDir('tandem-electron-');
  afterAll(() => tmp.cleanup());

  it.skipIf(!binary.path)('starts, shows the library page and exposes only window.tandem', async () => {
    const { build } = await import('electron-vite');
    await build({ root: ROOT });
    const app = await electron.launch({
      executablePath: binary.path!,
      args: [ROOT],
      cwd: ROOT,
      env: { ...process.env, TANDEM_HOME: tmp.dir, ELECTRON_RENDERER_URL: '' },
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
