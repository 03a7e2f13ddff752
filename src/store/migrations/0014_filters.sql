-- Filters: rules applied to articles as they arrive (a refresh, a sync):
-- a query of the query language and what to do with its matches: hide,
-- read, star, or tag (a category added). Those of config.toml's [[filters]]
-- are not stored; these are made with `tidings filter add`.
CREATE TABLE filters (
    id       INTEGER PRIMARY KEY,
    query    TEXT NOT NULL,
    action   TEXT NOT NULL,
    tag      TEXT,
    added_at INTEGER NOT NULL
);
-- Articles a filter hid: gone from the cache, and never stored again when
-- their feed lists them next time (a killfile).
CREATE TABLE hidden_articles (
    feed_id   INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    guid_key  TEXT NOT NULL,
    hidden_at INTEGER NOT NULL,
    PRIMARY KEY (feed_id, guid_key)
) WITHOUT ROWID;
