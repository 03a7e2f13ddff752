-- The full text of an article, read from its own web page for a feed that
-- sends only summaries: the readable part of the page (HTML, its addresses
-- absolute), when it was fetched, and what the last attempt came to (HTTP
-- status, bytes, milliseconds, the error when it failed). The feed's own
-- text stays in `content`/`summary`.
ALTER TABLE articles ADD COLUMN page_content TEXT;
ALTER TABLE articles ADD COLUMN page_fetched_at INTEGER;
ALTER TABLE articles ADD COLUMN page_status INTEGER;
ALTER TABLE articles ADD COLUMN page_bytes INTEGER;
ALTER TABLE articles ADD COLUMN page_ms INTEGER;
ALTER TABLE articles ADD COLUMN page_error TEXT;
-- Whether a feed's articles get their full text as they arrive: 1 or 0, or
-- NULL for the configured default (`[refresh] full_text`).
ALTER TABLE feeds ADD COLUMN full_text INTEGER;
