//! The store's reader side: what the TUI asks while a person reads. Article
//! lists come a page at a time from an index in the order shown (a page deep in
//! a long list is read from the nearer end), counts come from the per-feed
//! counters, and the few writes (read, starred, a feed's title and tags) are
//! single statements. Nothing here reads more rows than the screen needs.

use rusqlite::{OptionalExtension, params};

use super::articles::{ARTICLE_SELECT, article_from_row, recount, set_read_in, summary_from_row};
use super::{Result, Store};
use crate::model::{Article, ArticleId, ArticleSource, ArticleSummary, FeedId};

/// The SQL of one list query, for every source and filter, as constants: the
/// WHERE clause picks the index (`articles_unread_by_time`, `articles_starred`,
/// `articles_unread`, `articles_by_feed_time`).
macro_rules! for_each_filter {
    ($make:ident) => {
        [
            $make!("read = 0 AND duplicate_of IS NULL AND ?1 IS NOT NULL"),
            $make!("starred = 1 AND duplicate_of IS NULL AND ?1 IS NOT NULL"),
            $make!("starred = 1 AND read = 0 AND duplicate_of IS NULL AND ?1 IS NOT NULL"),
            $make!("feed_id = ?1"),
            $make!("feed_id = ?1 AND read = 0"),
            $make!(
                "feed_id IN (SELECT feed_id FROM feed_tags WHERE tag = ?1) AND duplicate_of IS NULL"
            ),
            $make!(
                "feed_id IN (SELECT feed_id FROM feed_tags WHERE tag = ?1) AND read = 0
                 AND duplicate_of IS NULL"
            ),
        ]
    };
}

macro_rules! page_newest {
    ($filter:expr) => {
        concat!(
            "SELECT id, feed_id, title, link, author, sort_time, read, starred FROM articles WHERE ",
            $filter,
            " ORDER BY sort_time DESC, id DESC LIMIT ?2 OFFSET ?3"
        )
    };
}
macro_rules! page_oldest {
    ($filter:expr) => {
        concat!(
            "SELECT id, feed_id, title, link, author, sort_time, read, starred FROM articles WHERE ",
            $filter,
            " ORDER BY sort_time, id LIMIT ?2 OFFSET ?3"
        )
    };
}
macro_rules! count_newer {
    ($filter:expr) => {
        concat!(
            "SELECT count(*) FROM articles WHERE ",
            $filter,
            " AND (sort_time > ?2 OR (sort_time = ?2 AND id > ?3))"
        )
    };
}
macro_rules! mark_read {
    ($filter:expr) => {
        concat!(
            "UPDATE articles SET read = 1 WHERE ",
            $filter,
            " AND read = 0 RETURNING id, feed_id"
        )
    };
}

const PAGE_NEWEST: [&str; 7] = for_each_filter!(page_newest);
const PAGE_OLDEST: [&str; 7] = for_each_filter!(page_oldest);
const COUNT_NEWER: [&str; 7] = for_each_filter!(count_newer);
const MARK_READ: [&str; 7] = for_each_filter!(mark_read);

/// The time ages in queries count from.
fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Which statement of the tables above, and its parameter (a feed, a tag).
fn filter_of(
    store: &Store,
    source: ArticleSource,
    unread_only: bool,
) -> Result<(usize, rusqlite::types::Value)> {
    use rusqlite::types::Value;
    Ok(match (source, unread_only) {
        // Query feeds have SQL of their own (store/query.rs).
        (ArticleSource::Query(_), _) => (0, Value::Integer(0)),
        (ArticleSource::Unread, _) => (0, Value::Integer(0)),
        (ArticleSource::Starred, false) => (1, Value::Integer(0)),
        (ArticleSource::Starred, true) => (2, Value::Integer(0)),
        (ArticleSource::Feed(feed), false) => (3, Value::Integer(feed.0)),
        (ArticleSource::Feed(feed), true) => (4, Value::Integer(feed.0)),
        (ArticleSource::Tag(key), unread) => {
            let tag = store.tag_name(key)?.unwrap_or_default();
            (if unread { 6 } else { 5 }, Value::Text(tag))
        }
    })
}

