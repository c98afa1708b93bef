import { mkdirSync } from 'node:fs';
import { AnswerStore } from './captions/answer-store';
import { CaptionStore } from './captions/caption-store';
import { ChatBackends } from './chat/backend-factory';
import { blipAnswerer } from './chat/blip-answerer';
import { ChatService } from './chat/chat-service';
import { EventBus } from './event-bus';
import { ExportService } from './export/export-service';
import { forkWorker, type SpawnWorker } from './inference/worker-handle';
import { CaptionService } from './jobs/caption-service';
import { KeywordStore } from './library/keyword-store';
import { LibraryService } from './library/library-service';
import { MediaService } from './library/media-service';
import { MetadataService } from './metadata/metadata-service';
import { PhotoStore } from './library/photo-store';
import { dataPaths, type DataPaths } from './paths';
import { hubSettingsFromEnv } from './models/hub-downloader';
import { ModelDownloads } from './models/model-downloads';
import { ModelStore } from './models/model-store';
import { workerCompileRunner } from './models/llava-compile-runner';
import { SettingsStore } from './settings/settings-store';
import { SearchService } from './search/search-service';
import { HybridSearch } from './search/hybrid-search';
import type { EmbeddingBackend } from './retrieval/embedding-backend';
import { EmbeddingService } from './retrieval/embedding-service';
import { inferenceEmbeddingBackend } from './retrieval/inference-embedding-backend';
import { VqaService } from './vqa/vqa-service';
import { openDatabase, type Db } from './store/database';

/** Everything a user can do, wired once per data folder. The app shell, the CLI and tests all use this. */
export interface Core {
  paths: DataPaths;
  db: Db;
  events: EventBus;
  library: LibraryService;
  photos: PhotoStore;
  captions: CaptionStore;
  /** Keywords (tags) per photo, searchable. */
  keywords: KeywordStore;
  /** Dataset export: sidecars, manifests, copied or linked images. */
  exports: ExportService;
  /** Captions and keywords written to XMP sidecars or into photo files (issue 12). */
  metadata: MetadataService;
  answers: AnswerStore;
  search: SearchService;
  /** Search by meaning (issue 11): embeddings of every photo, the vector index, query embeddings. */
  embeddings: EmbeddingService;
  /** Words and meaning fused (what `search.query` and `tandem search` use); `search` stays words only. */
  hybrid: HybridSearch;
  media: MediaService;
  models: ModelStore;
  captioning: CaptionService;
  downloads: ModelDownloads;
  settings: SettingsStore;
  /** BLIP VQA in its own inference process. */
  vqa: VqaService;
  chat: ChatService;
  /** Process ids of the inference processes that are running now (diagnostics, tests). */
  inferencePids(): { captioning?: number; vqa?: number; llava?: number };
  /** Stops the inference processes, then closes the database. */
  close(): Promise<void>;
}

export interface OpenCoreOptions {
  dataDir: string;
  /** How to start the inference process: child_process.fork by default, utilityProcess in the app. */
  spawnWorker?: SpawnWorker;
  /** Compiled model graphs elsewhere than `<dataDir>/model-cache` (shared between data folders, e.g. benchmarks). */
  modelCacheDir?: string;
  /** VQA and LLaVA processes stop after this long unused (default 10 minutes); the captioning one stays for the next run. */
  modelIdleMs?: number;
  /**
   * What computes embeddings for search by meaning and where its pack is: the inference process and the installed
   * pack by default; tests give a fake model and say where it is.
   */
  retrieval?: { backend: EmbeddingBackend; locateModel?: (name: string) => string };
}

export function openCore(opts: OpenCoreOptions): Core {
  const paths = { ...dataPaths(opts.dataDir), ...(opts.modelCacheDir ? { modelCacheDir: opts.modelCacheDir } : {}) };
  mkdirSync(paths.dataDir, { recursive: true });
  const db = openDatabase(paths.dbFile);
  const events = new EventBus();
  const photos = new PhotoStore(db);
  const captions = new CaptionStore(db);
  const keywords = new KeywordStore(db);
  const exports = new ExportService({ db, photos, captions, keywords, events });
  const spawnWorker = opts.spawnWorker ?? (() => forkWorker());
  const models = new ModelStore({
    db,
    modelsDir: paths.modelsDir,
    modelCacheDir: paths.modelCacheDir,
    hub: hubSettingsFromEnv(process.env),
    // LLaVA compiles take minutes and gigabytes: in an inference process of their own, never this one.
    compileRunner: workerCompileRunner(spawnWorker),
  });
  const captioning = new CaptionService({
    db,
    photos,
    captions,
    models,
    events,
    modelCacheDir: paths.modelCacheDir,
    spawnWorker: opts.spawnWorker ?? (() => forkWorker()),
  });
  const downloads = new ModelDownloads(models, events);
  const answers = new AnswerStore(db);
  const settings = new SettingsStore(db);
  const embeddings = new EmbeddingService({
    db,
    photos,
    locateModel: opts.retrieval?.locateModel ?? ((name) => models.resolve(name)),
    settings,
    events,
    backend:
      opts.retrieval?.backend ??
      inferenceEmbeddingBackend(() => captioning.ensureClient(), {
        cacheDir: paths.modelCacheDir,
        threads: () => settings.get().threads,
        precision: () => settings.get().captionPrecision,
      }),
  });
  const search = new SearchService(db);
  const metadata = new MetadataService({ db, photos, keywords, settings, events, thumbsDir: paths.thumbsDir, workDir: paths.dataDir });
  const idle = opts.modelIdleMs !== undefined ? { idleMs: opts.modelIdleMs } : {};
  const vqa = new VqaService({ answers, modelCacheDir: paths.modelCacheDir, spawnWorker: opts.spawnWorker ?? (() => forkWorker()), ...idle });
  // LLaVA gets its own instance of the inference process (same entry and spawner), see llava-protocol.ts.
  const chatBackends = new ChatBackends({ models, spawnWorker: opts.spawnWorker ?? (() => forkWorker()), ...idle });
  const chat = new ChatService({
    db,
    photos,
    answers,
    events,
    settings: () => settings.get(),
    blip: blipAnswerer(captioning, vqa, settings),
    checkBlip: (model) => void captioning.resolveModel({ model }),
    backend: (s) => chatBackends.create(s),
  });
  return {
    paths,
    db,
    events,
    library: new LibraryService({ db, events, thumbsDir: paths.thumbsDir, dbFile: paths.dbFile, dataDir: paths.dataDir }),
    photos,
    captions,
    keywords,
    exports,
    metadata,
    answers,
    search,
    embeddings,
    hybrid: new HybridSearch({ db, words: search, embeddings, photos }),
    media: new MediaService(db, paths.thumbsDir),
    models,
    captioning,
    downloads,
    settings,
    vqa,
    chat,
    inferencePids: () => {
      const pids = { captioning: captioning.workerPid, vqa: vqa.pid, llava: chatBackends.llavaPid };
      return Object.fromEntries(Object.entries(pids).filter(([, v]) => v !== undefined));
    },
    close: async () => {
      downloads.cancelAll();
      exports.cancelAll();
      await metadata.close();
      await chat.close();
      await chatBackends.close();
      await vqa.close();
      // Embeddings run in the captioning process: stop handing it batches before it closes.
      embeddings.pause();
      await captioning.close();
      db.close();
    },
  };
}
