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
  /* 4: keywords (issue 12). photo_tags is the keywords table (keyword-store.ts owns it; search-index.ts indexes it);
     it learns who added each word, so a write-back and an export can tell the user's words from the file's.
     metadata_writes remembers what was last written where, so a re-run writes only what changed.
     roots.embed_metadata is the per-folder opt-in to rewrite photo files (off: sidecars only). */ `
  ALTER TABLE photo_tags ADD COLUMN source TEXT NOT NULL DEFAULT 'file';  -- 'file' | 'user' | 'model:<pack id>'
  ALTER TABLE photo_tags ADD COLUMN added_at TEXT;
  CREATE INDEX photo_tags_tag ON photo_tags(tag);

  CREATE TABLE metadata_writes (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    target TEXT NOT NULL CHECK (target IN ('sidecar', 'embedded')),
    caption_hash TEXT NOT NULL,      -- sha256 of what was written (caption text + source), '' for none
    keywords_hash TEXT NOT NULL,
    file_hash TEXT,                  -- the photo's content hash after an embedded write (the rescan sees it as ours)
    written_at TEXT NOT NULL,
    PRIMARY KEY (photo_id, target)
  ) WITHOUT ROWID;

  ALTER TABLE roots ADD COLUMN embed_metadata INTEGER NOT NULL DEFAULT 0;
  `,

  /* 5: search and browsing at a million photos (issue 14).
     - photo_fts gains a hidden facets column (search-facets.ts): filters become FTS5 ANDs instead of a
       join to photos per match. The table is recreated empty; search-index.ts ensureSearchIndex refills it
       on first open (the facets need JS). Counting matches then needs no join to photos.
     - photo_counts keeps the number of photos per (root, folder, status, captioned), by trigger, so the
       sidebar, the status bar and list totals read a few thousand rows instead of counting a million.
     - photos_taken covers status too: a date-filtered count reads the index alone.
     - photos_folder leads with folder: a folder filter has no root, so (root_id, folder) could not seek;
       root_id-only lookups keep the (root_id, rel_path) unique index. photo_counts also keeps the date
       span of each folder, so list() starts a big folder's page where its photos sort. */ `
  DROP TABLE photo_fts;
  CREATE VIRTUAL TABLE photo_fts USING fts5(
    caption, tags, chat, file_name, folder, facets,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4'
  );
  -- The status token ends the facets (search-facets.ts); the indexer marks photos missing without a refresh.
  CREATE TRIGGER photos_fts_status AFTER UPDATE OF status ON photos
    WHEN old.status IS NOT new.status
  BEGIN
    UPDATE photo_fts SET facets = substr(facets, 1, length(facets) - length(old.status)) || new.status
      WHERE rowid = new.id AND facets LIKE '%s' || old.status;
  END;

  CREATE TABLE photo_counts (
    root_id INTEGER NOT NULL,
    folder TEXT NOT NULL,
    status TEXT NOT NULL,
    captioned INTEGER NOT NULL,
    n INTEGER NOT NULL,
    first_key TEXT NOT NULL,         -- date sort keys these photos span; only ever widened, so a safe bound
    last_key TEXT NOT NULL,
    PRIMARY KEY (root_id, folder, status, captioned)
  ) WITHOUT ROWID;
  INSERT INTO photo_counts (root_id, folder, status, captioned, n, first_key, last_key)
    SELECT root_id, folder, status, caption_text IS NOT NULL, count(*), min(coalesce(photos.taken_at, strftime('%Y-%m-%dT%H:%M:%S', photos.mtime_ms / 1000, 'unixepoch'))), max(coalesce(photos.taken_at, strftime('%Y-%m-%dT%H:%M:%S', photos.mtime_ms / 1000, 'unixepoch')))
    FROM photos GROUP BY 1, 2, 3, 4;
  CREATE TRIGGER photo_counts_insert AFTER INSERT ON photos BEGIN
    INSERT INTO photo_counts (root_id, folder, status, captioned, n, first_key, last_key)
      VALUES (new.root_id, new.folder, new.status, new.caption_text IS NOT NULL, 1, coalesce(new.taken_at, strftime('%Y-%m-%dT%H:%M:%S', new.mtime_ms / 1000, 'unixepoch')), coalesce(new.taken_at, strftime('%Y-%m-%dT%H:%M:%S', new.mtime_ms / 1000, 'unixepoch')))
      ON CONFLICT DO UPDATE SET n = n + 1, first_key = min(first_key, excluded.first_key), last_key = max(last_key, excluded.last_key);
  END;
  CREATE TRIGGER photo_counts_delete AFTER DELETE ON photos BEGIN
    UPDATE photo_counts SET n = n - 1
      WHERE root_id = old.root_id AND folder = old.folder AND status = old.status AND captioned = (old.caption_text IS NOT NULL);
  END;
  CREATE TRIGGER photo_counts_update AFTER UPDATE OF root_id, folder, status, caption_text, taken_at, mtime_ms ON photos
    WHEN old.root_id IS NOT new.root_id OR old.folder IS NOT new.folder OR old.status IS NOT new.status
      OR (old.caption_text IS NULL) != (new.caption_text IS NULL)
      OR old.taken_at IS NOT new.taken_at OR old.mtime_ms IS NOT new.mtime_ms
  BEGIN
    UPDATE photo_counts SET n = n - 1
      WHERE root_id = old.root_id AND folder = old.folder AND status = old.status AND captioned = (old.caption_text IS NOT NULL);
    INSERT INTO photo_counts (root_id, folder, status, captioned, n, first_key, last_key)
      VALUES (new.root_id, new.folder, new.status, new.caption_text IS NOT NULL, 1, coalesce(new.taken_at, strftime('%Y-%m-%dT%H:%M:%S', new.mtime_ms / 1000, 'unixepoch')), coalesce(new.taken_at, strftime('%Y-%m-%dT%H:%M:%S', new.mtime_ms / 1000, 'unixepoch')))
      ON CONFLICT DO UPDATE SET n = n + 1, first_key = min(first_key, excluded.first_key), last_key = max(last_key, excluded.last_key);
  END;

  DROP INDEX photos_taken;
  CREATE INDEX photos_taken ON photos(taken_at, status);
  DROP INDEX photos_folder;
  CREATE INDEX photos_folder ON photos(folder);
  `,

  /* 6: every word of the searchable text columns, so a long prefix ("sitting*") is searched as its few
     whole words (search-terms.ts): FTS5 walks an exact word lazily, newest first, but builds the whole
     merged posting list of a prefix longer than its prefix indexes (2–4 letters) before the first row.
     Filled from photo_fts by search-index.ts (SQL alone cannot exclude the facets column cheaply). */ `
  CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
  `,

  /* 7: search by meaning (issue 11). One ITC image embedding per photo content and retrieval model: keyed by
     the content hash, so a moved or renamed file (same bytes) keeps its embedding and a changed file (new hash)
     needs a new one; duplicates share one. The vector is float32 little-endian (dims × 4 bytes), L2-normalised.
     Rows are never deleted with photos: they are small, and a file that comes back is not embedded again.
     A rowid table, not WITHOUT ROWID: a 1 KB row is far past the size where WITHOUT ROWID pays off. */ `
  CREATE TABLE embeddings (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    model TEXT NOT NULL,
    dims INTEGER NOT NULL,
    vector BLOB NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (hash, model)
  );
  `,
];
