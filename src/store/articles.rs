//! The store's article side: saving a fetched feed (articles, HTTP state and
//! fetch record in one transaction), retention, reading articles a page at a
//! time without bodies, read/starred state, and full-text search.

use std::collections::HashMap;
use std::time::Instant;

use rusqlite::{OptionalExtension, Transaction, params};

use super::images::{link_images, upsert_image};
use super::stats::insert_fetch_record;
use super::{FeedUpdate, FetchToSave, Result, SaveCounts, Store};
use crate::config::RetentionConfig;
use crate::model::{
    Article, ArticleId, ArticleSummary, FeedId, FetchRecord, FoundImage, ParsedFeed, SearchHit,
};

impl Store {
    /// Saves one fetch of one feed in one transaction: its articles (when it
    /// brought a document), its new HTTP state and its fetch record (with
    /// `ms_store` and the article counts filled in here). `now` is in seconds.
    pub fn save_fetch(
        &mut self,
        feed: FeedId,
        run_id: Option<i64>,
        update: &FeedUpdate,
        record: &mut FetchRecord,
        now: i64,
        retention: &RetentionConfig,
    ) -> Result<SaveCounts> {
        let mut batch = [FetchToSave {
            feed,
            update,
            record,
        }];
        Ok(self.save_fetches(&mut batch, run_id, now, retention)?[0])
    }

