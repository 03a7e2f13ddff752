-- Unsubscribing can keep a feed's starred articles. The feed's row stays, as
-- the home of those articles (their identity is (feed_id, guid_key), so a
-- later subscription to the same address takes the row back and a refresh
-- finds them instead of adding copies); `saved_at` says when it stopped being
-- a subscription. A saved feed is never fetched, exported as a subscription or
-- counted in the statistics; the reader lists it under "Saved".
ALTER TABLE feeds ADD COLUMN saved_at INTEGER;
