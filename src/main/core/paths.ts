import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where a Tandem library keeps its database, thumbnails, models and compiled model cache. */
export interface DataPaths {
  dataDir: string;
  dbFile: string;
  thumbsDir: string;
  modelsDir: string;
  modelCacheDir: string;
}

export function dataPaths(dataDir: string): DataPaths {
  const dir = resolve(dataDir);
  return {
    dataDir: dir,
    dbFile: join(dir, 'tandem.db'),
    thumbsDir: join(dir, 'thumbs'),
    modelsDir: join(dir, 'models'),
    modelCacheDir: join(dir, 'model-cache'),
  };
}

/**
 * The CLI's data folder: --data-dir, else TANDEM_HOME, else the same per-user folder the desktop app uses
 * (Electron's userData for an app named "Tandem"), so the CLI and the app share one library.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env['TANDEM_HOME']) return resolve(env['TANDEM_HOME']);
  const home = homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Tandem');
  if (platform === 'win32') return join(env['APPDATA'] ?? join(home, 'AppData', 'Roaming'), 'Tandem');
  return join(env['XDG_CONFIG_HOME'] ?? join(home, '.config'), 'Tandem');
}
