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
//! - A fetched feed's articles, HTTP validators and fetch record land together
//!   or not at all: [`Store::save_fetches`] saves a batch of fetches in one
//!   transaction (group commit), so each feed, and the batch, is all or nothing.
//! - Lists never select article bodies; unread counts come from a partial index.
//! - The two indexes by date are missing while a bulk first refresh runs
//!   (`bulk_load`); whatever leans on them reads the table meanwhile.
//! - The full-text index (FTS5, contentless) is kept in step with `articles` by
//!   this module alone: whoever deletes articles goes through here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use crate::model::{ErrorKind, Feed, FeedId, FeedListRow, FetchRecord, LastFetch, ParsedFeed};
pub use feed_settings::FeedSettings;
pub use filters::{Filtered, SavedFilter};
pub use images::{Evictable, ImageJob, ImageOutcome, ImageTotals};
pub use pages::PageTotals;
pub use proxies::ProxyStats;
pub use query::{QUERY_FEED_LIMIT, QueryCounts, QueryFeed};
pub use subscriptions::{Removed, SubscriptionsHook};
pub use sync::{FeedChanges, KnownCounts, PulledArticles, RemoteArticle, RemoteFeed, RemoteId};
pub use sync_queue::{FeedChange, Flag, PendingFlags};
pub use sync_records::{SyncRecord, SyncTotals};

/// How often the background checkpointer copies the WAL into the database.
/// Every 200 ms copied the pages rewritten by each of a big refresh's
/// transactions nearly every time; every 2 s copies them a tenth as often and
/// cut the CPU of a 19,000-feed cold refresh by a tenth (`benches/load.py`),
/// while the refresh writer's own limit still keeps the log under 256 MB.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

const MIGRATIONS: &[&str] = &[
    include_str!("store/migrations/0001_init.sql"),
    include_str!("store/migrations/0002_reader.sql"),
    include_str!("store/migrations/0003_images.sql"),
    include_str!("store/migrations/0004_counts_by_the_store.sql"),
    include_str!("store/migrations/0005_fetch_warnings.sql"),
    include_str!("store/migrations/0006_article_images.sql"),
    include_str!("store/migrations/0007_saved_feeds.sql"),
    include_str!("store/migrations/0008_downloads.sql"),
    include_str!("store/migrations/0009_podcast_episodes.sql"),
    include_str!("store/migrations/0010_rest_until.sql"),
    include_str!("store/migrations/0011_full_text.sql"),
    include_str!("store/migrations/0012_sync.sql"),
    include_str!("store/migrations/0013_query_feeds.sql"),
    include_str!("store/migrations/0014_filters.sql"),
    include_str!("store/migrations/0015_stories.sql"),
    include_str!("store/migrations/0016_proxies.sql"),
    include_str!("store/migrations/0017_feed_settings.sql"),
    include_str!("store/migrations/0018_query_index.sql"),
];

/// What went wrong with the database, in terms a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is locked by another process (is a refresh running?); try again shortly")]
    Locked,
    #[error("the database file is damaged ({0}); see `tidings repair`")]
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
    /// Until when the feed's server asked to be left alone (`<ttl>`,
    /// `sy:updatePeriod`, `max-age`): only a forced refresh fetches it sooner.
    pub rest_until: Option<i64>,
    pub gone: bool,
    /// The sync server has this feed: while sync is on, its articles come
    /// from there and it is not fetched here.
    pub synced: bool,
    /// The feed's own settings that a fetch needs (`None`: the config's).
    pub refresh_minutes: Option<u64>,
    pub images: Option<bool>,
    pub honour_rest: Option<bool>,
    pub proxy: Option<String>,
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
    /// Until when the feed asked to rest; `None` clears it.
    pub rest_until: Option<i64>,
}

/// One fetch to save: the feed, what the fetch changes, and its record.
pub struct FetchToSave<'a> {
    pub feed: FeedId,
    pub update: &'a FeedUpdate,
    pub record: &'a mut FetchRecord,
}

