//! The store's image side: which article shows which image (recorded with the
//! articles, before anything is downloaded), which images a refresh should
//! download, what became of each download, the per-fetch image statistics,
//! and the cache's size and eviction order. Files themselves are written by
//! the refresher under names made from a hash of the URL; here only that name
//! is kept.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Result, Store};
use crate::model::{ArticleId, ArticleImage, FeedId, FoundImage, ImageStats, ImageStatus};

/// An image to download, with what a conditional request needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageJob {
    pub id: i64,
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The file already cached (a revalidation), if any.
    pub file: Option<String>,
}

/// What one download of an image came to.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageOutcome {
    pub id: i64,
    pub status: ImageStatus,
    pub file: Option<String>,
    pub http_status: Option<u16>,
    pub content_type: Option<String>,
    pub source_bytes: u64,
    pub stored_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub stored_width: u32,
    pub stored_height: u32,
    pub fetch_ms: u64,
    pub convert_ms: u64,
    pub error: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// A 304: the cached file is still right.
    pub not_modified: bool,
}

impl ImageOutcome {
    /// A failed download of image `id`, before anything is known about it.
    pub fn failed(id: i64) -> ImageOutcome {
        ImageOutcome {
            id,
            status: ImageStatus::Failed,
            file: None,
            http_status: None,
            content_type: None,
            source_bytes: 0,
            stored_bytes: 0,
            width: 0,
            height: 0,
            stored_width: 0,
            stored_height: 0,
            fetch_ms: 0,
            convert_ms: 0,
            error: None,
            etag: None,
            last_modified: None,
            not_modified: false,
        }
    }
}

/// The cache as `tidings images stats` shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageTotals {
    pub by_status: Vec<(ImageStatus, u64)>,
    pub stored_bytes: u64,
    pub source_bytes: u64,
}

/// A cached image that eviction may delete.
#[derive(Debug, Clone, PartialEq)]
pub struct Evictable {
    pub id: i64,
    pub file: String,
    pub stored_bytes: u64,
}

/// A failed image waits this long before its first retry, twice as long after
/// each further failure, at most a week.
const FIRST_RETRY_SECS: i64 = 3600;
const LONGEST_RETRY_SECS: i64 = 7 * 86_400;
/// A cached image is asked again (conditionally) after this long.
pub const REVALIDATE_SECS: i64 = 30 * 86_400;

/// The image row for `url` (created pending when new), marked used now.
pub(super) fn upsert_image(tx: &Transaction, url: &str, now: i64) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO images (url, last_used) VALUES (?1, ?2)
         ON CONFLICT(url) DO UPDATE SET last_used = max(last_used, excluded.last_used)
         RETURNING id",
    )?
    .query_row(params![url, now], |r| r.get(0))
}

/// Records the images an article shows, replacing what it showed before.
pub(super) fn link_images(
    tx: &Transaction,
    article: i64,
    images: &[FoundImage],
    now: i64,
    replace: bool,
) -> rusqlite::Result<()> {
    if replace {
        tx.prepare_cached("DELETE FROM article_images WHERE article_id = ?1")?
            .execute([article])?;
    }
    let mut link = tx.prepare_cached(
        "INSERT OR IGNORE INTO article_images (article_id, position, image_id, alt)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, image) in images.iter().enumerate() {
        let id = upsert_image(tx, &image.url, now)?;
        link.execute(params![article, position as i64, id, image.alt])?;
    }
    Ok(())
}

/// Records what a download came to. A 304 keeps the file and its sizes; a
/// failure keeps a cached file (if any) and schedules a retry with backoff.
fn save_image(conn: &Connection, outcome: &ImageOutcome, now: i64) -> rusqlite::Result<()> {
    let o = outcome;
    if o.not_modified {
        conn.execute(
            "UPDATE images SET status = 'cached', fetched_at = ?2, fetch_ms = ?3, http_status = 304,
                    failures = 0, retry_at = NULL, error = NULL,
                    etag = coalesce(?4, etag), last_modified = coalesce(?5, last_modified)
             WHERE id = ?1",
            params![o.id, now, o.fetch_ms, o.etag, o.last_modified],
        )?;
        return Ok(());
    }
    if o.status == ImageStatus::Failed {
        let failures: i64 = conn
            .query_row("SELECT failures FROM images WHERE id = ?1", [o.id], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0);
        let wait = (FIRST_RETRY_SECS << failures.min(16)).min(LONGEST_RETRY_SECS);
        conn.execute(
            "UPDATE images SET status = CASE WHEN file IS NOT NULL THEN status ELSE 'failed' END,
                    http_status = ?2, fetch_ms = ?3, error = ?4, failures = failures + 1,
                    retry_at = ?5
             WHERE id = ?1",
            params![o.id, o.http_status, o.fetch_ms, o.error, now + wait],
        )?;
        return Ok(());
    }
    conn.execute(
        "UPDATE images SET status = ?2, file = ?3, http_status = ?4, content_type = ?5,
                source_bytes = ?6, stored_bytes = ?7, width = ?8, height = ?9,
                stored_width = ?10, stored_height = ?11, fetch_ms = ?12, convert_ms = ?13,
                error = ?14, etag = ?15, last_modified = ?16, failures = 0, retry_at = NULL,
                fetched_at = ?17
         WHERE id = ?1",
        params![
            o.id,
            o.status.as_str(),
            o.file,
            o.http_status,
            o.content_type,
            o.source_bytes,
            o.stored_bytes,
            o.width,
            o.height,
            o.stored_width,
            o.stored_height,
            o.fetch_ms,
            o.convert_ms,
            o.error,
            o.etag,
            o.last_modified,
            now
        ],
    )?;
    Ok(())
}

