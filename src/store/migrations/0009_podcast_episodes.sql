-- A podcast episode's number and season (itunes:episode, itunes:season).
ALTER TABLE articles ADD COLUMN episode INTEGER;
ALTER TABLE articles ADD COLUMN season INTEGER;
