-- Enclosures downloaded into the downloads directory, one row per address.
-- `file` is the name inside the directory once complete; `status`: partial
-- (a hidden .part file holds `bytes` of it), complete, or failed (`error`
-- says why). The article's and feed's titles are kept with it, so the list
-- of downloads reads the same after the article is gone.
CREATE TABLE downloads (
    url         TEXT PRIMARY KEY,
    article_id  INTEGER REFERENCES articles(id) ON DELETE SET NULL,
    title       TEXT,
    feed_title  TEXT,
    file        TEXT,
    status      TEXT NOT NULL,
    bytes       INTEGER NOT NULL DEFAULT 0,
    total       INTEGER,
    error       TEXT,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX downloads_by_article ON downloads(article_id);
