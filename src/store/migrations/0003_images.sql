-- Images that articles (and feeds) show, cached as files in the cache dir.
-- One row per URL however many articles show it; `file` is named by a hash of
-- the URL, never by its text. `status`: pending (found, not yet downloaded),
-- cached, failed (retried with backoff from `retry_at`), refused (not an
-- image, too large, too many pixels, or an address tidings will not ask).
CREATE TABLE images (
    id             INTEGER PRIMARY KEY,
    url            TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL DEFAULT 'pending',
    file           TEXT,
    http_status    INTEGER,
    content_type   TEXT,
    source_bytes   INTEGER,
    stored_bytes   INTEGER,
    width          INTEGER,
    height         INTEGER,
    stored_width   INTEGER,
    stored_height  INTEGER,
    fetch_ms       INTEGER,
    convert_ms     INTEGER,
    error          TEXT,
    etag           TEXT,
    last_modified  TEXT,
    failures       INTEGER NOT NULL DEFAULT 0,
    retry_at       INTEGER,
    fetched_at     INTEGER,
    last_used      INTEGER NOT NULL
);
CREATE INDEX images_waiting ON images(status) WHERE status IN ('pending', 'failed');

-- Which article shows which image, in document order, with its alt text.
CREATE TABLE article_images (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    alt        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (article_id, position)
) WITHOUT ROWID;
CREATE INDEX article_images_by_image ON article_images(image_id);

-- The feed's own icon or logo.
ALTER TABLE feeds ADD COLUMN image_id INTEGER REFERENCES images(id) ON DELETE SET NULL;

-- What each fetch did about images (filled in when its images are done).
ALTER TABLE fetches ADD COLUMN images_found INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fetches ADD COLUMN images_cached INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fetches ADD COLUMN images_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fetches ADD COLUMN images_refused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fetches ADD COLUMN image_bytes_wire INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fetches ADD COLUMN image_bytes_stored INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fetches ADD COLUMN ms_images INTEGER NOT NULL DEFAULT 0;
