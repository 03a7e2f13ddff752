-- A fetch can succeed with a warning: a document recovered from a break, or
-- one in which no feed was found. It is kept apart from the error columns,
-- since the fetch did not fail.
ALTER TABLE fetches ADD COLUMN warning TEXT;
