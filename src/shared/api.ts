/**
 * The one contract between the renderer and the core (DESIGN.md §1).
 * Every channel has a request and a reply schema; the preload exposes `window.tandem`
 * generated from this table and the app shell binds one handler per channel.
 */
import { z } from 'zod';
import { MAX_CAPTION_CHARS, MAX_CHAT_MESSAGE_CHARS, MAX_PATH_CHARS, MAX_PROMPT_CHARS, MAX_QUERY_CHARS, MAX_QUESTION_CHARS } from './text-limits';
import { MAX_EXPORT_PHOTO_IDS, MAX_KEYWORD_CHARS, MAX_KEYWORDS_PER_PHOTO } from './text-limits';
import { FolderGrant, FolderPurpose } from './folder-grant';
import { PackName } from './pack-name';
import { checkEngineUrl } from './engine-url';

export const PhotoStatus = z.enum(['ok', 'unsupported', 'broken', 'missing']);
export type PhotoStatus = z.infer<typeof PhotoStatus>;

export const CaptionSource = z.string().min(1); // 'user' | 'file' | `model:<id>`

export const Root = z.object({
  id: z.number().int(),
  path: z.string(),
  addedAt: z.string(),
  photoCount: z.number().int(),
});
export type Root = z.infer<typeof Root>;

export const PhotoSummary = z.object({
  id: z.number().int(),
  rootId: z.number().int(),
  path: z.string(),
  relPath: z.string(),
  fileName: z.string(),
  folder: z.string(),
  status: PhotoStatus,
  statusReason: z.string().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  takenAt: z.string().nullable(),
  caption: z.string().nullable(),
  captionSource: z.string().nullable(),
});
export type PhotoSummary = z.infer<typeof PhotoSummary>;

export const CaptionEntry = z.object({
  id: z.number().int(),
  source: CaptionSource,
  text: z.string(),
  createdAt: z.string(),
  settings: z.string().nullable(),
});
export type CaptionEntry = z.infer<typeof CaptionEntry>;

export const PhotoDetail = PhotoSummary.extend({
  hash: z.string(),
  size: z.number().int(),
  mtimeMs: z.number(),
  format: z.string().nullable(),
  orientation: z.number().int().nullable(),
  cameraMake: z.string().nullable(),
  cameraModel: z.string().nullable(),
  gpsLat: z.number().nullable(),
  gpsLon: z.number().nullable(),
  firstSeenAt: z.string(),
  captions: z.array(CaptionEntry),
  tags: z.array(z.string()),
});
export type PhotoDetail = z.infer<typeof PhotoDetail>;

export const PhotoFilters = z.object({
  rootId: z.number().int().optional(),
  /** Folder relative to its root ('' = root itself); includes subfolders. */
  folder: z.string().max(MAX_PATH_CHARS).optional(),
  takenFrom: z.string().optional(),
  takenTo: z.string().optional(),
  captioned: z.enum(['any', 'yes', 'no']).optional(),
  status: z.array(PhotoStatus).optional(),
  /** Only photos that need attention: unreadable files, and photos whose captioning failed (no caption shown). */
  problems: z.boolean().optional(),
});
export type PhotoFilters = z.infer<typeof PhotoFilters>;

export const PhotoSort = z.enum(['taken', 'name', 'added']);
export type PhotoSort = z.infer<typeof PhotoSort>;

export const PageRequest = z.object({
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(5000).default(200),
});

export const PhotoPage = z.object({
  total: z.number().int(),
  items: z.array(PhotoSummary),
});
export type PhotoPage = z.infer<typeof PhotoPage>;

/**
 * Queries with fewer words than this are not re-ranked by BLIP's matching head (one or two words say too little for
 * it to add over the contrastive ranking, and each re-ranked photo costs a vision pass).
 */
export const RERANK_MIN_WORDS = 3;

/** Why a search hit matched: its words (caption, tags, chat, names), its meaning (ITC similarity), or both. */
export const MatchReason = z.enum(['words', 'meaning', 'both']);
export type MatchReason = z.infer<typeof MatchReason>;