    /// Saves several fetches in one transaction (group commit): each feed is
    /// still all or nothing, and so is the batch. The refresh writer batches
    /// the feeds that queued up while it was committing the last ones, so a
    /// busy refresh pays for one commit (search index flush, WAL append) per
    /// batch instead of one per feed.
    pub fn save_fetches(
        &mut self,
        batch: &mut [FetchToSave<'_>],
        run_id: Option<i64>,
        now: i64,
        retention: &RetentionConfig,
    ) -> Result<Vec<SaveCounts>> {
        let filters = self.filters_in_force()?;
        let tx = self.conn.transaction()?;
        let mut all = Vec::with_capacity(batch.len());
        let mut search = SearchWrites::default();
        for item in batch.iter_mut() {
            all.push(save_one(
                &tx,
                item.feed,
                run_id,
                (item.update, &mut *item.record),
                (now, retention),
                &filters,
                &mut search,
            )?);
        }
        search.write(&tx)?;
        tx.commit()?;
        Ok(all)
    }

    /// A page of a feed's articles, newest first, without bodies.
    pub fn articles(&self, feed: FeedId, offset: u64, limit: u64) -> Result<Vec<ArticleSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, feed_id, title, link, author, sort_time, read, starred FROM articles
             WHERE feed_id = ?1 ORDER BY sort_time DESC, id DESC LIMIT ?2 OFFSET ?3",
        )?;
        let rows = stmt.query_map(params![feed.0, limit, offset], summary_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every article of a feed with its body, newest first (for the export).
    pub fn feed_articles(&self, feed: FeedId) -> Result<Vec<Article>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ARTICLE_SELECT} WHERE feed_id = ?1 ORDER BY sort_time DESC, id DESC"
        ))?;
        let rows = stmt.query_map([feed.0], article_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Returns whether the state changed.
    pub fn set_read(&mut self, id: ArticleId, read: bool) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let changed = set_read_in(&tx, id, read)?;
        tx.commit()?;
        Ok(changed)
    }

    /// Returns whether the state changed.
    pub fn set_starred(&mut self, id: ArticleId, starred: bool) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached("UPDATE articles SET starred = ?2 WHERE id = ?1 AND starred != ?2")?
            .execute(params![id.0, starred])?;
        Ok(changed > 0)
    }

    /// Full-text search over titles and bodies: every word of the query must
    /// appear (a word ending in `*` is a prefix: `ru*`); among the newest
    /// [`SEARCH_WINDOW`] matches, articles with all of them in the title come
    /// first, then the newest. Words are quoted, so FTS syntax in the query
    /// is inert. A text that reads as a query of the query language (an
    /// operator, `and`/`or`/`not`, `has`) is one: its newest matches.
    pub fn search(&self, query: &str, limit: u64) -> Result<Vec<SearchHit>> {
        if let Some(parsed) = super::query::as_query(query) {
            let now = chrono::Utc::now().timestamp();
            return self.query_hits(&parsed, now, limit);
        }
        let terms = query_words(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        // `ru*` is every word that begins so.
        let fts_query: Vec<String> = terms
            .iter()
            .map(|(w, prefix)| format!("\"{w}\"{}", if *prefix { "*" } else { "" }))
            .collect();
        let words: Vec<&String> = terms.iter().map(|(w, _)| w).collect();
        let title_words = serde_json::to_string(&words).unwrap_or_else(|_| "[]".into());
        // The index yields matches newest-stored first without sorting; only
        // the newest SEARCH_WINDOW of them are ranked, so a word that is in
        // half of a million articles costs what a rare one does.
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, a.feed_id, a.title, a.link, a.author, a.sort_time, a.read, a.starred,
                    coalesce(f.custom_title, f.feed_title, f.url),
                    NOT EXISTS (SELECT 1 FROM json_each(?2) w
                                WHERE instr(lower(coalesce(a.title, '')), w.value) = 0) AS in_title
             FROM (SELECT rowid AS id FROM articles_fts WHERE articles_fts MATCH ?1
                   ORDER BY rowid DESC LIMIT ?4) m
             JOIN articles a ON a.id = m.id
             JOIN feeds f ON f.id = a.feed_id
             WHERE a.duplicate_of IS NULL
             ORDER BY in_title DESC, a.sort_time DESC, a.id DESC LIMIT ?3",
        )?;
        let window = limit.max(SEARCH_WINDOW);
        let rows = stmt.query_map(
            params![fts_query.join(" "), title_words, limit, window],
            |r| {
                Ok(SearchHit {
                    article: summary_from_row(r)?,
                    feed_title: r.get(8)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// Matches ranked per search: the newest this many (by when they were stored).
pub const SEARCH_WINDOW: u64 = 5_000;

pub(super) const ARTICLE_SELECT: &str =
    "SELECT id, feed_id, guid, title, link, author, published, updated,
    first_seen, summary, content, categories, enclosures, read, starred, image, episode, season,
    page_content, page_error
    FROM articles";

pub(super) fn article_from_row(r: &rusqlite::Row) -> rusqlite::Result<Article> {
    let categories: String = r.get(11)?;
    let enclosures: String = r.get(12)?;
    Ok(Article {
        id: ArticleId(r.get(0)?),
        feed_id: FeedId(r.get(1)?),
        guid: r.get(2)?,
        title: r.get(3)?,
        link: r.get(4)?,
        author: r.get(5)?,
        published: r.get(6)?,
        updated: r.get(7)?,
        first_seen: r.get(8)?,
        summary: r.get(9)?,
        content: r.get(10)?,
        categories: serde_json::from_str(&categories).unwrap_or_default(),
        enclosures: serde_json::from_str(&enclosures).unwrap_or_default(),
        read: r.get(13)?,
        starred: r.get(14)?,
        image: r.get(15)?,
        episode: r.get(16)?,
        season: r.get(17)?,
        page_content: r.get(18)?,
        page_error: r.get(19)?,
        also_in: Vec::new(),
    })
}

pub(super) fn summary_from_row(r: &rusqlite::Row) -> rusqlite::Result<ArticleSummary> {
    Ok(ArticleSummary {
        id: ArticleId(r.get(0)?),
        feed_id: FeedId(r.get(1)?),
        title: r.get(2)?,
        link: r.get(3)?,
        author: r.get(4)?,
        date: r.get(5)?,
        read: r.get(6)?,
        starred: r.get(7)?,
    })
}

/// The search index's writes of one transaction, made together at its end, in
/// the order they were asked for. Any statement that opens a savepoint (a
/// write to a table with foreign keys, an upsert that returns rows) makes the
/// index flush what it holds into a segment of its own, to be merged later:
/// written as they came, a batch's articles were flushed once per feed, or
/// more. Held back until nothing else is left to write, they are flushed once.
#[derive(Default)]
pub(super) struct SearchWrites<'a> {
    writes: Vec<SearchWrite<'a>>,
}

enum SearchWrite<'a> {
    Add {
        id: i64,
        title: Option<&'a str>,
        text: &'a str,
    },
    Remove(i64),
}

impl<'a> SearchWrites<'a> {
    pub(super) fn add(&mut self, id: i64, title: Option<&'a str>, text: &'a str) {
        self.writes.push(SearchWrite::Add { id, title, text });
    }

    pub(super) fn remove(&mut self, id: i64) {
        self.writes.push(SearchWrite::Remove(id));
    }

    /// Writes them, last in the transaction.
    pub(super) fn write(self, tx: &Transaction) -> rusqlite::Result<()> {
        let mut add =
            tx.prepare_cached("INSERT INTO articles_fts (rowid, title, body) VALUES (?1, ?2, ?3)")?;
        let mut remove = tx.prepare_cached("DELETE FROM articles_fts WHERE rowid = ?1")?;
        for write in self.writes {
            match write {
                SearchWrite::Add { id, title, text } => add.execute(params![id, title, text])?,
                SearchWrite::Remove(id) => remove.execute([id])?,
            };
        }
        Ok(())
    }
}

/// An article's images, to link once the feed's articles are written:
/// (article id, images, whether to replace what it showed before).
pub(super) type ArticleLinks<'a> = (i64, &'a [FoundImage], bool);

/// What a saved feed still has to record about images.
pub(super) struct ImageLinks<'a> {
    pub feed: FeedId,
    pub articles: Vec<ArticleLinks<'a>>,
    pub icon: Option<&'a str>,
}

impl ImageLinks<'_> {
    pub fn write(&self, tx: &Transaction, now: i64) -> rusqlite::Result<()> {
        for (article, images, replace) in &self.articles {
            link_images(tx, *article, images, now, *replace)?;
        }
        if let Some(icon) = self.icon {
            let image = upsert_image(tx, icon, now)?;
            tx.prepare_cached("UPDATE feeds SET image_id = ?2 WHERE id = ?1")?
                .execute(params![self.feed.0, image])?;
        }
        Ok(())
    }
}

