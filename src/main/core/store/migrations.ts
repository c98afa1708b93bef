/**
 * Schema migrations, applied in order by `PRAGMA user_version` (DESIGN.md §2).
 * Never edit a shipped migration: add a new one.
 */
export const migrations: readonly string[] = [
  /* 1: the whole first schema */ `
  CREATE TABLE roots (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL
  );

  CREATE TABLE photos (
    id INTEGER PRIMARY KEY,
    root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    rel_path TEXT NOT NULL,
    file_name TEXT NOT NULL,
    folder TEXT NOT NULL,            -- relative to the root, '/'-separated, '' for the root itself
    hash TEXT NOT NULL,              -- sha256 of the bytes: identity that survives renames and moves
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    format TEXT,
    width INTEGER,                   -- as displayed, after EXIF orientation
    height INTEGER,
    orientation INTEGER,
    taken_at TEXT,                   -- ISO 8601 local time as the camera wrote it
    camera_make TEXT,
    camera_model TEXT,
    gps_lat REAL,
    gps_lon REAL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'unsupported', 'broken', 'missing')),
    status_reason TEXT,
    missing_since TEXT,
    caption_text TEXT,               -- the shown caption, kept in step with captions by caption-store
    caption_source TEXT,
    first_seen_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (root_id, rel_path)
  );
  CREATE INDEX photos_hash ON photos(hash);
  CREATE INDEX photos_taken ON photos(taken_at);
  CREATE INDEX photos_status ON photos(status);
  CREATE INDEX photos_folder ON photos(root_id, folder);

  CREATE TABLE captions (
    id INTEGER PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    source TEXT NOT NULL,            -- 'user', 'file', or 'model:<pack id>'
    text TEXT NOT NULL,
    settings TEXT,                   -- JSON of the generation settings for model captions
    created_at TEXT NOT NULL
  );
  CREATE INDEX captions_photo ON captions(photo_id, id);

  CREATE TABLE photo_tags (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (photo_id, tag)
  ) WITHOUT ROWID;

  CREATE TABLE answers (
    id INTEGER PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX answers_photo ON answers(photo_id);

  CREATE TABLE chats (
    id INTEGER PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    title TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX chats_photo ON chats(photo_id);

  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    text TEXT NOT NULL,
    model TEXT,                      -- which model answered ('model:blip-vqa-base', 'model:llava-…')
    route TEXT,                      -- 'blip' | 'llava' for assistant turns
    created_at TEXT NOT NULL,
    duration_ms INTEGER,
    tokens INTEGER,
    stopped INTEGER NOT NULL DEFAULT 0,
    error TEXT                       -- why an assistant turn failed (engine unreachable, …); its text stays what arrived
  );
  CREATE INDEX messages_chat ON messages(chat_id, id);

  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,              -- 'caption', …
    photo_id INTEGER REFERENCES photos(id) ON DELETE CASCADE,
    model TEXT,
    settings_key TEXT NOT NULL DEFAULT '',
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    crashes INTEGER NOT NULL DEFAULT 0,  -- times the inference process died while this job was in it
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (kind, photo_id, model, settings_key)
  );
  CREATE INDEX jobs_state ON jobs(state, priority DESC, id);

  CREATE TABLE models (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,            -- 'hub' | 'import'
    repo TEXT,
    revision TEXT,
    dir TEXT NOT NULL,
    files_json TEXT NOT NULL,        -- [{path,size,sha256}]
    bytes INTEGER NOT NULL,
    installed_at TEXT NOT NULL,
    compiled_json TEXT               -- compiled artefacts: {key, dir}
  );

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  -- Search index, one row per photo (rowid = photos.id), kept in step by search-index.ts.
  CREATE VIRTUAL TABLE photo_fts USING fts5(
    caption, tags, chat, file_name, folder,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4'
  );
  `,

  /* 2: browsing indexes. list() sorts by these exact expressions; without them every page of a
     100k library sorts the whole table (p95 ~90 ms for page 1 by date, ~400 ms deep pages). */ `
  CREATE INDEX photos_sort_taken ON photos(coalesce(taken_at, strftime('%Y-%m-%dT%H:%M:%S', mtime_ms / 1000, 'unixepoch')) DESC, id DESC);
  CREATE INDEX photos_sort_name ON photos(file_name COLLATE NOCASE, id);
  `,
  /* 3: "needs attention" looks up each photo's failed caption jobs. */ `
  CREATE INDEX jobs_photo ON jobs(photo_id, state);
  `,
];