export const SearchHit = PhotoSummary.extend({
  rank: z.number(),
  /** Caption with matches wrapped in \u0001 … \u0002 markers, for highlighting. */
  highlight: z.string().nullable(),
  /** Set by search by meaning (issue 11); a words-only search leaves it out. */
  matchedBy: MatchReason.optional(),
  /** Cosine similarity of the photo's image embedding to the query's (or to the photo "find similar" started from). */
  similarity: z.number().nullable().optional(),
  /** ITM match probability when the top hits were re-ranked by the matching head. */
  matchProbability: z.number().nullable().optional(),
});
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchResult = z.object({
  query: z.string(),
  total: z.number().int(),
  items: z.array(SearchHit),
  /** Set when the query could not be understood as typed; results then come from a plain-words reading. */
  notice: z.string().nullable(),
});
export type SearchResult = z.infer<typeof SearchResult>;

export const ScanCounts = z.object({
  seen: z.number().int(),
  added: z.number().int(),
  changed: z.number().int(),
  moved: z.number().int(),
  unchanged: z.number().int(),
  missing: z.number().int(),
  ok: z.number().int(),
  unsupported: z.number().int(),
  broken: z.number().int(),
  thumbnails: z.number().int(),
  /** Files and folders skipped because their names are not valid UTF-8 (no path string can name them). */
  invalidNames: z.number().int().optional(),
  /** The first few of them, relative to their library folder, with the bytes that are not UTF-8 written as \xNN. */
  invalidNameExamples: z.array(z.string()).optional(),
});
export type ScanCounts = z.infer<typeof ScanCounts>;

export const ScanProgress = z.object({
  phase: z.enum(['walking', 'indexing', 'done']),
  done: z.number().int(),
  total: z.number().int(),
  ratePerSec: z.number(),
  etaSec: z.number().nullable(),
  current: z.string().nullable(),
  counts: ScanCounts,
});
export type ScanProgress = z.infer<typeof ScanProgress>;

export const LibraryStatus = z.object({
  roots: z.array(Root),
  photos: z.number().int(),
  byStatus: z.record(z.string(), z.number().int()),
  captioned: z.number().int(),
  /** Readable photos without a caption whose caption job failed (unreadable ones are in byStatus). */
  captionFailed: z.number().int(),
  dataDir: z.string(),
  dbBytes: z.number().int(),
});
export type LibraryStatus = z.infer<typeof LibraryStatus>;

export const JobProgress = z.object({
  state: z.enum(['idle', 'loading', 'running', 'pausing', 'paused', 'cancelling', 'done', 'cancelled', 'failed']),
  model: z.string(),
  done: z.number().int(),
  total: z.number().int(),
  failed: z.number().int(),
  photosPerSec: z.number(),
  etaSec: z.number().nullable(),
  currentPhotoId: z.number().int().nullable(),
  currentPath: z.string().nullable(),
  message: z.string().nullable(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const CaptionSettingsSchema = z.object({
  numBeams: z.number().int().min(1).max(16),
  maxLength: z.number().int().min(2).max(512),
  minLength: z.number().int().min(0).max(512),
  repetitionPenalty: z.number().positive().max(10),
  prompt: z.string().max(MAX_PROMPT_CHARS, `A caption prompt can be at most ${MAX_PROMPT_CHARS} characters long.`).nullable(),
});

export const CaptionScopeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('missing') }),
  z.object({ kind: z.literal('folder'), rootId: z.number().int().optional(), folder: z.string() }),
  z.object({ kind: z.literal('roots'), rootIds: z.array(z.number().int()) }),
  z.object({ kind: z.literal('photos'), photoIds: z.array(z.number().int()).min(1) }),
]);

export const JobCountsSchema = z.object({
  queued: z.number().int(),
  running: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
});

export const JobFailure = z.object({
  jobId: z.number().int(),
  photoId: z.number().int(),
  relPath: z.string(),
  model: z.string(),
  error: z.string().nullable(),
  attempts: z.number().int(),
});
export type JobFailure = z.infer<typeof JobFailure>;

