-- Subscriptions. `url` is the address the user subscribed to and never changes;
-- `fetch_url` follows permanent redirects.
CREATE TABLE feeds (
    id                INTEGER PRIMARY KEY,
    url               TEXT NOT NULL UNIQUE,
    fetch_url         TEXT NOT NULL,
    feed_title        TEXT,
    custom_title      TEXT,
    site_url          TEXT,
    description       TEXT,
    etag              TEXT,
    last_modified     TEXT,
    min_interval_secs INTEGER,
    next_fetch_at     INTEGER,
    retry_after_until INTEGER,
    gone              INTEGER NOT NULL DEFAULT 0,
    added_at          INTEGER NOT NULL,
    position          INTEGER NOT NULL
);

CREATE TABLE feed_tags (
    feed_id  INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (feed_id, tag)
) WITHOUT ROWID;

-- Articles, keyed by a stable guid_key per feed. `sort_time` is published,
-- else updated, else first seen; lists order by it.
CREATE TABLE articles (
    id           INTEGER PRIMARY KEY,
    feed_id      INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    guid_key     TEXT NOT NULL,
    guid         TEXT,
    title        TEXT,
    link         TEXT,
    author       TEXT,
    published    INTEGER,
    updated      INTEGER,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    sort_time    INTEGER NOT NULL,
    summary      TEXT,
    content      TEXT,
    categories   TEXT NOT NULL DEFAULT '[]',
    enclosures   TEXT NOT NULL DEFAULT '[]',
    content_hash TEXT NOT NULL,
    read         INTEGER NOT NULL DEFAULT 0,
    starred      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (feed_id, guid_key)
);
CREATE INDEX articles_by_feed_time ON articles(feed_id, sort_time DESC);
CREATE INDEX articles_unread ON articles(feed_id) WHERE read = 0;
CREATE INDEX articles_starred ON articles(sort_time DESC) WHERE starred = 1;

-- Full-text index over titles and the text of bodies. Contentless: the text
-- lives in `articles`; rows are added and removed by the store with the article.
-- detail=none keeps which articles hold a word, not where: the index costs a
-- third less to write (it is most of a refresh's writing), and queries are
-- words, not phrases. Search ranks title matches first by looking at titles.
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, body, content='', contentless_delete=1, detail=none
);
-- Each feed's transaction adds a small segment; merging 16 at a time instead of
-- 4 rewrites each entry fewer times during a big refresh.
INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 16);

-- One row per refresh run.
CREATE TABLE refresh_runs (
    id            INTEGER PRIMARY KEY,
    started_at_ms INTEGER NOT NULL,
    wall_ms       INTEGER NOT NULL DEFAULT 0,
    feeds         INTEGER NOT NULL DEFAULT 0,
    ok            INTEGER NOT NULL DEFAULT 0,
    not_modified  INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    new_articles  INTEGER NOT NULL DEFAULT 0,
    bytes_wire    INTEGER NOT NULL DEFAULT 0
);

-- One row per fetch of a feed: the statistics.
CREATE TABLE fetches (
    id                 INTEGER PRIMARY KEY,
    feed_id            INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    run_id             INTEGER REFERENCES refresh_runs(id) ON DELETE SET NULL,
    started_at_ms      INTEGER NOT NULL,
    http_status        INTEGER,
    content_type       TEXT,
    bytes_wire         INTEGER NOT NULL DEFAULT 0,
    bytes_decoded      INTEGER NOT NULL DEFAULT 0,
    ms_headers         INTEGER NOT NULL DEFAULT 0,
    ms_body            INTEGER NOT NULL DEFAULT 0,
    ms_parse           INTEGER NOT NULL DEFAULT 0,
    ms_store           INTEGER NOT NULL DEFAULT 0,
    ms_total           INTEGER NOT NULL DEFAULT 0,
    new_articles       INTEGER NOT NULL DEFAULT 0,
    updated_articles   INTEGER NOT NULL DEFAULT 0,
    unchanged_articles INTEGER NOT NULL DEFAULT 0,
    total_articles     INTEGER NOT NULL DEFAULT 0,
    not_modified       INTEGER NOT NULL DEFAULT 0,
    redirect_to        TEXT,
    error_kind         TEXT,
    error_message      TEXT
);
CREATE INDEX fetches_by_feed ON fetches(feed_id, id DESC);
CREATE INDEX fetches_by_run ON fetches(run_id);
