-- Which proxy carried a feed's fetch (its address, without a password);
-- NULL when none did.
ALTER TABLE fetches ADD COLUMN proxy TEXT;
-- Every request a proxy carried (feeds, images, pages), for its statistics:
-- when, whether an answer came (error_kind NULL) or why not, and how long it
-- took. Only the newest rows are kept (see `Store::save_proxy_uses`).
CREATE TABLE proxy_requests (
    id         INTEGER PRIMARY KEY,
    proxy      TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    error_kind TEXT,
    ms         INTEGER NOT NULL
);
CREATE INDEX proxy_requests_by_proxy ON proxy_requests(proxy, ms);