const JOB_COLUMNS: &str = "i.id, i.url, i.etag, i.last_modified, i.file";

fn job_from_row(r: &rusqlite::Row) -> rusqlite::Result<ImageJob> {
    Ok(ImageJob {
        id: r.get(0)?,
        url: r.get(1)?,
        etag: r.get(2)?,
        last_modified: r.get(3)?,
        file: r.get(4)?,
    })
}

impl Store {
    /// The images of a feed (its articles' and its icon) that a refresh should
    /// download: new ones, failed ones whose wait is over, and cached ones due
    /// for a conditional check. Evicted ones wait until an article shows them.
    pub fn images_to_fetch(&self, feed: FeedId, now: i64) -> Result<Vec<ImageJob>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM images i WHERE i.id IN (
                 SELECT ai.image_id FROM articles a JOIN article_images ai ON ai.article_id = a.id
                 WHERE a.feed_id = ?1
                 UNION SELECT image_id FROM feeds WHERE id = ?1 AND image_id IS NOT NULL)
             AND (i.status = 'pending'
                  OR (i.status = 'failed' AND coalesce(i.retry_at, 0) <= ?2)
                  OR (i.status = 'cached' AND coalesce(i.fetched_at, 0) <= ?3))
             ORDER BY i.id"
        ))?;
        let rows = stmt.query_map(params![feed.0, now, now - REVALIDATE_SECS], job_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The images one article shows that are not in the cache (evicted ones
    /// too): what opening it asks the worker to fetch.
    pub fn article_images_to_fetch(&self, article: ArticleId, now: i64) -> Result<Vec<ImageJob>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM images i JOIN article_images ai ON ai.image_id = i.id
             WHERE ai.article_id = ?1
               AND (i.status IN ('pending', 'evicted')
                    OR (i.status = 'failed' AND coalesce(i.retry_at, 0) <= ?2))
             ORDER BY ai.position"
        ))?;
        let rows = stmt.query_map(params![article.0, now], job_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Records what downloads came to, in one transaction.
    pub fn save_images(&mut self, outcomes: &[&ImageOutcome], now: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        for outcome in outcomes {
            save_image(&tx, outcome, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Adds a fetch's image statistics to its record, once its images are done.
    pub fn save_image_stats(&mut self, fetch_id: i64, stats: &ImageStats) -> Result<()> {
        self.conn.execute(
            "UPDATE fetches SET images_found = ?2, images_cached = ?3, images_failed = ?4,
                    images_refused = ?5, image_bytes_wire = ?6, image_bytes_stored = ?7, ms_images = ?8
             WHERE id = ?1",
            params![
                fetch_id,
                stats.found,
                stats.cached,
                stats.failed,
                stats.refused,
                stats.bytes_wire,
                stats.bytes_stored,
                stats.ms
            ],
        )?;
        Ok(())
    }

    /// The images an article shows, in order, with what the cache holds.
    pub fn article_images(&self, article: ArticleId) -> Result<Vec<ArticleImage>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ai.position, ai.alt, i.id, i.url, i.status, i.file, i.http_status, i.width,
                    i.height, i.source_bytes, i.error
             FROM article_images ai JOIN images i ON i.id = ai.image_id
             WHERE ai.article_id = ?1 ORDER BY ai.position",
        )?;
        let rows = stmt.query_map([article.0], |r| {
            Ok(ArticleImage {
                position: r.get(0)?,
                alt: r.get(1)?,
                id: r.get(2)?,
                url: r.get(3)?,
                status: ImageStatus::parse(&r.get::<_, String>(4)?),
                file: r.get(5)?,
                http_status: r.get(6)?,
                width: r.get(7)?,
                height: r.get(8)?,
                source_bytes: r.get(9)?,
                error: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Records the images an article shows (replacing what it showed), for
    /// an article stored while images were not cached.
    pub fn record_article_images(
        &mut self,
        article: ArticleId,
        images: &[FoundImage],
        now: i64,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        link_images(&tx, article.0, images, now, true)?;
        tx.commit()?;
        Ok(())
    }

    /// Marks an article's images used now (eviction goes by last use).
    pub fn touch_images(&mut self, article: ArticleId, now: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE images SET last_used = ?2
                 WHERE id IN (SELECT image_id FROM article_images WHERE article_id = ?1)",
            )?
            .execute(params![article.0, now])?;
        Ok(())
    }

    pub fn image_totals(&self) -> Result<ImageTotals> {
        let mut totals = ImageTotals::default();
        let mut stmt = self.conn.prepare_cached(
            "SELECT status, count(*) FROM images GROUP BY status ORDER BY status",
        )?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))? {
            let (status, n) = row?;
            totals.by_status.push((ImageStatus::parse(&status), n));
        }
        (totals.stored_bytes, totals.source_bytes) = self.conn.query_row(
            "SELECT coalesce(sum(stored_bytes), 0), coalesce(sum(source_bytes), 0)
             FROM images WHERE status = 'cached'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(totals)
    }

    /// Failed and refused images counted by why, most first: "HTTP 404",
    /// "timeout", "refused: too large" … (see [`failure_reason`]).
    pub fn image_failures(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT status, error, count(*) FROM images
             WHERE status IN ('failed', 'refused') GROUP BY status, error",
        )?;
        let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, u64>(2)?,
            ))
        })?;
        for row in rows {
            let (status, error, n) = row?;
            let reason = failure_reason(ImageStatus::parse(&status), error.as_deref());
            *counts.entry(reason).or_default() += n;
        }
        let mut failures: Vec<(String, u64)> = counts.into_iter().collect();
        failures.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(failures)
    }

    /// Every file an image row names, relative to the image directory.
    pub fn image_files(&self) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT file FROM images WHERE file IS NOT NULL")?;
        let files = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(files.collect::<rusqlite::Result<_>>()?)
    }

    /// Cached images to delete, least recently used first, until the cache
    /// holds at most `limit_bytes`. Images of starred articles are never listed.
    pub fn images_to_evict(&self, limit_bytes: u64) -> Result<Vec<Evictable>> {
        let total = self.image_totals()?.stored_bytes;
        if total <= limit_bytes {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.id, i.file, coalesce(i.stored_bytes, 0) FROM images i
             WHERE i.status = 'cached' AND i.file IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM article_images ai JOIN articles a ON a.id = ai.article_id
                               WHERE ai.image_id = i.id AND a.starred = 1)
             ORDER BY i.last_used, i.id",
        )?;
        let mut over = total - limit_bytes;
        let mut chosen = Vec::new();
        let rows = stmt.query_map([], |r| {
            Ok(Evictable {
                id: r.get(0)?,
                file: r.get(1)?,
                stored_bytes: r.get(2)?,
            })
        })?;
        for row in rows {
            if over == 0 {
                break;
            }
            let image = row?;
            over = over.saturating_sub(image.stored_bytes);
            chosen.push(image);
        }
        Ok(chosen)
    }

    /// Records that these images' files were deleted.
    pub fn mark_evicted(&mut self, ids: &[i64]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE images SET status = 'evicted', file = NULL, stored_bytes = NULL WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute([id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every file name the cache should hold (to find strays on disk).
    pub fn cached_image_files(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT file FROM images WHERE status = 'cached' AND file IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// Why an image failed or was refused, in a few words to count by: the
/// HTTP status ("HTTP 404"), "timeout", the first clause of the error
/// ("cannot connect", "too large" …), "refused: …" for what the checks
/// turned away.
pub fn failure_reason(status: ImageStatus, error: Option<&str>) -> String {
    let error = error
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .unwrap_or("unknown");
    let reason = if let Some(rest) = error.strip_prefix("HTTP ") {
        format!(
            "HTTP {}",
            rest.split_whitespace().next().unwrap_or_default()
        )
    } else if error.starts_with(crate::fetch::HOST_UNREACHABLE) {
        crate::fetch::HOST_UNREACHABLE.to_string()
    } else if error.starts_with("timed out") {
        "timeout".to_string()
    } else if error.starts_with("larger than the limit") {
        "too large".to_string()
    } else if error.ends_with("pixels is over the limit") {
        "too many pixels".to_string()
    } else {
        let clause = error.strip_prefix("refused: ").unwrap_or(error);
        clause
            .split([':', '('])
            .next()
            .unwrap_or(clause)
            .trim()
            .to_string()
    };
    if status == ImageStatus::Refused {
        format!("refused: {reason}")
    } else {
        reason
    }
}