/// Sets one article's read state and its feed's unread count, inside the
/// caller's transaction; returns whether the state changed.
pub(super) fn set_read_in(tx: &Transaction, id: ArticleId, read: bool) -> rusqlite::Result<bool> {
    let feed: Option<i64> = tx
        .prepare_cached(
            "UPDATE articles SET read = ?2 WHERE id = ?1 AND read != ?2 RETURNING feed_id",
        )?
        .query_row(params![id.0, read], |r| r.get(0))
        .optional()?;
    if let Some(feed) = feed {
        tx.prepare_cached("UPDATE feeds SET unread_count = unread_count + ?2 WHERE id = ?1")?
            .execute(params![feed, if read { -1 } else { 1 }])?;
        // The same story in other feeds reads (or unreads) with it.
        let others: Vec<(i64, i64)> = tx
            .prepare_cached(
                "UPDATE articles SET read = ?2
                 WHERE read != ?2 AND id != ?1 AND id IN (
                     SELECT o.id FROM articles o, articles me
                     WHERE me.id = ?1 AND (me.duplicate_of IS NOT NULL OR EXISTS
                             (SELECT 1 FROM articles c WHERE c.duplicate_of = me.id))
                       AND (o.id = coalesce(me.duplicate_of, me.id)
                            OR o.duplicate_of = coalesce(me.duplicate_of, me.id)))
                 RETURNING id, feed_id",
            )?
            .query_map(params![id.0, read], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (_, other_feed) in others {
            tx.prepare_cached("UPDATE feeds SET unread_count = unread_count + ?2 WHERE id = ?1")?
                .execute(params![other_feed, if read { -1 } else { 1 }])?;
        }
    }
    Ok(feed.is_some())
}

/// After articles were marked read in bulk: their stories' other articles
/// are read too. Returns those, with their feeds (to recount).
pub(super) fn read_their_stories(
    tx: &Transaction,
    marked: &[ArticleId],
) -> rusqlite::Result<Vec<(ArticleId, i64)>> {
    if marked.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(&marked.iter().map(|a| a.0).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into());
    let mut stmt = tx.prepare_cached(
        "WITH marked(id) AS (SELECT value FROM json_each(?1)),
              stories(first) AS (
                  SELECT coalesce(a.duplicate_of, a.id) FROM articles a JOIN marked m ON m.id = a.id
                  WHERE a.duplicate_of IS NOT NULL
                     OR EXISTS (SELECT 1 FROM articles c WHERE c.duplicate_of = a.id))
         UPDATE articles SET read = 1
         WHERE read = 0 AND (id IN (SELECT first FROM stories)
                             OR duplicate_of IN (SELECT first FROM stories))
         RETURNING id, feed_id",
    )?;
    let rows = stmt.query_map([ids], |r| Ok((ArticleId(r.get(0)?), r.get(1)?)))?;
    rows.collect()
}

/// Recounts a feed's articles and unread articles (after its articles changed).
pub(super) fn recount(tx: &Transaction, feed: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE feeds SET
            article_count = (SELECT count(*) FROM articles WHERE feed_id = ?1),
            unread_count = (SELECT count(*) FROM articles WHERE feed_id = ?1 AND read = 0)
         WHERE id = ?1",
    )?
    .execute([feed])?;
    Ok(())
}

