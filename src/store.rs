//! The SQLite cache: every line of SQL in tidings lives here, behind typed
//! methods named for their callers. No `rusqlite` type leaks out; errors become
//! [`StoreError`], which says in words what a user can do (another process holds
//! the lock, the file is damaged, the disk is full).
//!
//! Invariants:
//! - WAL, `synchronous=NORMAL`, foreign keys on, a busy timeout, so a cron
//!   `tidings refresh` and an open reader share the file safely.
//! - Migrations are an append-only list applied by `user_version`; running them
//!   twice changes nothing.
//! - One transaction per fetched feed ([`Store::save_fetch`]): its articles, its
//!   HTTP validators and its fetch record land together or not at all.
//! - Lists never select article bodies; unread counts come from a partial index.
//! - The full-text index (FTS5, contentless) is kept in step with `articles` by
//!   this module alone: whoever deletes articles goes through here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::config::RetentionConfig;
use crate::model::{
    Article, ArticleId, ArticleSummary, ErrorKind, Feed, FeedId, FeedListRow, FeedStats,
    FetchRecord, LastFetch, ParsedFeed, RunStats, SearchHit, SlowFetch,
};

const MIGRATIONS: &[&str] = &[include_str!("store/migrations/0001_init.sql")];

/// What went wrong with the database, in terms a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is locked by another process (is a refresh running?); try again shortly")]
    Locked,
    #[error("the database file is damaged ({0}); move it aside to start afresh")]
    Corrupt(String),
    #[error("the disk is full: the database could not be written")]
    DiskFull,
    #[error("the database is read-only: {0}")]
    ReadOnly(String),
    #[error(
        "this database was written by a newer tidings (schema {found}, this one knows {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("database error: {0}")]
    Other(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                StoreError::Corrupt(e.to_string())
            }
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly(e.to_string()),
            _ => StoreError::Other(e.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A feed as the refresher needs it: where to fetch and what to send back.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchTarget {
    pub id: FeedId,
    pub title: String,
    pub fetch_url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_fetch_at: Option<i64>,
    pub retry_after_until: Option<i64>,
    pub gone: bool,
}

/// What one fetch changes about a feed, besides its articles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedUpdate {
    /// The parsed document, on a 200 that parsed.
    pub parsed: Option<ParsedFeed>,
    /// New validators; `None` keeps the stored ones.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// A permanent redirect's target: fetch there from now on.
    pub moved_to: Option<String>,
    pub gone: bool,
    pub retry_after_until: Option<i64>,
    pub next_fetch_at: Option<i64>,
    pub min_interval_secs: Option<i64>,
}

/// Counts of what a save did to the feed's articles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaveCounts {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub total: u64,
    pub removed: u64,
}

/// A subscription to add: what `add` and the importers know about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewSubscription {
    pub url: String,
    /// The user's own name for the feed (newsboat's `"~Title"`): it wins over the feed's.
    pub title: Option<String>,
    /// A name to show until the first fetch brings the feed's own (an OPML title).
    pub feed_title: Option<String>,
    pub tags: Vec<String>,
}

pub struct Store {
    conn: Connection,
}

/// Runs WAL checkpoints in the background until dropped (then one last time).
pub struct BackgroundCheckpoints {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for BackgroundCheckpoints {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, migrates it and checks it.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        Store::setup(conn, true)
    }

    pub fn open_in_memory() -> Result<Store> {
        Store::setup(Connection::open_in_memory()?, false)
    }