/// Counts of what a save did to the feed's articles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaveCounts {
    pub new: u64,
    /// New articles that repeat a story another feed has (see migration 0015),
    /// and of those, the ones read there already.
    pub copies: u64,
    pub copies_read: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub total: u64,
    pub removed: u64,
    /// The fetch record's row, for the image statistics that follow.
    pub fetch_id: i64,
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
    /// Told the subscriptions after every change to them (the OPML backup).
    on_subscriptions_changed: Option<SubscriptionsHook>,
    /// config.toml's filters, applied with the saved ones to new articles.
    config_filters: Vec<crate::query::Filter>,
    /// Each query feed's matches (all, unread) read since the cache last
    /// changed.
    query_cache: std::cell::RefCell<Vec<query::Matches>>,
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
        // 16 KiB pages (set only when the file is created): an article with its
        // body fits in one page instead of a chain of overflow pages, which makes
        // a cold refresh about a tenth faster and the file smaller.
        conn.execute_batch("PRAGMA page_size=16384")?;
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;
             PRAGMA wal_autocheckpoint=8192; PRAGMA journal_size_limit=67108864;",
        )?;
        // One plan per statement, whatever its parameters. Without this,
        // SQLite (3.54) plans a join over a table with a partial index
        // against the parameters' values, and rusqlite's statement cache,
        // clearing the parameters when a statement comes back, made it plan
        // again at every use: reading an article for the reader took 35 µs
        // where 8 do. The statements name their partial indexes' conditions
        // in the SQL (`read = 0`), never through a parameter.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        query::register_functions(&conn)?;
        if check {
            // Reading the schema fails at once on a file that is not a database. A full
            // quick_check costs a scan of the file (and of the search index) at every
            // start; damage found later by a query comes back as `Corrupt` just the same.
            conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                r.get::<_, i64>(0)
            })?;
        }
        let mut store = Store {
            conn,
            on_subscriptions_changed: None,
            config_filters: Vec::new(),
            query_cache: Default::default(),
        };
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

    /// How long a statement waits for another process's write before it fails
    /// with [`StoreError::Locked`] (10 s unless set).
    pub fn set_busy_timeout(&self, wait: Duration) -> Result<()> {
        Ok(self.conn.busy_timeout(wait)?)
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

    /// The subscriptions, in list order (saved feeds are not subscriptions:
    /// see [`Store::saved_feeds`]).
    pub fn feeds(&self) -> Result<Vec<Feed>> {
        self.feeds_where(false)
    }

    /// The feeds unsubscribed from with their starred articles kept.
    pub fn saved_feeds(&self) -> Result<Vec<Feed>> {
        self.feeds_where(true)
    }

    fn feeds_where(&self, saved: bool) -> Result<Vec<Feed>> {
        let mut tags = self.all_tags()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, url, fetch_url, coalesce(custom_title, feed_title), site_url, description, gone,
                    saved_at IS NOT NULL, custom_title IS NOT NULL, remote_id IS NOT NULL
             FROM feeds WHERE (saved_at IS NOT NULL) = ?1 ORDER BY position",
        )?;
        let rows = stmt.query_map([saved], feed_from_row)?;
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

    /// Finds a subscription by id, address, or title (exact, then a unique part of it).
    pub fn find_feed(&self, query: &str) -> Result<Vec<Feed>> {
        Ok(find_in(self.feeds()?, query))
    }

    /// Finds a saved feed the way [`Store::find_feed`] finds a subscription.
    pub fn find_saved_feed(&self, query: &str) -> Result<Vec<Feed>> {
        Ok(find_in(self.saved_feeds()?, query))
    }

    /// Every feed with its unread and total counts and its last fetch. The
    /// counts are kept by triggers and the last fetch is one index lookup per
    /// feed, so this costs the same at a thousand articles as at a million.
    pub fn feed_list(&self) -> Result<Vec<FeedListRow>> {
        let mut tags = self.all_tags()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.url, f.fetch_url, coalesce(f.custom_title, f.feed_title), f.site_url,
                    f.description, f.gone, f.saved_at IS NOT NULL, f.custom_title IS NOT NULL,
                    f.remote_id IS NOT NULL, f.unread_count, f.article_count,
                    l.started_at_ms, l.http_status, l.not_modified, l.error_kind, l.error_message,
                    l.warning
             FROM feeds f
             LEFT JOIN fetches l ON l.id =
                 (SELECT id FROM fetches WHERE feed_id = f.id ORDER BY id DESC LIMIT 1)
             ORDER BY f.position",
        )?;
        let rows = stmt.query_map([], |r| {
            let last_fetch = match r.get::<_, Option<i64>>(12)? {
                Some(started_at_ms) => Some(LastFetch {
                    started_at_ms,
                    http_status: r.get(13)?,
                    not_modified: r.get(14)?,
                    error_kind: r
                        .get::<_, Option<String>>(15)?
                        .map(|k| ErrorKind::parse(&k)),
                    error_message: r.get(16)?,
                    warning: r.get(17)?,
                }),
                None => None,
            };
            Ok(FeedListRow {
                feed: feed_from_row(r)?,
                unread: r.get(10)?,
                total: r.get(11)?,
                last_fetch,
            })
        })?;
        let mut list = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        for row in &mut list {
            row.feed.tags = tags.remove(&row.feed.id).unwrap_or_default();
        }
        Ok(list)
    }

    /// The address a feed is fetched from (for what its articles point at:
    /// a public feed's images and pages may not lead to private addresses).
    pub fn fetch_url_of(&self, feed: FeedId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT fetch_url FROM feeds WHERE id = ?1")?
            .query_row([feed.0], |r| r.get(0))
            .optional()?)
    }

    /// The feeds to consider for a refresh (all, or those named).
    pub fn fetch_targets(&self, only: Option<&[FeedId]>) -> Result<Vec<FetchTarget>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, coalesce(custom_title, feed_title, url), fetch_url, etag, last_modified,
                    next_fetch_at, retry_after_until, gone, rest_until, remote_id IS NOT NULL,
                    refresh_minutes, images, honour_rest, proxy
             FROM feeds WHERE saved_at IS NULL ORDER BY position",
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
                rest_until: r.get(8)?,
                synced: r.get(9)?,
                refresh_minutes: r.get(10)?,
                images: r.get(11)?,
                honour_rest: r.get(12)?,
                proxy: r.get(13)?,
            })
        })?;
        let mut targets = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        if let Some(only) = only {
            targets.retain(|t| only.contains(&t.id));
        }
        Ok(targets)
    }

    /// Checkpoints the whole WAL and truncates it once the file has grown past
    /// `limit_bytes`, for the writer to call between transactions. The
    /// background checkpoints copy pages as they come, but a writer that never
    /// pauses never lets the log start over, and a cold refresh of large feeds
    /// grew it to twice the database. A reader holding an old snapshot makes
    /// this give up at once (it is tried again after the next transaction).
    pub fn keep_wal_under(&self, limit_bytes: u64) -> Result<()> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let wal = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
        if wal <= limit_bytes {
            return Ok(());
        }
        let busy_ms: u64 = self
            .conn
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
        self.conn.busy_timeout(Duration::from_millis(100))?;
        let done = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            });
        self.conn.busy_timeout(Duration::from_millis(busy_ms))?;
        match done {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy)
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Copies the whole WAL into the database and truncates it, for a
    /// command to call when it is done writing: the log of even a small run
    /// otherwise stays on disk at its largest while a reader keeps the
    /// database open. Gives up at once when a reader holds an old snapshot.
    pub fn truncate_wal(&self) -> Result<()> {
        self.keep_wal_under(0)
    }

    /// Moves this connection's WAL checkpoints to a thread of their own, with
    /// its own connection, for as long as the returned guard lives. The refresh
    /// worker's single writer then never stops to copy pages into the database
    /// file; the copying happens on the other core while the writer goes on.
    /// (This connection's automatic checkpoints stay off: it is the worker's.)
    /// A checkpoint copies the last version of each page the log holds, so
    /// the pages a refresh rewrites in every transaction (the date indexes,
    /// the search index's newest segments) are copied once per checkpoint,
    /// not once per transaction: see [`CHECKPOINT_EVERY`].
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
                    stopped.recv_timeout(CHECKPOINT_EVERY)
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
}