/// One fetch of one feed, inside the caller's transaction; its search index
/// writes go to `search`.
fn save_one<'a>(
    tx: &Transaction,
    feed: FeedId,
    run_id: Option<i64>,
    (update, record): (&'a FeedUpdate, &mut FetchRecord),
    (now, retention): (i64, &RetentionConfig),
    filters: &[crate::query::Filter],
    search: &mut SearchWrites<'a>,
) -> Result<SaveCounts> {
    let started = Instant::now();
    let mut counts = SaveCounts::default();
    if let Some(parsed) = &update.parsed {
        let mut articles;
        (counts, articles) = upsert_articles(tx, feed, parsed, now, search)?;
        let filtered = match (counts.new, filters.is_empty()) {
            (0, _) | (_, true) => super::filters::Filtered::default(),
            _ => super::filters::apply_filters(tx, filters, feed, now, search)?,
        };
        counts.new -= filtered.hidden;
        articles.retain(|(id, _, _)| !filtered.hidden_ids.contains(id));
        counts.removed = apply_retention(tx, feed, now, retention, search)?;
        ImageLinks {
            feed,
            articles,
            icon: parsed.icon.as_deref(),
        }
        .write(tx, now)?;
        // Retention drops read articles only: the unread count grows by the new ones.
        tx.execute(
            "UPDATE feeds SET feed_title = coalesce(?2, feed_title), site_url = coalesce(?3, site_url),
                    description = coalesce(?4, description),
                    article_count = article_count + ?5 - ?6, unread_count = unread_count + ?5
             WHERE id = ?1",
            params![
                feed.0,
                parsed.title,
                parsed.site_url,
                parsed.description,
                counts.new,
                counts.removed
            ],
        )?;
        // Filters read, starred or hid some, or copies of stories read
        // elsewhere came in read: the counters follow.
        if filtered.changed_anything() || counts.copies_read > 0 {
            recount(tx, feed.0)?;
        }
    }
    tx.execute(
        "UPDATE feeds SET etag = coalesce(?2, etag), last_modified = coalesce(?3, last_modified),
                fetch_url = coalesce(?4, fetch_url), gone = ?5, retry_after_until = ?6,
                next_fetch_at = coalesce(?7, next_fetch_at),
                min_interval_secs = coalesce(?8, min_interval_secs),
                -- A 304 says the feed is as it was: so is the rest its <ttl>
                -- or sy:updatePeriod asked for (the bound stored with it).
                rest_until = CASE WHEN ?10
                    THEN nullif(max(coalesce(?9, 0), coalesce(?11 + min_interval_secs, 0)), 0)
                    ELSE ?9 END
         WHERE id = ?1",
        params![
            feed.0,
            update.etag,
            update.last_modified,
            update.moved_to,
            update.gone,
            update.retry_after_until,
            update.next_fetch_at,
            update.min_interval_secs,
            update.rest_until,
            record.not_modified,
            now
        ],
    )?;
    counts.total = tx.query_row(
        "SELECT article_count FROM feeds WHERE id = ?1",
        [feed.0],
        |r| r.get(0),
    )?;
    record.new_articles = counts.new;
    record.updated_articles = counts.updated;
    record.unchanged_articles = counts.unchanged;
    record.total_articles = counts.total;
    record.ms_store = started.elapsed().as_millis() as u64;
    record.ms_total += record.ms_store;
    counts.fetch_id = insert_fetch_record(tx, feed, run_id, record)?;
    if retention.fetch_history > 0 {
        tx.prepare_cached(
            "DELETE FROM fetches WHERE feed_id = ?1 AND id NOT IN
               (SELECT id FROM fetches WHERE feed_id = ?1 ORDER BY id DESC LIMIT ?2)",
        )?
        .execute(params![feed.0, retention.fetch_history])?;
    }
    Ok(counts)
}