    fn setup(conn: Connection, check: bool) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(10))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;
             PRAGMA wal_autocheckpoint=8192; PRAGMA journal_size_limit=67108864;",
        )?;
        if check {
            // Reading the schema fails at once on a file that is not a database. A full
            // quick_check costs a scan of the file (and of the search index) at every
            // start; damage found later by a query comes back as `Corrupt` just the same.
            conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                r.get::<_, i64>(0)
            })?;
        }
        let mut store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// SQLite's own consistency check of the whole file: slow on a big cache.
    pub fn check_integrity(&self) -> Result<()> {
        let verdict: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(verdict))
        }
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    // ---- subscriptions ---------------------------------------------------------

    /// Subscribes to `url`; returns the feed and whether it is new. An existing
    /// subscription keeps its state and gains the tags (and a title, if it had none).
    pub fn add_feed(&mut self, sub: &NewSubscription) -> Result<(FeedId, bool)> {
        let tx = self.conn.transaction()?;
        let existing: Option<i64> = tx
            .query_row(
                // A feed that moved is the same subscription under its new address too.
                "SELECT id FROM feeds WHERE url = ?1 OR fetch_url = ?1 ORDER BY url = ?1 DESC LIMIT 1",
                [&sub.url],
                |r| r.get(0),
            )
            .optional()?;
        let (id, new) = match existing {
            Some(id) => {
                tx.execute(
                    "UPDATE feeds SET custom_title = coalesce(custom_title, ?2),
                            feed_title = coalesce(feed_title, ?3) WHERE id = ?1",
                    params![id, sub.title, sub.feed_title],
                )?;
                (id, false)
            }
            None => {
                tx.execute(
                    "INSERT INTO feeds (url, fetch_url, custom_title, feed_title, added_at, position)
                     VALUES (?1, ?1, ?2, ?3, unixepoch(), (SELECT coalesce(max(position), 0) + 1 FROM feeds))",
                    params![sub.url, sub.title, sub.feed_title],
                )?;
                (tx.last_insert_rowid(), true)
            }
        };
        for tag in &sub.tags {
            tx.execute(
                "INSERT OR IGNORE INTO feed_tags (feed_id, tag, position)
                 VALUES (?1, ?2, (SELECT count(*) FROM feed_tags WHERE feed_id = ?1))",
                params![id, tag],
            )?;
        }
        tx.commit()?;
        Ok((FeedId(id), new))
    }

    /// Unsubscribes: the feed, its articles and its statistics go.
    pub fn remove_feed(&mut self, id: FeedId) -> Result<bool> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM articles_fts WHERE rowid IN (SELECT id FROM articles WHERE feed_id = ?1)",
            [id.0],
        )?;
        let removed = tx.execute("DELETE FROM feeds WHERE id = ?1", [id.0])? > 0;
        tx.commit()?;
        Ok(removed)
    }

    pub fn feeds(&self) -> Result<Vec<Feed>> {
        let mut tags = self.all_tags()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, url, fetch_url, coalesce(custom_title, feed_title), site_url, description, gone
             FROM feeds ORDER BY position",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Feed {
                id: FeedId(r.get(0)?),
                url: r.get(1)?,
                fetch_url: r.get(2)?,
                title: r.get(3)?,
                site_url: r.get(4)?,
                description: r.get(5)?,
                tags: Vec::new(),
                gone: r.get(6)?,
            })
        })?;
        let mut feeds = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        for feed in &mut feeds {
            feed.tags = tags.remove(&feed.id).unwrap_or_default();
        }
        Ok(feeds)
    }

    fn all_tags(&self) -> Result<HashMap<FeedId, Vec<String>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT feed_id, tag FROM feed_tags ORDER BY feed_id, position")?;
        let mut tags: HashMap<FeedId, Vec<String>> = HashMap::new();
        let rows = stmt.query_map([], |r| Ok((FeedId(r.get(0)?), r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, tag) = row?;
            tags.entry(id).or_default().push(tag);
        }
        Ok(tags)
    }

    /// Finds a feed by id, address, or title (exact, then a unique part of it).
    pub fn find_feed(&self, query: &str) -> Result<Vec<Feed>> {
        let feeds = self.feeds()?;
        let q = query.trim();
        if let Ok(id) = q.parse::<i64>()
            && let Some(feed) = feeds.iter().find(|f| f.id.0 == id)
        {
            return Ok(vec![feed.clone()]);
        }
        let exact: Vec<Feed> = feeds
            .iter()
            .filter(|f| {
                f.url == q
                    || f.fetch_url == q
                    || f.title
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case(q))
            })
            .cloned()
            .collect();
        if !exact.is_empty() {
            return Ok(exact);
        }
        let lower = q.to_lowercase();
        Ok(feeds
            .into_iter()
            .filter(|f| {
                f.url.to_lowercase().contains(&lower)
                    || f.title
                        .as_deref()
                        .is_some_and(|t| t.to_lowercase().contains(&lower))
            })
            .collect())
    }

    /// Every feed with its unread and total counts and its last fetch.
    pub fn feed_list(&self) -> Result<Vec<FeedListRow>> {
        let mut counts: HashMap<i64, (u64, u64)> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT feed_id, count(*) FROM articles GROUP BY feed_id")?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, u64>(1)?)))? {
                let (id, n) = row?;
                counts.entry(id).or_default().1 = n;
            }
            let mut stmt = self.conn.prepare_cached(
                "SELECT feed_id, count(*) FROM articles WHERE read = 0 GROUP BY feed_id",
            )?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, u64>(1)?)))? {
                let (id, n) = row?;
                counts.entry(id).or_default().0 = n;
            }
        }
        let mut last: HashMap<i64, LastFetch> = HashMap::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT f.feed_id, f.started_at_ms, f.http_status, f.not_modified, f.error_kind, f.error_message
                 FROM fetches f
                 JOIN (SELECT feed_id, max(id) AS id FROM fetches GROUP BY feed_id) m ON m.id = f.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    LastFetch {
                        started_at_ms: r.get(1)?,
                        http_status: r.get(2)?,
                        not_modified: r.get(3)?,
                        error_kind: r.get::<_, Option<String>>(4)?.map(|k| ErrorKind::parse(&k)),
                        error_message: r.get(5)?,
                    },
                ))
            })?;
            for row in rows {
                let (id, fetch) = row?;
                last.insert(id, fetch);
            }
        }
        Ok(self
            .feeds()?
            .into_iter()
            .map(|feed| {
                let (unread, total) = counts.get(&feed.id.0).copied().unwrap_or_default();
                let last_fetch = last.remove(&feed.id.0);
                FeedListRow {
                    feed,
                    unread,
                    total,
                    last_fetch,
                }
            })
            .collect())
    }

    // ---- the refresher's side ---------------------------------------------------------

    /// The feeds to consider for a refresh (all, or those named).
    pub fn fetch_targets(&self, only: Option<&[FeedId]>) -> Result<Vec<FetchTarget>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, coalesce(custom_title, feed_title, url), fetch_url, etag, last_modified,
                    next_fetch_at, retry_after_until, gone
             FROM feeds ORDER BY position",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FetchTarget {
                id: FeedId(r.get(0)?),
                title: r.get(1)?,
                fetch_url: r.get(2)?,
                etag: r.get(3)?,
                last_modified: r.get(4)?,
                next_fetch_at: r.get(5)?,
                retry_after_until: r.get(6)?,
                gone: r.get(7)?,
            })
        })?;
        let mut targets = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        if let Some(only) = only {
            targets.retain(|t| only.contains(&t.id));
        }
        Ok(targets)
    }

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
        let started = Instant::now();
        let tx = self.conn.transaction()?;
        let mut counts = SaveCounts::default();
        if let Some(parsed) = &update.parsed {
            counts = upsert_articles(&tx, feed, parsed, now)?;
            counts.removed = apply_retention(&tx, feed, now, retention)?;
            tx.execute(
                "UPDATE feeds SET feed_title = coalesce(?2, feed_title), site_url = coalesce(?3, site_url),
                        description = coalesce(?4, description) WHERE id = ?1",
                params![feed.0, parsed.title, parsed.site_url, parsed.description],
            )?;
        }
        tx.execute(
            "UPDATE feeds SET etag = coalesce(?2, etag), last_modified = coalesce(?3, last_modified),
                    fetch_url = coalesce(?4, fetch_url), gone = ?5, retry_after_until = ?6,
                    next_fetch_at = coalesce(?7, next_fetch_at),
                    min_interval_secs = coalesce(?8, min_interval_secs)
             WHERE id = ?1",
            params![
                feed.0,
                update.etag,
                update.last_modified,
                update.moved_to,
                update.gone,
                update.retry_after_until,
                update.next_fetch_at,
                update.min_interval_secs
            ],
        )?;
        counts.total = tx.query_row(
            "SELECT count(*) FROM articles WHERE feed_id = ?1",
            [feed.0],
            |r| r.get(0),
        )?;
        record.new_articles = counts.new;
        record.updated_articles = counts.updated;
        record.unchanged_articles = counts.unchanged;
        record.total_articles = counts.total;
        record.ms_store = started.elapsed().as_millis() as u64;
        record.ms_total += record.ms_store;
        insert_fetch_record(&tx, feed, run_id, record)?;
        if retention.fetch_history > 0 {
            tx.execute(
                "DELETE FROM fetches WHERE feed_id = ?1 AND id NOT IN
                   (SELECT id FROM fetches WHERE feed_id = ?1 ORDER BY id DESC LIMIT ?2)",
                params![feed.0, retention.fetch_history],
            )?;
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Moves this connection's WAL checkpoints to a thread of their own, with
    /// its own connection, for as long as the returned guard lives. The refresh
    /// worker's single writer then never stops to copy pages into the database
    /// file; the copying happens on the other core while the writer goes on.
    /// (This connection's automatic checkpoints stay off: it is the worker's.)
    pub fn background_checkpoints(&mut self) -> Result<BackgroundCheckpoints> {
        let Some(path) = self
            .conn
            .path()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
        else {
            return Ok(BackgroundCheckpoints {
                stop: None,
                thread: None,
            });
        };
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpointer = Connection::open(&path)?;
        checkpointer.busy_timeout(Duration::from_secs(1))?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("tidings-checkpoint".into())
            .spawn(move || {
                let checkpoint = || {
                    let done = checkpointer
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
                    if let Err(e) = done {
                        tracing::warn!("checkpoint failed: {e}");
                    }
                };
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(Duration::from_millis(100))
                {
                    checkpoint();
                }
                checkpoint();
            })
            .map_err(|e| StoreError::Other(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(BackgroundCheckpoints {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    // ---- reading articles ---------------------------------------------------------

    /// A page of a feed's articles, newest first, without bodies.
    pub fn articles(&self, feed: FeedId, offset: u64, limit: u64) -> Result<Vec<ArticleSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, feed_id, title, link, author, sort_time, read, starred FROM articles
             WHERE feed_id = ?1 ORDER BY sort_time DESC, id DESC LIMIT ?2 OFFSET ?3",
        )?;
        let rows = stmt.query_map(params![feed.0, limit, offset], summary_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn article(&self, id: ArticleId) -> Result<Option<Article>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{ARTICLE_SELECT} WHERE id = ?1"))?;
        Ok(stmt.query_row([id.0], article_from_row).optional()?)
    }

    /// Every article of a feed with its body, newest first (for the export).
    pub fn feed_articles(&self, feed: FeedId) -> Result<Vec<Article>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ARTICLE_SELECT} WHERE feed_id = ?1 ORDER BY sort_time DESC, id DESC"
        ))?;
        let rows = stmt.query_map([feed.0], article_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn set_read(&mut self, id: ArticleId, read: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE articles SET read = ?2 WHERE id = ?1",
            params![id.0, read],
        )?;
        Ok(())
    }

    pub fn set_starred(&mut self, id: ArticleId, starred: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE articles SET starred = ?2 WHERE id = ?1",
            params![id.0, starred],
        )?;
        Ok(())
    }

    pub fn mark_feed_read(&mut self, feed: FeedId) -> Result<u64> {
        Ok(self.conn.execute(
            "UPDATE articles SET read = 1 WHERE feed_id = ?1 AND read = 0",
            [feed.0],
        )? as u64)
    }

    /// Full-text search over titles and bodies: every word of the query must
    /// appear; articles with all of them in the title come first, then the
    /// newest. Words are quoted, so FTS syntax in the query is inert.
    pub fn search(&self, query: &str, limit: u64) -> Result<Vec<SearchHit>> {
        let Some(words) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let in_title = format!("{{title}} : ({words})");
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, a.feed_id, a.title, a.link, a.author, a.sort_time, a.read, a.starred,
                    coalesce(f.custom_title, f.feed_title, f.url),
                    a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?2) AS in_title
             FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
             JOIN feeds f ON f.id = a.feed_id
             WHERE articles_fts MATCH ?1
             ORDER BY in_title DESC, a.sort_time DESC, a.id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![words, in_title, limit], |r| {
            Ok(SearchHit {
                article: summary_from_row(r)?,
                feed_title: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    // ---- statistics -----------------------------------------------------------------

    /// A feed's kept fetch records, newest first.
    pub fn fetch_history(&self, feed: FeedId, limit: u64) -> Result<Vec<FetchRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{FETCH_SELECT} WHERE feed_id = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![feed.0, limit], fetch_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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
            let mut stmt = self.conn.prepare_cached(
                "SELECT feed_id, sum(sort_time > ?1), max(sort_time) FROM articles GROUP BY feed_id",
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
                        },
                    ))
                },
            )
            .optional()?;
        let Some((run_id, stats)) = run else {
            return Ok(None);
        };
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
        gone: feed.gone,
    }
}

