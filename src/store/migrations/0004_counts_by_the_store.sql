-- The per-feed counters of 0002 were kept by triggers, one UPDATE of `feeds`
-- per inserted article: 15 µs each, a sixth of the time it takes to store a
-- big feed. The store now sets them itself, once per saved feed and on every
-- change of read state (see store/articles.rs and store/reader.rs).
DROP TRIGGER articles_count_insert;
DROP TRIGGER articles_count_delete;
DROP TRIGGER articles_count_read;
UPDATE feeds SET
    article_count = (SELECT count(*) FROM articles WHERE feed_id = feeds.id),
    unread_count = (SELECT count(*) FROM articles WHERE feed_id = feeds.id AND read = 0);
