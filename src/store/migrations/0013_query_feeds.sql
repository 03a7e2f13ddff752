-- Query feeds: saved queries of the query language, listed as feeds. Those
-- of config.toml's [query_feeds] are copied in at start (`from_config`: the
-- config is where they are edited); the others are made in the reader or
-- by `tidings query`, or imported from newsboat's `query:` lines.
CREATE TABLE query_feeds (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    query       TEXT NOT NULL,
    from_config INTEGER NOT NULL DEFAULT 0,
    position    INTEGER NOT NULL
);