export const ModelEntry = z.object({
  name: z.string(),
  kind: z.string(),
  description: z.string().nullable(),
  known: z.boolean(),
  status: z.string(),
  problem: z.string().nullable(),
  source: z.string().nullable(),
  repo: z.string().nullable(),
  revision: z.string().nullable(),
  dir: z.string().nullable(),
  bytesOnDisk: z.number(),
  downloadBytes: z.number().nullable(),
  stagedBytes: z.number(),
  installedAt: z.string().nullable(),
  /** The pack runs from graphs Tandem compiles from its weights (every LLaVA pack downloaded or imported as llava-hf). */
  compilable: z.boolean().optional(),
  /** What a first compile gives the vision tower and embeddings when the user asks for nothing else. */
  defaultVisionPrecision: z.enum(['fp32', 'int8']).optional(),
  /** The compiled folder, once built: its decoder (and vision tower, embeddings) precision and size. */
  compiled: z
    .object({ precision: z.string().nullable(), visionPrecision: z.string().optional(), embeddingPrecision: z.string().optional(), bytes: z.number() })
    .nullable()
    .optional(),
  /** The downloaded weights were deleted after the compile: the pack runs from the compiled folder alone. */
  sourcesDeleted: z.boolean().optional(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const ModelDownloadProgress = z.object({
  pack: z.string(),
  /** 'compiling' follows the download for LLaVA packs, which Tandem compiles from the official weights. */
  phase: z.enum(['resolving', 'downloading', 'compiling', 'done', 'failed', 'cancelled']),
  file: z.string(),
  fileIndex: z.number().int(),
  fileCount: z.number().int(),
  fileBytes: z.number(),
  fileTotal: z.number().nullable(),
  packBytes: z.number(),
  packTotal: z.number().nullable(),
  bytesPerSecond: z.number(),
  etaSeconds: z.number().nullable(),
  error: z.string().nullable().optional(),
  /** While compiling: the stage ('decoder layer 3/32') and units of work done of all; etaSeconds is the compile's. */
  compile: z.object({ stage: z.string(), label: z.string(), done: z.number(), total: z.number() }).optional(),
});
export type ModelDownloadProgress = z.infer<typeof ModelDownloadProgress>;

export const ChatRoute = z.enum(['auto', 'blip', 'llava']);
export type ChatRoute = z.infer<typeof ChatRoute>;

export const ChatMessage = z.object({
  id: z.number().int(),
  chatId: z.number().int(),
  role: z.enum(['system', 'user', 'assistant']),
  text: z.string(),
  /** Which model answered, e.g. 'model:blip-vqa-base'; null for user turns. */
  model: z.string().nullable(),
  route: z.enum(['blip', 'llava']).nullable(),
  createdAt: z.string(),
  durationMs: z.number().nullable(),
  tokens: z.number().int().nullable(),
  stopped: z.boolean(),
  /** Set when the answer failed (engine unreachable, model missing, …); `text` keeps what arrived before. */
  error: z.string().nullable(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const Chat = z.object({
  id: z.number().int(),
  photoId: z.number().int(),
  title: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  messages: z.array(ChatMessage),
});
export type Chat = z.infer<typeof Chat>;

/** An engine address: http(s) only, with a host, no credentials (engine-url.ts says why). */
export const EngineBaseUrl = z.string().superRefine((value, ctx) => {
  const check = checkEngineUrl(value);
  if (!check.ok) ctx.addIssue({ code: 'custom', message: check.reason });
});

/** User-level settings (threads, batch size, caption defaults, models per role, LLaVA backend, theme). */
export const AppSettings = z.object({
  threads: z.number().int().min(1).max(64),
  batchSize: z.number().int().min(1).max(64),
  caption: CaptionSettingsSchema,
  /** BLIP precision: 'fp32' is token-exact to the Hugging Face reference; 'int8' is about 2.1× faster on CPUs. */
  captionPrecision: z.enum(['fp32', 'int8']).default('fp32'),
  captionModel: PackName,
  vqaModel: PackName,
  chatModel: PackName,
  chatBackend: z.enum(['embedded', 'ollama', 'openai']),
  engineBaseUrl: EngineBaseUrl,
  engineModel: z.string(),
  engineTimeoutSec: z.number().int().min(1).max(3600),
  temperature: z.number().min(0).max(2),
  topP: z.number().min(0).max(1),
  maxNewTokens: z.number().int().min(1).max(4096),
  theme: z.enum(['system', 'light', 'dark']),
  /** Write captions and keywords to files (sidecars, or embedded where a folder allows it) after each captioning run / each edit. */
  writeMetadataAfterCaptioning: z.boolean().default(false),
  writeMetadataAfterEdit: z.boolean().default(false),
  /** Disk for the photo view's large previews (made on first view, least recently viewed removed first), in MiB. */
  previewCacheMB: z.number().int().min(16).max(65536).default(1024),
  /**
   * Search by meaning (issue 11): embed every photo with the retrieval pack (one more vision pass per photo) and rank
   * searches by meaning as well as words. Takes effect only while the pack is installed.
   */
  searchByMeaning: z.boolean().default(true),
  retrievalModel: PackName.default('blip-itm-base-coco'),
  /**
   * Chat on Tandem's own engine: whether LLaVA's vision tower stays loaded between photos ('resident') or is loaded
   * for each new photo and let go once the photo is read ('on-demand': about a second more per new photo, 0.3–1.3 GB
   * less memory while chatting). 'auto' loads per photo where the tower is smaller than the language model, so
   * reloading it is a small part of an answer (the 7B), and keeps it where it is most of one (the 0.5B).
   */
  chatVisionResidency: z.enum(['auto', 'resident', 'on-demand']).default('auto'),
});
export type AppSettings = z.infer<typeof AppSettings>;

/** A keyword (tag) as a person types it: one line of text. */
export const KeywordText = z
  .string()
  .trim()
  .min(1, 'A keyword cannot be empty.')
  .max(MAX_KEYWORD_CHARS, `A keyword can be at most ${MAX_KEYWORD_CHARS} characters long.`)
  .refine((k) => !/[\r\n]/.test(k), 'A keyword must be one line of text.');

export const PhotoKeywords = z.object({
  photoId: z.number().int(),
  keywords: z.array(z.object({ keyword: z.string(), source: z.string() })),
});
export type PhotoKeywords = z.infer<typeof PhotoKeywords>;

/** What a dataset export covers: picked photos, the current search and filters, or the whole library. */
export const ExportScope = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('photos'),
    photoIds: z.array(z.number().int()).min(1).max(MAX_EXPORT_PHOTO_IDS, `Export at most ${MAX_EXPORT_PHOTO_IDS} picked photos at once; export a search or folder for more.`),
  }),
  z.object({
    kind: z.literal('search'),
    query: z.string().max(MAX_QUERY_CHARS, `A search can be at most ${MAX_QUERY_CHARS} characters long.`).default(''),
    filters: PhotoFilters.default({}),
  }),
  z.object({ kind: z.literal('all') }),
]);
export type ExportScope = z.infer<typeof ExportScope>;

/** txt / caption: a sidecar per image; csv / jsonl: one manifest for the export. */
export const ExportFormat = z.enum(['txt', 'caption', 'csv', 'jsonl']);
export type ExportFormat = z.infer<typeof ExportFormat>;

export const ExportOptions = z.object({
  scope: ExportScope,
  formats: z.array(ExportFormat).min(1, 'Choose at least one thing to write.').max(4),
  /** Images into the export folder: copied (resized to maxSide if set), hard-linked, or not at all. */
  images: z.enum(['copy', 'link', 'none']).default('none'),
  maxSide: z.number().int().min(16).max(16_384).nullable().default(null),
  /** 'shown': the caption the photo shows; 'all': that one first, then the newest from each other source, one per line. */
  captions: z.enum(['shown', 'all']).default('shown'),
});
export type ExportOptions = z.infer<typeof ExportOptions>;

export const ExportSummary = z.object({
  dest: z.string(),
  /** Photos written (image, sidecar or manifest row). */
  exported: z.number().int(),
  images: z.number().int(),
  /** Of `images`, how many were resized or re-encoded upright. */
  resized: z.number().int(),
  sidecars: z.number().int(),
  manifests: z.array(z.string()),
  uncaptioned: z.number().int(),
  /** Photos exported under another name because an earlier one had taken theirs. */
  renamed: z.number().int(),
  /** Hard links that fell back to copies (the export folder is on another disk). */
  linkFallbacks: z.number().int(),
  skipped: z.number().int(),
  /** The first few skipped photos with the reason. */
  skippedExamples: z.array(z.object({ path: z.string(), reason: z.string() })),
  cancelled: z.boolean(),
});
export type ExportSummary = z.infer<typeof ExportSummary>;

export const ExportProgress = z.object({
  exportId: z.number().int(),
  phase: z.enum(['exporting', 'done', 'cancelled', 'failed']),
  done: z.number().int(),
  total: z.number().int(),
  ratePerSec: z.number(),
  etaSec: z.number().nullable(),
  current: z.string().nullable(),
  summary: ExportSummary.nullable(),
  error: z.string().nullable(),
});
export type ExportProgress = z.infer<typeof ExportProgress>;

/** Which photos a metadata write-back covers. */
export const MetadataWriteScope = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('photos'), photoIds: z.array(z.number().int()).min(1).max(MAX_EXPORT_PHOTO_IDS) }),
  z.object({ kind: z.literal('folder'), rootId: z.number().int().optional(), folder: z.string().max(MAX_PATH_CHARS) }),
  z.object({ kind: z.literal('all') }),
]);
export type MetadataWriteScope = z.infer<typeof MetadataWriteScope>;