/// Inserts new articles, rewrites changed ones (keeping read/starred), and marks
/// every article of the document as seen now; what the search index is to
/// hold of them goes to `search`. The feed's existing keys are read once, so
/// each article costs one statement, not a lookup and a write.
pub(super) fn upsert_articles<'a>(
    tx: &Transaction,
    feed: FeedId,
    parsed: &'a ParsedFeed,
    now: i64,
    search: &mut SearchWrites<'a>,
) -> rusqlite::Result<(SaveCounts, Vec<ArticleLinks<'a>>)> {
    let mut existing: HashMap<String, (i64, String)> = HashMap::new();
    {
        let mut stmt = tx
            .prepare_cached("SELECT guid_key, id, content_hash FROM articles WHERE feed_id = ?1")?;
        let rows = stmt.query_map([feed.0], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
        for row in rows {
            let (key, value) = row?;
            existing.insert(key, value);
        }
    }
    // Articles a filter hid stay hidden, however often the feed lists them.
    let hidden: std::collections::HashSet<String> = {
        let mut stmt =
            tx.prepare_cached("SELECT guid_key FROM hidden_articles WHERE feed_id = ?1")?;
        stmt.query_map([feed.0], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut insert = tx.prepare_cached(
        "INSERT INTO articles (feed_id, guid_key, guid, title, link, author, published, updated,
            first_seen, last_seen, sort_time, summary, content, categories, enclosures, content_hash,
            image, episode, season, story)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE articles SET guid = ?2, title = ?3, link = ?4, author = ?5, published = ?6,
            updated = ?7, last_seen = ?8, sort_time = coalesce(?6, ?7, first_seen), summary = ?9,
            content = ?10, categories = ?11, enclosures = ?12, content_hash = ?13, image = ?14,
            episode = ?15, season = ?16
         WHERE id = ?1",
    )?;
    let mut touch = tx.prepare_cached("UPDATE articles SET last_seen = ?2 WHERE id = ?1")?;

    // One story once: a new article that repeats another feed's story
    // points at that article, and is read when it is.
    let (feed_url, dedup): (String, bool) = tx
        .prepare_cached("SELECT url, dedup FROM feeds WHERE id = ?1")?
        .query_row([feed.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut original = tx.prepare_cached(
        "SELECT a.id, a.read FROM articles a JOIN feeds f ON f.id = a.feed_id
         WHERE a.story = ?1 AND a.feed_id != ?2 AND a.duplicate_of IS NULL AND f.dedup = 1
         ORDER BY a.id LIMIT 1",
    )?;
    let mut copy =
        tx.prepare_cached("UPDATE articles SET duplicate_of = ?2, read = ?3 WHERE id = ?1")?;

    let mut to_link: Vec<ArticleLinks> = Vec::new();
    let mut counts = SaveCounts::default();
    for (position, a) in parsed.articles.iter().enumerate() {
        let categories = serde_json::to_string(&a.categories).unwrap_or_else(|_| "[]".into());
        let enclosures = serde_json::to_string(&a.enclosures).unwrap_or_else(|_| "[]".into());
        let hash = &a.fingerprint;
        if !hidden.is_empty() && hidden.contains(&a.guid_key) {
            continue;
        }
        let id = match existing.get(&a.guid_key) {
            Some((id, old_hash)) if old_hash == hash => {
                touch.execute(params![id, now])?;
                counts.unchanged += 1;
                continue;
            }
            Some((id, _)) => {
                update.execute(params![
                    id,
                    a.guid,
                    a.title,
                    a.link,
                    a.author,
                    a.published,
                    a.updated,
                    now,
                    a.summary,
                    a.content,
                    categories,
                    enclosures,
                    hash,
                    a.image,
                    a.episode,
                    a.season
                ])?;
                search.remove(*id);
                to_link.push((*id, &a.images, true));
                counts.updated += 1;
                *id
            }
            None => {
                // An undated article sorts by when it was first seen, a second
                // apart in the feed's own order, so the list keeps that order
                // (newest first: a feed lists its newest first).
                let sort_time = a.published.or(a.updated).unwrap_or(now - position as i64);
                let story = crate::parse::story_key(
                    a.link.as_deref(),
                    a.guid.as_deref(),
                    a.title.as_deref(),
                    a.published.or(a.updated),
                    &feed_url,
                );
                insert.execute(params![
                    feed.0,
                    a.guid_key,
                    a.guid,
                    a.title,
                    a.link,
                    a.author,
                    a.published,
                    a.updated,
                    now,
                    sort_time,
                    a.summary,
                    a.content,
                    categories,
                    enclosures,
                    hash,
                    a.image,
                    a.episode,
                    a.season,
                    story
                ])?;
                counts.new += 1;
                let id = tx.last_insert_rowid();
                if let Some(story) = story.as_deref().filter(|_| dedup) {
                    let first: Option<(i64, bool)> = original
                        .query_row(params![story, feed.0], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    if let Some((first, read)) = first {
                        copy.execute(params![id, first, read])?;
                        counts.copies += 1;
                        counts.copies_read += u64::from(read);
                    }
                }
                if !a.images.is_empty() {
                    to_link.push((id, &a.images, false));
                }
                id
            }
        };
        search.add(id, a.title.as_deref(), &a.search_text);
    }
    Ok((counts, to_link))
}

/// Drops the feed's articles that retention (the feed's own, else the
/// config's) no longer keeps: only read, unstarred ones that the latest
/// document no longer lists (or they would come back as new).
pub(super) fn apply_retention(
    tx: &Transaction,
    feed: FeedId,
    now: i64,
    retention: &RetentionConfig,
    search: &mut SearchWrites,
) -> rusqlite::Result<u64> {
    let (keep_articles, keep_days): (u64, u64) = tx
        .prepare_cached(
            "SELECT coalesce(keep_articles, ?2), coalesce(keep_days, ?3) FROM feeds WHERE id = ?1",
        )?
        .query_row(
            params![feed.0, retention.keep_articles, retention.keep_days],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, 0));
    if keep_articles == 0 && keep_days == 0 {
        return Ok(0);
    }
    let oldest_kept = if keep_days > 0 {
        now - keep_days as i64 * 86_400
    } else {
        i64::MIN
    };
    let keep = if keep_articles > 0 {
        keep_articles as i64
    } else {
        -1
    };
    let mut stmt = tx.prepare_cached(
        "DELETE FROM articles WHERE feed_id = ?1 AND read = 1 AND starred = 0 AND last_seen < ?2
           AND (sort_time < ?3 OR (?4 >= 0 AND id NOT IN
                (SELECT id FROM articles WHERE feed_id = ?1 ORDER BY sort_time DESC, id DESC LIMIT ?4)))
         RETURNING id",
    )?;
    let ids = stmt
        .query_map(params![feed.0, now, oldest_kept, keep], |r| {
            r.get::<_, i64>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for &id in &ids {
        search.remove(id);
    }
    Ok(ids.len() as u64)
}

/// The words of the user's query: runs of letters and digits, lowercased
/// (the index folds case), each with whether a `*` follows it (a prefix).
/// Everything else separates words, so operators and quotes in a query are
/// never interpreted.
fn query_words(query: &str) -> Vec<(String, bool)> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in query.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() {
            word.push(c);
        } else if !word.is_empty() {
            words.push((std::mem::take(&mut word).to_lowercase(), c == '*'));
        }
    }
    words
}
