/**
 * The one contract between the renderer and the core (DESIGN.md §1).
 * Every channel has a request and a reply schema; the preload exposes `window.tandem`
 * generated from this table and the app shell binds one handler per channel.
 */
import { z } from 'zod';

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
  folder: z.string().optional(),
  takenFrom: z.string().optional(),
  takenTo: z.string().optional(),
  captioned: z.enum(['any', 'yes', 'no']).optional(),
  status: z.array(PhotoStatus).optional(),
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

export const SearchHit = PhotoSummary.extend({
  rank: z.number(),
  /** Caption with matches wrapped in \u0001 … \u0002 markers, for highlighting. */
  highlight: z.string().nullable(),
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

const Empty = z.object({}).strict();
const Ok = z.object({ ok: z.literal(true) });

/** Request/reply channels. Names are `area.verb`. */
export const channels = {
  'library.status': { request: Empty, reply: LibraryStatus },
  'library.listRoots': { request: Empty, reply: z.array(Root) },
  'library.addRoot': { request: z.object({ path: z.string().min(1) }), reply: Root },
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
    request: z.object({ photoId: z.number().int(), text: z.string() }),
    reply: PhotoDetail,
  },
  'search.query': {
    request: z.object({
      query: z.string(),
      filters: PhotoFilters.default({}),
      page: PageRequest.default({ offset: 0, limit: 200 }),
    }),
    reply: SearchResult,
  },
  /** Opens the OS folder picker; answered by the app shell, not the core. */
  'dialog.pickFolder': { request: Empty, reply: z.object({ path: z.string().nullable() }) },
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

/** What a handler sends back over IPC: errors travel as data so the renderer gets the readable message. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ApiError };
