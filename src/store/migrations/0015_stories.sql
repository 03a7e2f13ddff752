-- One story once: what makes articles of different feeds the same story
-- (`parse::story_key`), and the first article of its story an article
-- repeats. The unified lists (All unread, Starred, tags, query feeds) and
-- search show a story once; reading it anywhere reads it everywhere.
-- Articles stored before this have no key and are never merged.
ALTER TABLE articles ADD COLUMN story TEXT;
ALTER TABLE articles ADD COLUMN duplicate_of INTEGER;
CREATE INDEX articles_by_story ON articles(story) WHERE story IS NOT NULL;
CREATE INDEX articles_copies ON articles(duplicate_of) WHERE duplicate_of IS NOT NULL;
-- 0: the feed's articles are never merged with others (a feed that reposts
-- on purpose, or one whose links all look alike).
ALTER TABLE feeds ADD COLUMN dedup INTEGER NOT NULL DEFAULT 1;
