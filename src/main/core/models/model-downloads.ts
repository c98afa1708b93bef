import type { ModelDownloadProgress } from '../../../shared/api';
import { errorMessage, TandemError } from '../errors';
import type { EventBus } from '../event-bus';
import type { InstallOptions, InstalledModel, ModelStore } from './model-store';

/** Downloads started from the app: run in the background, report through `models.progress`, cancellable. */
export class ModelDownloads {
  private readonly active = new Map<string, AbortController>();

  constructor(
    private readonly models: ModelStore,
    private readonly events: EventBus,
  ) {}

  isActive(name: string): boolean {
    return this.active.has(name);
  }

  start(name: string, options: Pick<InstallOptions, 'deleteSources' | 'visionPrecision' | 'embeddingPrecision'> = {}): void {
    if (this.active.has(name)) return;
    if (!this.models.knownPacks().some((p) => p.name === name)) {
      throw new TandemError('unknown_model', `There is no model pack called “${name}”.`);
    }
    const controller = new AbortController();
    this.active.set(name, controller);
    let last: ModelDownloadProgress | null = null;
    const base = (): ModelDownloadProgress =>
      last ?? {
        pack: name, phase: 'resolving', file: '', fileIndex: 0, fileCount: 0, fileBytes: 0, fileTotal: null,
        packBytes: 0, packTotal: null, bytesPerSecond: 0, etaSeconds: null,
      };
    this.models
      .install(name, {
        signal: controller.signal,
        ...(options.deleteSources ? { deleteSources: true } : {}),
        ...(options.visionPrecision ? { visionPrecision: options.visionPrecision } : {}),
        ...(options.embeddingPrecision ? { embeddingPrecision: options.embeddingPrecision } : {}),
        onProgress: (p) => {
          last = { ...p, error: null };
          // The pack is only usable once it has been moved into place and registered, after install() resolves.
          if (p.phase !== 'done') this.events.emit('models.progress', last);
        },
      })
      .then(() => this.events.emit('models.progress', { ...base(), phase: 'done', error: null }))
      .catch((err: unknown) => {
        const cancelled = controller.signal.aborted;
        this.events.emit('models.progress', { ...base(), phase: cancelled ? 'cancelled' : 'failed', error: cancelled ? null : errorMessage(err) });
      })
      .finally(() => this.active.delete(name));
  }

  /**
   * Imports a folder picked in the app. A llava-hf folder is compiled as part of it: its progress goes out as
   * `models.progress` like a download's, ending with 'done' or 'failed' so the card does not stay "Compiling".
   */
  async importFolder(dir: string, name: string | undefined): Promise<InstalledModel> {
    let last: ModelDownloadProgress | null = null;
    const report = (p: ModelDownloadProgress): void => {
      last = p;
      this.events.emit('models.progress', p);
    };
    try {
      const model = await this.models.import(dir, { ...(name ? { name } : {}), onProgress: (p) => report({ ...p, error: null }) });
      if (last) report({ ...(last as ModelDownloadProgress), phase: 'done' });
      return model;
    } catch (err) {
      if (last) report({ ...(last as ModelDownloadProgress), phase: 'failed', error: errorMessage(err) });
      throw err;
    }
  }

  cancel(name: string): void {
    this.active.get(name)?.abort(new TandemError('cancelled', 'Download cancelled.'));
  }

  cancelAll(): void {
    for (const c of this.active.values()) c.abort(new TandemError('cancelled', 'Download cancelled.'));
  }
}