/// The feeds of `feeds` that `query` names: by id, address, or title (exact,
/// then a part of it).
fn find_in(feeds: Vec<Feed>, query: &str) -> Vec<Feed> {
    let q = query.trim();
    if let Ok(id) = q.parse::<i64>()
        && let Some(feed) = feeds.iter().find(|f| f.id.0 == id)
    {
        return vec![feed.clone()];
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
        return exact;
    }
    let lower = q.to_lowercase();
    feeds
        .into_iter()
        .filter(|f| {
            f.url.to_lowercase().contains(&lower)
                || f.title
                    .as_deref()
                    .is_some_and(|t| t.to_lowercase().contains(&lower))
        })
        .collect()
}

/// A feed from the first ten columns of a row: id, url, fetch_url, title,
/// site_url, description, gone, saved, renamed, synced (tags are added by the
/// caller).
fn feed_from_row(r: &rusqlite::Row) -> rusqlite::Result<Feed> {
    Ok(Feed {
        id: FeedId(r.get(0)?),
        url: r.get(1)?,
        fetch_url: r.get(2)?,
        title: r.get(3)?,
        site_url: r.get(4)?,
        description: r.get(5)?,
        tags: Vec::new(),
        gone: r.get(6)?,
        saved: r.get(7)?,
        renamed: r.get(8)?,
        synced: r.get(9)?,
    })
}

mod articles;
mod bulk_load;
mod downloads;
mod feed_settings;
mod filters;
mod images;
mod pages;
mod proxies;
mod query;
mod reader;
pub mod repair;
mod stats;
mod subscriptions;
mod sync;
mod sync_queue;
mod sync_records;

#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod query_tests;
#[cfg(test)]
mod story_tests;
#[cfg(test)]
mod subscription_tests;
#[cfg(test)]
mod sync_tests;
#[cfg(test)]
mod tests;
