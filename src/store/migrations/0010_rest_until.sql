-- Until when a feed's own server asked not to be fetched again (its <ttl>,
-- sy:updatePeriod, Cache-Control max-age): every refresh but a forced one
-- leaves it alone until then.
ALTER TABLE feeds ADD COLUMN rest_until INTEGER;