const ARTICLE_SELECT: &str = "SELECT id, feed_id, guid, title, link, author, published, updated,
    first_seen, summary, content, categories, enclosures, read, starred FROM articles";

fn article_from_row(r: &rusqlite::Row) -> rusqlite::Result<Article> {
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
    })
}

fn summary_from_row(r: &rusqlite::Row) -> rusqlite::Result<ArticleSummary> {
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

const FETCH_COLUMNS: &str = "started_at_ms, http_status, content_type, bytes_wire, bytes_decoded,
    ms_headers, ms_body, ms_parse, ms_store, ms_total, new_articles, updated_articles,
    unchanged_articles, total_articles, not_modified, redirect_to, error_kind, error_message";
const FETCH_SELECT: &str = "SELECT started_at_ms, http_status, content_type, bytes_wire, bytes_decoded,
    ms_headers, ms_body, ms_parse, ms_store, ms_total, new_articles, updated_articles,
    unchanged_articles, total_articles, not_modified, redirect_to, error_kind, error_message FROM fetches";

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
    })
}

fn insert_fetch_record(
    tx: &Transaction,
    feed: FeedId,
    run_id: Option<i64>,
    rec: &FetchRecord,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO fetches (feed_id, run_id, started_at_ms, http_status, content_type, bytes_wire,
            bytes_decoded, ms_headers, ms_body, ms_parse, ms_store, ms_total, new_articles,
            updated_articles, unchanged_articles, total_articles, not_modified, redirect_to,
            error_kind, error_message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
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
        rec.error_message
    ])?;
    Ok(())
}

