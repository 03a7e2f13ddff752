-- An article's cover image (a media thumbnail, an image it carries,
-- itunes:image, JSON Feed's image), as the address the feed gave: the file
-- itself is cached with the article's other images.
ALTER TABLE articles ADD COLUMN image TEXT;
