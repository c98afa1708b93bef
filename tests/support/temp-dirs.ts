import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const FIXTURE_PHOTOS = resolve(import.meta.dirname, '../../../shared/fixtures/photos');

/** A fresh temp folder removed by the returned cleanup. */
export function tempDir(prefix = 'tandem-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A writable copy of the shared fixture photos (the shared folder is read-only). */
export function copyFixtures(into: string): string {
  const target = join(into, 'photos');
  cpSync(FIXTURE_PHOTOS, target, { recursive: true });
  return target;
}
