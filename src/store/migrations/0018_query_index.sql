-- What query feeds read most, newest first: titles, feeds (and through them
-- tags) and times, without the bodies. Walked in time order, a query that
-- matches often stops after its first few thousand entries, one that matches
-- rarely reads a tenth of the bytes the table holds, and an age bounds the
-- walk. Its keys are expressions (-sort_time, -id) so that no other
-- statement's plan picks it up: only `Store::query_matches` asks for it.
CREATE INDEX articles_for_queries ON articles(-sort_time, -id, feed_id, title);
