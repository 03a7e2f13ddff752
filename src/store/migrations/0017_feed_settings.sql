-- A feed's own settings, edited in the reader (`,` on the feed list). NULL
-- means the config's value. (Full text and deduplication have their columns
-- already: full_text, dedup.)
-- Minutes between the feed's fetches.
ALTER TABLE feeds ADD COLUMN refresh_minutes INTEGER;
-- Its articles' images downloaded for offline reading: 1 or 0.
ALTER TABLE feeds ADD COLUMN images INTEGER;
-- Articles and days kept (0: all, forever); unread and starred ones stay.
ALTER TABLE feeds ADD COLUMN keep_articles INTEGER;
ALTER TABLE feeds ADD COLUMN keep_days INTEGER;
-- Whether the feed's own wishes (<ttl>, sy:updatePeriod, max-age) hold it back: 1 or 0.
ALTER TABLE feeds ADD COLUMN honour_rest INTEGER;
-- The proxy its requests go through: an address, or 'direct' for none.
ALTER TABLE feeds ADD COLUMN proxy TEXT;
