-- Sync with an aggregator server (Tiny Tiny RSS first). The server's ids for
-- feeds and articles: NULL for a feed that lives on this device only (or is
-- waiting to be subscribed on the server) and for articles fetched here.
ALTER TABLE feeds ADD COLUMN remote_id INTEGER;
CREATE UNIQUE INDEX feeds_by_remote_id ON feeds(remote_id) WHERE remote_id IS NOT NULL;
-- The tag that is the feed's category on the server: replaced when the server
-- moves the feed, while the tags given here stay.
ALTER TABLE feeds ADD COLUMN remote_category TEXT;
-- Why the server would not subscribe to this feed: it stays on this device
-- and is not offered again until it is subscribed anew.
ALTER TABLE feeds ADD COLUMN sync_refused TEXT;
-- Unread and starred articles of the feed that the server holds and this
-- device does not (older than what it pulled, or dropped by retention): what
-- the server's counts should exceed the local ones by when nothing changed.
ALTER TABLE feeds ADD COLUMN remote_unread_beyond INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN remote_starred_beyond INTEGER NOT NULL DEFAULT 0;

ALTER TABLE articles ADD COLUMN remote_id INTEGER;
-- The read and starred state the server had when last heard from. An
-- article whose own state differs has a change to push: that difference is
-- the queue of read and star changes, which survives crashes and days
-- offline, coalesces toggles, and is never pushed twice.
ALTER TABLE articles ADD COLUMN remote_read INTEGER;
ALTER TABLE articles ADD COLUMN remote_starred INTEGER;
CREATE UNIQUE INDEX articles_by_remote_id ON articles(remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX articles_to_push ON articles(feed_id)
    WHERE remote_id IS NOT NULL AND (read != remote_read OR starred != remote_starred);

-- Changes whose subject is gone from this device: unsubscriptions (the feed's
-- row is deleted). Removed once the server has them.
CREATE TABLE sync_queue (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    remote_feed INTEGER,
    url         TEXT,
    queued_at   INTEGER NOT NULL
);

-- One row per sync, as `fetches` is per fetch: what it did, what it cost,
-- and how it failed. Never holds a password or a session.
CREATE TABLE syncs (
    id              INTEGER PRIMARY KEY,
    started_at      INTEGER NOT NULL,
    backend         TEXT NOT NULL,
    server          TEXT NOT NULL,
    requests        INTEGER NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0,
    feeds_added     INTEGER NOT NULL DEFAULT 0,
    feeds_removed   INTEGER NOT NULL DEFAULT 0,
    articles_pulled INTEGER NOT NULL DEFAULT 0,
    states_pulled   INTEGER NOT NULL DEFAULT 0,
    changes_pushed  INTEGER NOT NULL DEFAULT 0,
    changes_left    INTEGER NOT NULL DEFAULT 0,
    ms_login        INTEGER NOT NULL DEFAULT 0,
    ms_push         INTEGER NOT NULL DEFAULT 0,
    ms_feeds        INTEGER NOT NULL DEFAULT 0,
    ms_articles     INTEGER NOT NULL DEFAULT 0,
    ms_state        INTEGER NOT NULL DEFAULT 0,
    ms_images       INTEGER NOT NULL DEFAULT 0,
    ms_total        INTEGER NOT NULL DEFAULT 0,
    error_kind      TEXT,
    error           TEXT,
    warnings        TEXT NOT NULL DEFAULT '[]'
);