export const MetadataWriteProgress = z.object({
  state: z.enum(['idle', 'running', 'pausing', 'paused', 'done', 'cancelled', 'failed']),
  done: z.number().int(),
  total: z.number().int(),
  /** Of `done`: files written, and photos left alone (nothing changed since the last write, or changed on disk). */
  written: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  photosPerSec: z.number(),
  etaSec: z.number().nullable(),
  currentPath: z.string().nullable(),
  /** The last per-file problem, e.g. "IMG_1.jpg: changed since the scan; rescan first". */
  message: z.string().nullable(),
});
export type MetadataWriteProgress = z.infer<typeof MetadataWriteProgress>;

/** Search by meaning's state, for the settings page and the status bar. */
export const EmbeddingStatus = z.object({
  /** The setting as the user left it. */
  enabled: z.boolean(),
  model: z.string(),
  /** The retrieval pack is installed, so embeddings can be made. */
  installed: z.boolean(),
  /** Searches rank by meaning now: on, installed, and at least one photo embedded. */
  active: z.boolean(),
  /** Readable photos, and how many of them have an embedding. */
  photos: z.number().int(),
  embedded: z.number().int(),
  counts: JobCountsSchema,
  progress: JobProgress.nullable(),
  /** What turning it on costs, in words (one more vision pass per photo). */
  cost: z.string(),
});
export type EmbeddingStatus = z.infer<typeof EmbeddingStatus>;

