//! The store's statistics side: refresh runs, the fetch record of every fetch
//! (kept per feed up to the configured history) and what is derived from them
//! per feed (failure streak, median latency, share of 304s, activity, the
//! last fetch's error or warning).

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Result, Store};
use crate::model::{
    ErrorKind, Feed, FeedId, FeedStats, FetchRecord, ImageStats, RunStats, SlowFetch,
};

impl Store {
    pub fn begin_run(&mut self, started_at_ms: i64) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO refresh_runs (started_at_ms) VALUES (?1)",
            [started_at_ms],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(&mut self, run_id: i64, stats: &RunStats) -> Result<()> {
        self.conn.execute(
            "UPDATE refresh_runs SET wall_ms = ?2, feeds = ?3, ok = ?4, not_modified = ?5,
                    failed = ?6, new_articles = ?7, bytes_wire = ?8 WHERE id = ?1",
            params![
                run_id,
                stats.wall_ms,
                stats.feeds,
                stats.ok,
                stats.not_modified,
                stats.failed,
                stats.new_articles,
                stats.bytes_wire
            ],
        )?;
        Ok(())
    }

    /// A feed's kept fetch records, newest first.
    pub fn fetch_history(&self, feed: FeedId, limit: u64) -> Result<Vec<FetchRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {FETCH_COLUMNS} FROM fetches WHERE feed_id = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![feed.0, limit], fetch_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many of the feed's latest fetches in a row found its host
    /// unreachable or were deferred for it (at most `limit`).
    pub fn unreachable_streak(&self, feed: FeedId, limit: u32) -> Result<u32> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT error_kind FROM fetches WHERE feed_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let kinds = stmt.query_map(params![feed.0, limit], |r| r.get::<_, Option<String>>(0))?;
        let mut streak = 0;
        for kind in kinds {
            match kind?.map(|k| ErrorKind::parse(&k)) {
                Some(k) if k.host_unreached() => streak += 1,
                _ => break,
            }
        }
        Ok(streak)
    }

    /// Derived statistics for every feed. `now` is in seconds.
    pub fn feed_stats(&self, now: i64) -> Result<Vec<FeedStats>> {
        let mut history: HashMap<i64, Vec<FetchRecord>> = HashMap::new();
        {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT feed_id, {FETCH_COLUMNS} FROM fetches ORDER BY feed_id, id DESC"
            ))?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, fetch_from_row_at(r, 1)?)))?;
            for row in rows {
                let (id, record) = row?;
                history.entry(id).or_default().push(record);
            }
        }
        let mut activity: HashMap<i64, (u64, Option<i64>)> = HashMap::new();
        {
            // Two index seeks per feed (articles_by_feed_time), not a pass over
            // every article.
            let mut stmt = self.conn.prepare_cached(
                "SELECT f.id,
                        (SELECT count(*) FROM articles a WHERE a.feed_id = f.id AND a.sort_time > ?1),
                        (SELECT max(sort_time) FROM articles a WHERE a.feed_id = f.id)
                 FROM feeds f",
            )?;
            let rows = stmt.query_map([now - 28 * 86_400], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, u64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })?;
            for row in rows {
                let (id, recent, newest) = row?;
                activity.insert(id, (recent, newest));
            }
        }
        Ok(self
            .feeds()?
            .into_iter()
            .map(|feed| {
                let records = history.remove(&feed.id.0).unwrap_or_default();
                let (recent, newest) = activity.get(&feed.id.0).copied().unwrap_or_default();
                derive_feed_stats(&feed, &records, recent, newest)
            })
            .collect())
    }

    /// The most recent refresh run and its slowest fetches.
    pub fn last_run(&self, slowest: u64) -> Result<Option<(RunStats, Vec<SlowFetch>)>> {
        let run: Option<(i64, RunStats)> = self
            .conn
            .query_row(
                "SELECT id, started_at_ms, wall_ms, feeds, ok, not_modified, failed, new_articles, bytes_wire
                 FROM refresh_runs WHERE wall_ms > 0 OR feeds > 0 ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        RunStats {
                            started_at_ms: r.get(1)?,
                            wall_ms: r.get(2)?,
                            feeds: r.get(3)?,
                            ok: r.get(4)?,
                            not_modified: r.get(5)?,
                            failed: r.get(6)?,
                            new_articles: r.get(7)?,
                            bytes_wire: r.get(8)?,
                            images: ImageStats::default(),
                        },
                    ))
                },
            )
            .optional()?;
        let Some((run_id, mut stats)) = run else {
            return Ok(None);
        };
        stats.images = self.conn.query_row(
            "SELECT coalesce(sum(images_found), 0), coalesce(sum(images_cached), 0),
                    coalesce(sum(images_failed), 0), coalesce(sum(images_refused), 0),
                    coalesce(sum(image_bytes_wire), 0), coalesce(sum(image_bytes_stored), 0),
                    coalesce(max(ms_images), 0)
             FROM fetches WHERE run_id = ?1",
            [run_id],
            |r| {
                Ok(ImageStats {
                    found: r.get(0)?,
                    cached: r.get(1)?,
                    failed: r.get(2)?,
                    refused: r.get(3)?,
                    bytes_wire: r.get(4)?,
                    bytes_stored: r.get(5)?,
                    ms: r.get(6)?,
                })
            },
        )?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.feed_id, coalesce(d.custom_title, d.feed_title, d.url), f.ms_total
             FROM fetches f JOIN feeds d ON d.id = f.feed_id
             WHERE f.run_id = ?1 ORDER BY f.ms_total DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![run_id, slowest], |r| {
            Ok(SlowFetch {
                feed_id: FeedId(r.get(0)?),
                title: r.get(1)?,
                ms_total: r.get(2)?,
            })
        })?;
        Ok(Some((stats, rows.collect::<rusqlite::Result<Vec<_>>>()?)))
    }
}

