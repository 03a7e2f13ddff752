//! The full text of articles (see `crate::fulltext`): what fetching an
//! article's page came to, which feeds want it for every new article, and
//! which articles still wait for theirs.

use rusqlite::{OptionalExtension, params};

use super::images::link_images;
use super::{Result, Store};
use crate::fulltext::PageOutcome;
use crate::model::{ArticleId, FeedId, FoundImage};

impl Store {
    /// Records what fetching an article's page came to. Its text replaces
    /// any earlier one, is searched like the feed's own (with the title), and
    /// the images it shows join the article's (`images`, found in it); a
    /// failure keeps the earlier text and says why.
    pub fn save_page(
        &mut self,
        article: ArticleId,
        outcome: &PageOutcome,
        images: &[FoundImage],
        now: i64,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        match &outcome.content {
            Ok(content) => {
                // The article may have gone meanwhile (unsubscribed): then nothing.
                let Some(title) = tx
                    .query_row(
                    "UPDATE articles SET page_content = ?2, page_fetched_at = ?3, page_status = ?4,
                        page_bytes = ?5, page_ms = ?6, page_error = NULL
                     WHERE id = ?1 RETURNING title",
                    params![
                        article.0,
                        content,
                        now,
                        outcome.http_status,
                        outcome.bytes as i64,
                        outcome.ms as i64
                    ],
                    |r| r.get::<_, Option<String>>(0),
                )
                    .optional()?
                else {
                    return Ok(());
                };
                tx.execute("DELETE FROM articles_fts WHERE rowid = ?1", [article.0])?;
                tx.execute(
                    "INSERT INTO articles_fts (rowid, title, body) VALUES (?1, ?2, ?3)",
                    params![article.0, title, crate::parse::search_text(content)],
                )?;
                let mut shown: Vec<FoundImage> = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT i.url, ai.alt FROM article_images ai JOIN images i ON i.id = ai.image_id
                         WHERE ai.article_id = ?1 ORDER BY ai.position",
                    )?;
                    stmt.query_map([article.0], |r| {
                        Ok(FoundImage {
                            url: r.get(0)?,
                            alt: r.get(1)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?
                };
                for image in images {
                    if !shown.iter().any(|s| s.url == image.url) {
                        shown.push(image.clone());
                    }
                }
                link_images(&tx, article.0, &shown, now, true)?;
            }
            Err(why) => {
                tx.execute(
                    "UPDATE articles SET page_fetched_at = ?2, page_status = ?3, page_bytes = ?4,
                        page_ms = ?5, page_error = ?6
                     WHERE id = ?1",
                    params![
                        article.0,
                        now,
                        outcome.http_status,
                        outcome.bytes as i64,
                        outcome.ms as i64,
                        why
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Articles first stored at or after `since` (seconds) whose page was
    /// never fetched, of the feeds that want their full text (those without a
    /// setting when `default` is on), newest first: (id, feed, address).
    pub fn pages_to_fetch(
        &self,
        since: i64,
        default: bool,
        limit: usize,
    ) -> Result<Vec<(ArticleId, FeedId, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, a.feed_id, a.link FROM articles a JOIN feeds f ON f.id = a.feed_id
             WHERE a.first_seen >= ?1 AND a.page_fetched_at IS NULL AND a.link IS NOT NULL
               AND coalesce(f.full_text, ?2) = 1
             ORDER BY a.sort_time DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![since, default, limit as i64], |r| {
            Ok((ArticleId(r.get(0)?), FeedId(r.get(1)?), r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// What reading articles' pages came to: pages read, and the failures
    /// counted by their error, most first.
    pub fn page_totals(&self) -> Result<PageTotals> {
        let read: u64 = self.conn.query_row(
            "SELECT count(*) FROM articles WHERE page_content IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT page_error, count(*) FROM articles
             WHERE page_error IS NOT NULL GROUP BY page_error ORDER BY count(*) DESC, page_error",
        )?;
        let failures = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(PageTotals { read, failures })
    }
}

/// Articles whose page was read, and failures by their error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageTotals {
    pub read: u64,
    pub failures: Vec<(String, u64)>,
}