/// Inserts new articles, rewrites changed ones (keeping read/starred), and marks
/// every article of the document as seen now. The feed's existing keys are read
/// once, so each article costs one statement, not a lookup and a write.
fn upsert_articles(
    tx: &Transaction,
    feed: FeedId,
    parsed: &ParsedFeed,
    now: i64,
) -> rusqlite::Result<SaveCounts> {
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
    let mut insert = tx.prepare_cached(
        "INSERT INTO articles (feed_id, guid_key, guid, title, link, author, published, updated,
            first_seen, last_seen, sort_time, summary, content, categories, enclosures, content_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE articles SET guid = ?2, title = ?3, link = ?4, author = ?5, published = ?6,
            updated = ?7, last_seen = ?8, sort_time = coalesce(?6, ?7, first_seen), summary = ?9,
            content = ?10, categories = ?11, enclosures = ?12, content_hash = ?13
         WHERE id = ?1",
    )?;
    let mut touch = tx.prepare_cached("UPDATE articles SET last_seen = ?2 WHERE id = ?1")?;
    let mut fts_delete = tx.prepare_cached("DELETE FROM articles_fts WHERE rowid = ?1")?;
    let mut fts_insert =
        tx.prepare_cached("INSERT INTO articles_fts (rowid, title, body) VALUES (?1, ?2, ?3)")?;

    let mut counts = SaveCounts::default();
    for a in &parsed.articles {
        let categories = serde_json::to_string(&a.categories).unwrap_or_else(|_| "[]".into());
        let enclosures = serde_json::to_string(&a.enclosures).unwrap_or_else(|_| "[]".into());
        let hash = &a.fingerprint;
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
                    hash
                ])?;
                fts_delete.execute([id])?;
                counts.updated += 1;
                *id
            }
            None => {
                let sort_time = a.published.or(a.updated).unwrap_or(now);
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
                    hash
                ])?;
                counts.new += 1;
                tx.last_insert_rowid()
            }
        };
        fts_insert.execute(params![id, a.title, a.search_text])?;
    }
    Ok(counts)
}

/// Drops the feed's articles that retention no longer keeps: only read, unstarred
/// ones that the latest document no longer lists (or they would come back as new).
fn apply_retention(
    tx: &Transaction,
    feed: FeedId,
    now: i64,
    retention: &RetentionConfig,
) -> rusqlite::Result<u64> {
    if retention.keep_articles == 0 && retention.keep_days == 0 {
        return Ok(0);
    }
    let oldest_kept = if retention.keep_days > 0 {
        now - retention.keep_days as i64 * 86_400
    } else {
        i64::MIN
    };
    let keep = if retention.keep_articles > 0 {
        retention.keep_articles as i64
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
    let mut fts_delete = tx.prepare_cached("DELETE FROM articles_fts WHERE rowid = ?1")?;
    for id in &ids {
        fts_delete.execute([id])?;
    }
    Ok(ids.len() as u64)
}

/// The words of the user's query (letters and digits), each quoted and AND-ed,
/// so operators and quotes in the query are searched for, never interpreted.
fn fts_query(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests;