fn derive_feed_stats(
    feed: &Feed,
    records: &[FetchRecord],
    recent_articles: u64,
    newest: Option<i64>,
) -> FeedStats {
    let successes: Vec<&FetchRecord> = records.iter().filter(|r| !r.failed()).collect();
    let mut latencies: Vec<u64> = successes.iter().map(|r| r.ms_headers + r.ms_body).collect();
    latencies.sort_unstable();
    let median_latency_ms = (!latencies.is_empty()).then(|| latencies[latencies.len() / 2]);
    let not_modified_share = (!successes.is_empty()).then(|| {
        successes.iter().filter(|r| r.not_modified).count() as f64 / successes.len() as f64
    });
    FeedStats {
        feed_id: feed.id,
        title: feed.display_name().to_string(),
        url: feed.url.clone(),
        fetches: records.len() as u64,
        last_attempt_ms: records.first().map(|r| r.started_at_ms),
        last_success_ms: successes.first().map(|r| r.started_at_ms),
        failure_streak: records.iter().take_while(|r| r.failed()).count() as u64,
        last_status: records.first().and_then(|r| {
            if r.not_modified {
                Some(304)
            } else {
                r.http_status
            }
        }),
        median_latency_ms,
        not_modified_share,
        articles_per_week: recent_articles as f64 / 4.0,
        last_new_article: newest,
        last_error: records.first().filter(|r| r.failed()).map(|r| {
            format!(
                "{}: {}",
                r.error_kind.map(|k| k.as_str()).unwrap_or("error"),
                r.error_message.as_deref().unwrap_or("")
            )
        }),
        last_warning: records.first().and_then(|r| r.warning.clone()),
        gone: feed.gone,
    }
}

const FETCH_COLUMNS: &str = "started_at_ms, http_status, content_type, bytes_wire, bytes_decoded,
    ms_headers, ms_body, ms_parse, ms_store, ms_total, new_articles, updated_articles,
    unchanged_articles, total_articles, not_modified, redirect_to, error_kind, error_message,
    images_found, images_cached, images_failed, images_refused, image_bytes_wire,
    image_bytes_stored, ms_images, warning, proxy";

fn fetch_from_row(r: &rusqlite::Row) -> rusqlite::Result<FetchRecord> {
    fetch_from_row_at(r, 0)
}

fn fetch_from_row_at(r: &rusqlite::Row, at: usize) -> rusqlite::Result<FetchRecord> {
    Ok(FetchRecord {
        started_at_ms: r.get(at)?,
        http_status: r.get(at + 1)?,
        content_type: r.get(at + 2)?,
        bytes_wire: r.get(at + 3)?,
        bytes_decoded: r.get(at + 4)?,
        ms_headers: r.get(at + 5)?,
        ms_body: r.get(at + 6)?,
        ms_parse: r.get(at + 7)?,
        ms_store: r.get(at + 8)?,
        ms_total: r.get(at + 9)?,
        new_articles: r.get(at + 10)?,
        updated_articles: r.get(at + 11)?,
        unchanged_articles: r.get(at + 12)?,
        total_articles: r.get(at + 13)?,
        not_modified: r.get(at + 14)?,
        redirect_to: r.get(at + 15)?,
        error_kind: r
            .get::<_, Option<String>>(at + 16)?
            .map(|k| ErrorKind::parse(&k)),
        error_message: r.get(at + 17)?,
        images: ImageStats {
            found: r.get(at + 18)?,
            cached: r.get(at + 19)?,
            failed: r.get(at + 20)?,
            refused: r.get(at + 21)?,
            bytes_wire: r.get(at + 22)?,
            bytes_stored: r.get(at + 23)?,
            ms: r.get(at + 24)?,
        },
        warning: r.get(at + 25)?,
        proxy: r.get(at + 26)?,
    })
}

pub(super) fn insert_fetch_record(
    tx: &Transaction,
    feed: FeedId,
    run_id: Option<i64>,
    rec: &FetchRecord,
) -> rusqlite::Result<i64> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO fetches (feed_id, run_id, started_at_ms, http_status, content_type, bytes_wire,
            bytes_decoded, ms_headers, ms_body, ms_parse, ms_store, ms_total, new_articles,
            updated_articles, unchanged_articles, total_articles, not_modified, redirect_to,
            error_kind, error_message, warning, proxy)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                 ?21, ?22)",
    )?;
    stmt.execute(params![
        feed.0,
        run_id,
        rec.started_at_ms,
        rec.http_status,
        rec.content_type,
        rec.bytes_wire,
        rec.bytes_decoded,
        rec.ms_headers,
        rec.ms_body,
        rec.ms_parse,
        rec.ms_store,
        rec.ms_total,
        rec.new_articles,
        rec.updated_articles,
        rec.unchanged_articles,
        rec.total_articles,
        rec.not_modified,
        rec.redirect_to,
        rec.error_kind.map(|k| k.as_str()),
        rec.error_message,
        rec.warning,
        rec.proxy
    ])?;
    Ok(tx.last_insert_rowid())
}

#[cfg(test)]
impl Store {
    /// Makes every fetch record's store time (measured, so never the same
    /// twice) a fixed number, for screen snapshots.
    pub(crate) fn pin_store_times(&self, ms_store: u64) {
        self.conn
            .execute(
                "UPDATE fetches SET ms_total = ms_total - ms_store + ?1, ms_store = ?1",
                [ms_store],
            )
            .unwrap();
    }
}