const Empty = z.object({}).strict();
const Ok = z.object({ ok: z.literal(true) });

/** Request/reply channels. Names are `area.verb`. */
export const channels = {
  'library.status': { request: Empty, reply: LibraryStatus },
  'library.listRoots': { request: Empty, reply: z.array(Root) },
  /** The folder comes as a grant from `dialog.pickFolder`: the renderer never names a path for the core to read. */
  'library.addRoot': { request: z.object({ grant: FolderGrant }).strict(), reply: Root },
  'library.removeRoot': { request: z.object({ rootId: z.number().int() }), reply: Ok },
  'library.scan': {
    request: z.object({ rootIds: z.array(z.number().int()).optional() }),
    reply: ScanCounts,
  },
  'photos.list': {
    request: z.object({
      filters: PhotoFilters.default({}),
      sort: PhotoSort.default('taken'),
      page: PageRequest.default({ offset: 0, limit: 200 }),
    }),
    reply: PhotoPage,
  },
  'photos.get': { request: z.object({ id: z.number().int() }), reply: PhotoDetail },
  'photos.folders': {
    request: z.object({ rootId: z.number().int().optional() }),
    reply: z.array(z.object({ rootId: z.number().int(), folder: z.string(), count: z.number().int() })),
  },
  'captions.setUser': {
    request: z.object({ photoId: z.number().int(), text: z.string().max(MAX_CAPTION_CHARS, `A caption can be at most ${MAX_CAPTION_CHARS} characters long.`) }),
    reply: PhotoDetail,
  },
  'search.query': {
    request: z.object({
      query: z.string().max(MAX_QUERY_CHARS, `A search can be at most ${MAX_QUERY_CHARS} characters long.`),
      filters: PhotoFilters.default({}),
      page: PageRequest.default({ offset: 0, limit: 200 }),
      /** Words only, even where search by meaning is on. */
      wordsOnly: z.boolean().optional(),
      /** Re-rank the top hits with the ITM head (one vision pass each: for a submitted query, not as-you-type). */
      rerank: z.boolean().optional(),
    }),
    reply: SearchResult,
  },
  /** Photos that look like this one (image–image ITC similarity), most similar first; the photo itself is left out. */
  'search.similar': {
    request: z.object({ photoId: z.number().int(), filters: PhotoFilters.default({}), page: PageRequest.default({ offset: 0, limit: 200 }) }),
    reply: SearchResult,
  },
  /** Search by meaning: whether it is on, the pack, how many photos are embedded, what it costs. */
  'embeddings.status': { request: Empty, reply: EmbeddingStatus },
  /** Queues embeddings for every photo that has none and starts the run in the background (progress: `embeddings.progress`). */
  'embeddings.start': { request: Empty, reply: z.object({ queued: z.number().int() }) },
  /** The embedding run, as the caption run: pause after the batch in hand, resume, cancel what is left. */
  'embeddings.pause': { request: Empty, reply: Ok },
  'embeddings.resume': { request: Empty, reply: Ok },
  'embeddings.cancel': { request: Empty, reply: Ok },
  'captions.history': { request: z.object({ photoId: z.number().int() }), reply: z.array(CaptionEntry) },
  /** Makes an earlier caption the shown one again (as a new user entry, so history keeps every step). */
  'captions.revert': { request: z.object({ photoId: z.number().int(), captionId: z.number().int() }), reply: PhotoDetail },
  /** Queues caption jobs and starts (or continues) the run in the background; progress comes as `jobs.progress`. */
  'captions.start': {
    request: z.object({
      scope: CaptionScopeSchema,
      model: PackName.optional(),
      settings: CaptionSettingsSchema.partial().optional(),
      regenerate: z.boolean().optional(),
    }),
    reply: z.object({ queued: z.number().int(), model: z.string() }),
  },
  'captions.pause': { request: Empty, reply: Ok },
  'captions.resume': { request: Empty, reply: Ok },
  'captions.cancel': { request: z.object({ model: PackName.optional() }), reply: Ok },
  'jobs.status': {
    request: Empty,
    reply: z.object({ counts: JobCountsSchema, progress: JobProgress.nullable() }),
  },
  'jobs.failures': { request: z.object({ limit: z.number().int().min(1).max(1000).default(200) }), reply: z.array(JobFailure) },
  'jobs.retry': { request: z.object({ jobIds: z.array(z.number().int()).optional() }), reply: z.object({ requeued: z.number().int() }) },
  /** A photo the user opened jumps the caption queue. */
  'jobs.prioritize': { request: z.object({ photoId: z.number().int() }), reply: Ok },
  'models.list': { request: Empty, reply: z.array(ModelEntry) },
  /** Starts a download in the background; progress comes as `models.progress`. */
  /**
   * `deleteSources`: once a LLaVA pack is compiled, delete the downloaded weights (the compiled folder is kept).
   * `visionPrecision` / `embeddingPrecision`: compile (or recompile) those graphs at int8: faster, slightly less exact.
   */
  'models.install': {
    request: z.object({
      name: PackName,
      deleteSources: z.boolean().optional(),
      visionPrecision: z.enum(['fp32', 'int8']).optional(),
      embeddingPrecision: z.enum(['fp32', 'int8']).optional(),
    }),
    reply: Ok,
  },
  /** Deletes the weights of a compiled LLaVA pack; it keeps running from its compiled folder. */
  'models.deleteSources': { request: z.object({ name: PackName }), reply: z.object({ freedBytes: z.number() }) },
  'models.cancelInstall': { request: z.object({ name: PackName }), reply: Ok },
  /** The folder comes as a grant from `dialog.pickFolder` with purpose 'model'. */
  'models.import': { request: z.object({ grant: FolderGrant, name: PackName.optional() }).strict(), reply: ModelEntry },
  'models.remove': { request: z.object({ name: PackName }), reply: Ok },
  'settings.get': { request: Empty, reply: AppSettings },
  'settings.set': { request: AppSettings.partial(), reply: AppSettings },
  /** Short factual question answered by BLIP VQA; stored with the photo. */
  'vqa.ask': {
    request: z.object({
      photoId: z.number().int(),
      question: z.string().min(1).max(MAX_QUESTION_CHARS, `A question for BLIP can be at most ${MAX_QUESTION_CHARS} characters long; ask LLaVA in the chat for longer ones.`),
    }),
    reply: z.object({ answer: z.string(), model: z.string(), ms: z.number() }),
  },
  /** The BLIP VQA answers kept with a photo, newest first. */
  'vqa.list': {
    request: z.object({ photoId: z.number().int() }),
    reply: z.array(z.object({ id: z.number().int(), question: z.string(), answer: z.string(), model: z.string(), createdAt: z.string() })),
  },
  'chat.list': { request: z.object({ photoId: z.number().int() }), reply: z.array(Chat) },
  'chat.new': { request: z.object({ photoId: z.number().int() }), reply: Chat },
  /**
   * Sends a user turn. The reply comes at once with the message ids; the answer streams as `chat.token`
   * events and ends with `chat.done`.
   */
  'chat.send': {
    request: z.object({
      photoId: z.number().int(),
      chatId: z.number().int().optional(),
      text: z.string().min(1).max(MAX_CHAT_MESSAGE_CHARS, `A chat message can be at most ${MAX_CHAT_MESSAGE_CHARS} characters long.`),
      route: ChatRoute.default('auto'),
    }),
    reply: z.object({ chatId: z.number().int(), userMessageId: z.number().int(), assistantMessageId: z.number().int(), route: z.enum(['blip', 'llava']) }),
  },
  'chat.stop': { request: z.object({ assistantMessageId: z.number().int() }), reply: Ok },
  /** Checks the LLaVA engine backend (Ollama / OpenAI-compatible) with the given or saved settings. */
  'chat.testBackend': {
    request: z.object({ backend: z.enum(['ollama', 'openai']).optional(), baseUrl: EngineBaseUrl.optional(), model: z.string().optional() }),
    reply: z.object({ ok: z.boolean(), message: z.string() }),
  },
  /** Keywords of one photo, A to Z. */
  'keywords.list': { request: z.object({ photoId: z.number().int() }), reply: PhotoKeywords },
  /** Keywords in the library, most used first, for suggestions; `prefix` narrows them as the user types. */
  'keywords.vocabulary': {
    request: z.object({ prefix: z.string().max(MAX_KEYWORD_CHARS).default(''), limit: z.number().int().min(1).max(500).default(50) }),
    reply: z.array(z.object({ keyword: z.string(), photos: z.number().int() })),
  },
  'keywords.add': {
    request: z.object({ photoId: z.number().int(), keywords: z.array(KeywordText).min(1).max(MAX_KEYWORDS_PER_PHOTO) }),
    reply: PhotoKeywords,
  },
  'keywords.remove': { request: z.object({ photoId: z.number().int(), keyword: z.string().max(MAX_KEYWORD_CHARS * 2) }), reply: PhotoKeywords },
  /**
   * Starts a dataset export into the folder a `dialog.pickFolder` grant with purpose 'export' names. Runs in the
   * background; progress and the summary come as `export.progress`.
   */
  'export.start': {
    request: z.object({ grant: FolderGrant, options: ExportOptions }).strict(),
    reply: z.object({ exportId: z.number().int(), total: z.number().int(), dest: z.string() }),
  },
  'export.cancel': { request: z.object({ exportId: z.number().int() }), reply: Ok },
  /**
   * Writes captions and keywords to files in the background: an XMP sidecar beside each photo, or into the photo
   * itself in folders where embedding is on. Photos whose words did not change since the last write are skipped.
   */
  'metadata.write': {
    request: z.object({ scope: MetadataWriteScope }).strict(),
    reply: z.object({ queued: z.number().int() }),
  },
  'metadata.status': {
    request: Empty,
    reply: z.object({ counts: JobCountsSchema, progress: MetadataWriteProgress.nullable() }),
  },
  'metadata.pause': { request: Empty, reply: Ok },
  'metadata.resume': { request: Empty, reply: Ok },
  'metadata.cancel': { request: Empty, reply: Ok },
  /** Library folders whose photo files Tandem may rewrite (embedding is off for every folder until turned on). */
  'metadata.embedFolders': { request: Empty, reply: z.object({ rootIds: z.array(z.number().int()) }) },
  'metadata.setEmbed': { request: z.object({ rootId: z.number().int(), enabled: z.boolean() }).strict(), reply: Ok },
  /**
   * Opens the OS folder picker in the main process; answered by the app shell, not the core. The reply's `grant`
   * (null when cancelled) is what `library.addRoot` / `models.import` take: single use, short-lived, for `purpose` only.
   * `path` is for display.
   */
  'dialog.pickFolder': {
    request: z.object({ purpose: FolderPurpose }).strict(),
    reply: z.object({ grant: FolderGrant.nullable(), path: z.string().nullable() }),
  },
} as const;