impl Store {
    /// How many articles a list holds.
    pub fn count_articles(&self, source: ArticleSource, unread_only: bool) -> Result<u64> {
        let n = match (source, unread_only) {
            (ArticleSource::Query(id), unread) => match self.query_of(id)? {
                Some(query) => self.query_matches(id, &query, now(), unread)?.len() as u64,
                None => 0,
            },
            // The feeds' counters, less the copies of stories another feed has.
            (ArticleSource::Unread, _) => self.conn.query_row(
                "SELECT (SELECT coalesce(sum(unread_count), 0) FROM feeds)
                      - (SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL AND read = 0)",
                [],
                |r| r.get(0),
            )?,
            (ArticleSource::Starred, false) => self.conn.query_row(
                "SELECT count(*) FROM articles WHERE starred = 1 AND duplicate_of IS NULL",
                [],
                |r| r.get(0),
            )?,
            (ArticleSource::Starred, true) => self.conn.query_row(
                "SELECT count(*) FROM articles
                 WHERE starred = 1 AND read = 0 AND duplicate_of IS NULL",
                [],
                |r| r.get(0),
            )?,
            (ArticleSource::Tag(key), unread) => self.conn.query_row(
                "SELECT (SELECT coalesce(sum(CASE WHEN ?2 THEN unread_count ELSE article_count END), 0)
                         FROM feeds WHERE id IN (SELECT feed_id FROM feed_tags WHERE tag = ?1))
                      - (SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL
                         AND (read = 0 OR NOT ?2)
                         AND feed_id IN (SELECT feed_id FROM feed_tags WHERE tag = ?1))",
                params![self.tag_name(key)?.unwrap_or_default(), unread],
                |r| r.get(0),
            )?,
            (ArticleSource::Feed(feed), unread) => self
                .conn
                .query_row(
                    "SELECT CASE WHEN ?2 THEN unread_count ELSE article_count END
                     FROM feeds WHERE id = ?1",
                    params![feed.0, unread],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0),
        };
        Ok(n)
    }

    /// Rows `offset..offset + limit` of a list of `total` articles, newest (or
    /// oldest) first. A page in the far half is read backwards from the other
    /// end, so the bottom of a million-article list costs what its top does.
    pub fn article_page(
        &self,
        source: ArticleSource,
        unread_only: bool,
        newest_first: bool,
        (offset, limit): (u64, u64),
        total: u64,
    ) -> Result<Vec<ArticleSummary>> {
        if let ArticleSource::Query(id) = source {
            let Some(query) = self.query_of(id)? else {
                return Ok(Vec::new());
            };
            let matches = self.query_matches(id, &query, now(), unread_only)?;
            let total = matches.len() as u64;
            let offset = offset.min(total);
            let limit = limit.min(total - offset);
            // Oldest first is the newest matches read from their far end.
            let start = if newest_first {
                offset
            } else {
                total - offset - limit
            };
            let ids: Vec<i64> = matches[start as usize..(start + limit) as usize]
                .iter()
                .map(|(id, _)| *id)
                .collect();
            let mut rows = self.summaries_of(&ids)?;
            if !newest_first {
                rows.reverse();
            }
            return Ok(rows);
        }
        let (which, feed) = filter_of(self, source, unread_only)?;
        let offset = offset.min(total);
        let limit = limit.min(total - offset);
        let from_far_end = offset > total / 2;
        let (sql, start) = match (newest_first, from_far_end) {
            (true, false) => (PAGE_NEWEST[which], offset),
            (false, false) => (PAGE_OLDEST[which], offset),
            (true, true) => (PAGE_OLDEST[which], total - offset - limit),
            (false, true) => (PAGE_NEWEST[which], total - offset - limit),
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt
            .query_map(params![feed, limit, start], summary_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if from_far_end {
            rows.reverse();
        }
        Ok(rows)
    }

    /// Where an article stands in a list: how many rows come before it.
    pub fn article_position(
        &self,
        source: ArticleSource,
        unread_only: bool,
        newest_first: bool,
        article: &ArticleSummary,
    ) -> Result<u64> {
        let newer: u64 = match source {
            ArticleSource::Query(id) => match self.query_of(id)? {
                Some(query) => {
                    let matches = self.query_matches(id, &query, now(), unread_only)?;
                    let key = (article.date, article.id.0);
                    matches
                        .iter()
                        .take_while(|(id, time)| (*time, *id) > key)
                        .count() as u64
                }
                None => 0,
            },
            _ => {
                let (which, feed) = filter_of(self, source, unread_only)?;
                let mut stmt = self.conn.prepare_cached(COUNT_NEWER[which])?;
                stmt.query_row(params![feed, article.date, article.id.0], |r| r.get(0))?
            }
        };
        if newest_first {
            Ok(newer)
        } else {
            let total = self.count_articles(source, unread_only)?;
            // Everything not newer, minus the article itself (when it is in the list).
            Ok(total.saturating_sub(newer + 1))
        }
    }

    /// One article with its body.
    /// With the other feeds that carry its story.
    pub fn article(&self, id: ArticleId) -> Result<Option<Article>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{ARTICLE_SELECT} WHERE id = ?1"))?;
        let Some(mut article) = stmt.query_row([id.0], article_from_row).optional()? else {
            return Ok(None);
        };
        let mut others = self.conn.prepare_cached(
            "SELECT coalesce(f.custom_title, f.feed_title, f.url)
             FROM articles me, articles o JOIN feeds f ON f.id = o.feed_id
             WHERE me.id = ?1 AND o.id != me.id
               AND (me.duplicate_of IS NOT NULL OR o.duplicate_of = me.id)
               AND (o.id = coalesce(me.duplicate_of, me.id)
                    OR o.duplicate_of = coalesce(me.duplicate_of, me.id))
             ORDER BY o.id",
        )?;
        article.also_in = others
            .query_map([id.0], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(article))
    }

    /// Marks every unread article of a list read; returns them, for an undo.
    pub fn mark_all_read(&mut self, source: ArticleSource) -> Result<Vec<ArticleId>> {
        let query = match source {
            ArticleSource::Query(id) => Some(self.query_of(id)?),
            _ => None,
        };
        let (which, feed) = filter_of(self, source, false)?;
        let tx = self.conn.transaction()?;
        let marked = match query {
            Some(Some(query)) => super::query::mark_read_matching(&tx, &query, now())?,
            Some(None) => Vec::new(),
            None => {
                let mut stmt = tx.prepare_cached(MARK_READ[which])?;
                stmt.query_map([feed], |r| Ok((ArticleId(r.get(0)?), r.get::<_, i64>(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?
            }
        };
        let ids: Vec<ArticleId> = marked.iter().map(|(id, _)| *id).collect();
        let stories = super::articles::read_their_stories(&tx, &ids)?;
        let feeds: std::collections::BTreeSet<i64> =
            marked.iter().chain(&stories).map(|(_, f)| *f).collect();
        for feed in feeds {
            recount(&tx, feed)?;
        }
        tx.commit()?;
        Ok(marked.into_iter().map(|(id, _)| id).collect())
    }

    /// Sets the read state of many articles at once (an undo of a bulk change).
    pub fn set_read_many(&mut self, ids: &[ArticleId], read: bool) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in ids {
            set_read_in(&tx, *id, read)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The user's own name for a feed (`None` goes back to the feed's title).
    /// A synced feed's new name is queued for the server too.
    pub fn set_feed_title(&mut self, feed: FeedId, title: Option<&str>) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE feeds SET custom_title = ?2 WHERE id = ?1",
            params![feed.0, title],
        )?;
        if let Some(title) = title {
            super::sync_queue::queue_feed_change(&tx, feed, super::sync_queue::RENAME, title)?;
        }
        tx.commit()?;
        self.subscriptions_changed();
        Ok(())
    }

    /// Replaces a feed's tags, keeping the order given. For a synced feed,
    /// a new category is queued for the server (see `queue_category_of`).
    pub fn set_feed_tags(&mut self, feed: FeedId, tags: &[String]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM feed_tags WHERE feed_id = ?1", [feed.0])?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO feed_tags (feed_id, tag, position) VALUES (?1, ?2, ?3)",
            )?;
            for (position, tag) in tags.iter().enumerate() {
                stmt.execute(params![feed.0, tag, position as i64])?;
            }
        }
        super::sync_queue::queue_category_of(&tx, feed, tags)?;
        tx.commit()?;
        self.subscriptions_changed();
        Ok(())
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// The tag whose key is `key`, when a feed has it.
    pub fn tag_name(&self, key: crate::model::TagKey) -> Result<Option<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT tag FROM feed_tags")?;
        let tags = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for tag in tags {
            let tag = tag?;
            if crate::model::TagKey::of(&tag) == key {
                return Ok(Some(tag));
            }
        }
        Ok(None)
    }

    /// What changes whenever the cache does, by this connection or another:
    /// what is derived from it (a query feed's matches, the changes waiting
    /// for the sync server) is read again only when this moves.
    pub fn cache_version(&self) -> Result<(i64, u64)> {
        Ok((self.data_version()?, self.conn.total_changes()))
    }

    /// A number that changes whenever another connection (a refresh in the
    /// background or in another process) commits to the database.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}
