-- What the reader needs to start fast whatever the size of the cache.

-- Unread and total counts per feed, kept by triggers, so the feed list costs a
-- read of `feeds` instead of a count over every article (a second at a
-- million articles).
ALTER TABLE feeds ADD COLUMN article_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN unread_count INTEGER NOT NULL DEFAULT 0;
UPDATE feeds SET
    article_count = (SELECT count(*) FROM articles WHERE feed_id = feeds.id),
    unread_count = (SELECT count(*) FROM articles WHERE feed_id = feeds.id AND read = 0);

CREATE TRIGGER articles_count_insert AFTER INSERT ON articles BEGIN
    UPDATE feeds SET article_count = article_count + 1,
                     unread_count = unread_count + (NEW.read = 0)
    WHERE id = NEW.feed_id;
END;
CREATE TRIGGER articles_count_delete AFTER DELETE ON articles BEGIN
    UPDATE feeds SET article_count = article_count - 1,
                     unread_count = unread_count - (OLD.read = 0)
    WHERE id = OLD.feed_id;
END;
CREATE TRIGGER articles_count_read AFTER UPDATE OF read ON articles
WHEN OLD.read != NEW.read BEGIN
    UPDATE feeds SET unread_count = unread_count + (NEW.read = 0) - (OLD.read = 0)
    WHERE id = NEW.feed_id;
END;

-- Unread articles a page at a time in date order: of one feed, and of all feeds.
DROP INDEX articles_unread;
CREATE INDEX articles_unread ON articles(feed_id, sort_time DESC) WHERE read = 0;
CREATE INDEX articles_unread_by_time ON articles(sort_time DESC) WHERE read = 0;

-- Small facts about this cache (whether the welcome feed was ever added).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