export type ChannelName = keyof typeof channels;
export type RequestOf<C extends ChannelName> = z.input<(typeof channels)[C]['request']>;
export type ParsedRequestOf<C extends ChannelName> = z.output<(typeof channels)[C]['request']>;
export type ReplyOf<C extends ChannelName> = z.output<(typeof channels)[C]['reply']>;

/** Events pushed from the core to the renderer. */
export const events = {
  'scan.progress': ScanProgress,
  'library.changed': z.object({ reason: z.string() }),
  'jobs.progress': JobProgress,
  'caption.added': z.object({ photoId: z.number().int(), text: z.string(), source: z.string() }),
  'models.progress': ModelDownloadProgress,
  'chat.token': z.object({ chatId: z.number().int(), assistantMessageId: z.number().int(), token: z.string() }),
  'chat.done': z.object({ chatId: z.number().int(), message: ChatMessage }),
  'export.progress': ExportProgress,
  'metadata.progress': MetadataWriteProgress,
  /** The embedding run of search by meaning (same shape as captioning's). */
  'embeddings.progress': JobProgress,
} as const;
export type EventName = keyof typeof events;
export type EventOf<E extends EventName> = z.output<(typeof events)[E]>;

/** Error shape that crosses the boundary: a readable message, never a stack. */
export const ApiError = z.object({ code: z.string(), message: z.string() });
export type ApiError = z.infer<typeof ApiError>;

export type Unsubscribe = () => void;

/** What `window.tandem` looks like in the renderer. */
export type TandemApi = {
  invoke<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<ReplyOf<C>>;
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): Unsubscribe;
  /** Base URL for photos and thumbnails by id: `tandem://` in the app. */
  mediaBase: string;
};

export const channelNames = Object.keys(channels) as ChannelName[];
export const eventNames = Object.keys(events) as EventName[];

export function ipcChannel(name: ChannelName): string {
  return `tandem:${name}`;
}
export function ipcEvent(name: EventName): string {
  return `tandem-event:${name}`;
}

export { photoUrl, thumbUrl } from './media-url';
export { FolderGrant, FolderPurpose } from './folder-grant';
export { PACK_NAME_PATTERN, PackName } from './pack-name';

/** What a handler sends back over IPC: errors travel as data so the renderer gets the readable message. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ApiError };
