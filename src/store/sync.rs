//! The store's side of sync: which local feed and article is which on the
//! server, what is waiting to be pushed, and the record of every sync.
//!
//! What waits to be pushed lives in the rows it is about, so it survives
//! crashes and days offline and is never pushed twice:
//! - a read or star change: an article whose `read`/`starred` differs from
//!   the state the server last had (`remote_read`/`remote_starred`);
//! - a subscription: an http(s) feed with no `remote_id` yet;
//! - an unsubscription: a row of `sync_queue`, since the feed's row is gone;
//! - a synced feed's new name or category: a row of `sync_queue` too (the
//!   latest of each kind for a feed replaces the one before).
//!
//! State from the server never overwrites a change that is waiting: an
//! article whose state differs from `remote_*` keeps its own.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, Transaction, params};

use super::articles::{ImageLinks, apply_retention, recount, upsert_articles};
use super::subscriptions::{add_in, remove_in};
use super::{NewSubscription, Result, Store};
use crate::config::RetentionConfig;
use crate::model::{FeedId, ParsedArticle, ParsedFeed};

/// The server's id for a feed or an article.
pub type RemoteId = i64;

/// A subscription as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFeed {
    pub id: RemoteId,
    pub url: String,
    pub title: String,
    /// Its category, which becomes a tag (none: uncategorised).
    pub category: Option<String>,
}

/// An article pulled from the server, ready to store: its fields as a parsed
/// article (`guid_key` is filled in here) and its state there.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteArticle {
    pub id: RemoteId,
    pub feed: RemoteId,
    pub article: ParsedArticle,
    pub unread: bool,
    pub starred: bool,
}

/// What applying the server's subscriptions changed here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedChanges {
    pub added: u64,
    pub removed: u64,
    pub linked: u64,
}

/// What saving a page of pulled articles did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PulledArticles {
    pub new: u64,
    /// Articles whose read or starred state changed here.
    pub states_changed: u64,
    /// Feeds that got new articles (their images are fetched next).
    pub feeds_with_new: HashSet<FeedId>,
}

/// Read and star changes waiting for the server, as the server's article ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingFlags {
    pub read: Vec<RemoteId>,
    pub unread: Vec<RemoteId>,
    pub starred: Vec<RemoteId>,
    pub unstarred: Vec<RemoteId>,
}

impl PendingFlags {
    pub fn len(&self) -> usize {
        self.read.len() + self.unread.len() + self.starred.len() + self.unstarred.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The flag a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Read,
    Starred,
}

/// A synced feed's counts as this device knows the server's state: unread
/// and starred articles it holds, plus those the server has beyond them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownCounts {
    pub feed: FeedId,
    pub unread: u64,
    pub starred: u64,
}

/// One sync: what it did, what it cost, how it failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncRecord {
    pub started_at: i64,
    pub backend: String,
    pub server: String,
    pub requests: u64,
    pub bytes: u64,
    pub feeds_added: u64,
    pub feeds_removed: u64,
    pub articles_pulled: u64,
    pub states_pulled: u64,
    pub changes_pushed: u64,
    pub changes_left: u64,
    pub ms_login: u64,
    pub ms_push: u64,
    pub ms_feeds: u64,
    pub ms_articles: u64,
    pub ms_state: u64,
    pub ms_images: u64,
    pub ms_total: u64,
    pub error_kind: Option<String>,
    pub error: Option<String>,
    /// What went wrong without failing the sync (a feed the server would not
    /// subscribe to).
    pub warnings: Vec<String>,
}

/// Syncs so far, for `tidings stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncTotals {
    pub syncs: u64,
    pub failed: u64,
    pub failures: Vec<(String, u64)>,
    pub articles_pulled: u64,
    pub changes_pushed: u64,
    pub last_ok_at: Option<i64>,
}

/// The kinds of `sync_queue` rows about a feed the server has.
pub(super) const RENAME: &str = "rename";
pub(super) const CATEGORY: &str = "category";

/// A change to a synced feed waiting for the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedChange {
    Rename(String),
    /// Its category (none: uncategorised).
    Category(Option<String>),
}

const ACCOUNT: &str = "sync.account";
const LAST_ARTICLE: &str = "sync.last_article_id";
const MEMORY: &str = "sync.memory";

impl Store {
    /// Makes the ids this store holds belong to `account` (backend, server and
    /// user): ids of another server mean nothing, so a new account starts from
    /// no ids (its feeds are offered to the new server). Returns whether it changed.
    pub fn use_sync_account(&mut self, account: &str) -> Result<bool> {
        if self.setting(ACCOUNT)?.as_deref() == Some(account) {
            return Ok(false);
        }
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "UPDATE feeds SET remote_id = NULL, remote_category = NULL, sync_refused = NULL,
                    remote_unread_beyond = 0, remote_starred_beyond = 0;
             UPDATE articles SET remote_id = NULL, remote_read = NULL, remote_starred = NULL
                 WHERE remote_id IS NOT NULL;
             DELETE FROM sync_queue;
             DELETE FROM settings WHERE key IN ('sync.last_article_id', 'sync.memory');",
        )?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![ACCOUNT, account],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// The highest server article id pulled so far (0: none).
    pub fn last_pulled_article(&self) -> Result<RemoteId> {
        Ok(self
            .setting(LAST_ARTICLE)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    pub fn set_last_pulled_article(&mut self, id: RemoteId) -> Result<()> {
        self.set_setting(LAST_ARTICLE, &id.to_string())
    }

    /// What the backend keeps between syncs (its session, so that a sync
    /// need not log in each time; names it learned). Never logged or shown.
    pub fn sync_memory(&self) -> Result<Option<String>> {
        self.setting(MEMORY)
    }

    pub fn set_sync_memory(&mut self, memory: &str) -> Result<()> {
        self.set_setting(MEMORY, memory)
    }

    /// Feeds subscribed here that the server does not have yet.
    pub fn feeds_to_subscribe(&self) -> Result<Vec<(FeedId, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, url FROM feeds
             WHERE remote_id IS NULL AND saved_at IS NULL AND sync_refused IS NULL
               AND (url LIKE 'http://%' OR url LIKE 'https://%')
             ORDER BY position",
        )?;
        let rows = stmt.query_map([], |r| Ok((FeedId(r.get(0)?), r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Records that the server has `feed` as `remote`. Returns false when
    /// another subscription here is that server feed already (two addresses
    /// of one feed): this one is then left on this device, with the reason.
    pub fn link_feed(&mut self, feed: FeedId, remote: RemoteId) -> Result<bool> {
        let taken: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM feeds WHERE remote_id = ?1 AND id != ?2",
                params![remote, feed.0],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            self.refuse_feed(feed, "the server has it as another subscription")?;
            return Ok(false);
        }
        self.conn.execute(
            "UPDATE feeds SET remote_id = ?2, sync_refused = NULL WHERE id = ?1",
            params![feed.0, remote],
        )?;
        Ok(true)
    }

    /// Keeps `feed` on this device only: the server would not subscribe to it.
    pub fn refuse_feed(&mut self, feed: FeedId, why: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE feeds SET sync_refused = ?2 WHERE id = ?1",
            params![feed.0, why],
        )?;
        Ok(())
    }

    /// Unsubscriptions waiting for the server: (queue row, server feed id).
    pub fn queued_unsubscriptions(&self) -> Result<Vec<(i64, RemoteId)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, remote_feed FROM sync_queue WHERE kind = 'unsubscribe' ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The server has the queued change `id`: it leaves the queue.
    pub fn unqueue(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM sync_queue WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Renames and category changes waiting for the server: (queue row,
    /// server feed id, change), oldest first.
    pub fn queued_feed_changes(&self) -> Result<Vec<(i64, RemoteId, FeedChange)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, remote_feed, kind, url FROM sync_queue
             WHERE kind IN ('rename', 'category') ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let kind: String = r.get(2)?;
            let value: Option<String> = r.get(3)?;
            let change = if kind == RENAME {
                FeedChange::Rename(value.unwrap_or_default())
            } else {
                FeedChange::Category(value.filter(|v| !v.is_empty()))
            };
            Ok((r.get(0)?, r.get(1)?, change))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// After a feed was first sent to the server: its name and tags given
    /// here follow it there.
    pub fn queue_feed_details(&mut self, feed: FeedId) -> Result<()> {
        let tx = self.conn.transaction()?;
        let title: Option<String> = tx.query_row(
            "SELECT custom_title FROM feeds WHERE id = ?1",
            [feed.0],
            |r| r.get(0),
        )?;
        if let Some(title) = title {
            queue_feed_change(&tx, feed, RENAME, &title)?;
        }
        let tags: Vec<String> = {
            let mut stmt = tx
                .prepare_cached("SELECT tag FROM feed_tags WHERE feed_id = ?1 ORDER BY position")?;
            stmt.query_map([feed.0], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        queue_category_of(&tx, feed, &tags)?;
        tx.commit()?;
        Ok(())
    }

    /// The server took a queued category: it is the feed's server category
    /// now, so the next pull does not take the tag back.
    pub fn category_pushed(&mut self, remote: RemoteId, category: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE feeds SET remote_category = ?2 WHERE remote_id = ?1",
            params![remote, category],
        )?;
        Ok(())
    }

    /// Read and star changes made here and not yet on the server.
    pub fn pending_flags(&self) -> Result<PendingFlags> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT remote_id, read, starred, remote_read, remote_starred FROM articles
             WHERE remote_id IS NOT NULL AND (read != remote_read OR starred != remote_starred)",
        )?;
        let mut pending = PendingFlags::default();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: RemoteId = r.get(0)?;
            let (read, starred): (bool, bool) = (r.get(1)?, r.get(2)?);
            let (remote_read, remote_starred): (bool, bool) = (r.get(3)?, r.get(4)?);
            if read != remote_read {
                if read {
                    &mut pending.read
                } else {
                    &mut pending.unread
                }
                .push(id);
            }
            if starred != remote_starred {
                if starred {
                    &mut pending.starred
                } else {
                    &mut pending.unstarred
                }
                .push(id);
            }
        }
        Ok(pending)
    }

    /// The server now has `flag` set to `on` for these articles. An article
    /// changed again meanwhile still differs, and is pushed next time.
    pub fn confirm_pushed(&mut self, ids: &[RemoteId], flag: Flag, on: bool) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(match flag {
                Flag::Read => "UPDATE articles SET remote_read = ?2 WHERE remote_id = ?1",
                Flag::Starred => "UPDATE articles SET remote_starred = ?2 WHERE remote_id = ?1",
            })?;
            for id in ids {
                stmt.execute(params![id, on])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Changes waiting for the server: flags, subscriptions, unsubscriptions.
    pub fn sync_changes_waiting(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM articles WHERE remote_id IS NOT NULL
                       AND (read != remote_read OR starred != remote_starred))
                  + (SELECT count(*) FROM sync_queue)
                  + (SELECT count(*) FROM feeds WHERE remote_id IS NULL AND saved_at IS NULL
                       AND sync_refused IS NULL
                       AND (url LIKE 'http://%' OR url LIKE 'https://%'))",
            [],
            |r| r.get(0),
        )?)
    }

    /// Makes the subscriptions here follow the server's list: its feeds are
    /// added (or linked to the same address here), renamed and moved between
    /// categories as it says; a feed it no longer has is unsubscribed here
    /// (keeping its starred articles). Feeds never sent to it stay.
    pub fn apply_remote_feeds(&mut self, remote: &[RemoteFeed]) -> Result<FeedChanges> {
        let tx = self.conn.transaction()?;
        let mut changes = FeedChanges::default();
        let local: Vec<(i64, String, Option<RemoteId>, Option<String>)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, url, remote_id, remote_category FROM feeds WHERE saved_at IS NULL",
            )?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let by_remote: HashMap<RemoteId, (i64, Option<String>)> = local
            .iter()
            .filter_map(|(id, _, remote, category)| remote.map(|r| (r, (*id, category.clone()))))
            .collect();
        let by_url: HashMap<&str, i64> = local
            .iter()
            .filter(|(_, _, remote, _)| remote.is_none())
            .map(|(id, url, _, _)| (url.as_str(), *id))
            .collect();
        for feed in remote {
            let (id, old_category) = if let Some((id, category)) = by_remote.get(&feed.id) {
                (*id, category.clone())
            } else {
                let id = match by_url.get(feed.url.as_str()) {
                    Some(id) => {
                        changes.linked += 1;
                        *id
                    }
                    None => {
                        // A feed the server has under this id may be saved here
                        // (its starred articles kept): it is taken back.
                        tx.execute(
                            "UPDATE feeds SET remote_id = NULL WHERE remote_id = ?1",
                            [feed.id],
                        )?;
                        let sub = NewSubscription {
                            url: feed.url.clone(),
                            feed_title: Some(feed.title.clone()).filter(|t| !t.is_empty()),
                            ..NewSubscription::default()
                        };
                        changes.added += 1;
                        add_in(&tx, &sub)?.0.0
                    }
                };
                tx.execute(
                    "UPDATE feeds SET remote_id = ?2, sync_refused = NULL WHERE id = ?1",
                    params![id, feed.id],
                )?;
                (id, None)
            };
            if !feed.title.is_empty() {
                tx.execute(
                    "UPDATE feeds SET feed_title = ?2 WHERE id = ?1",
                    params![id, feed.title],
                )?;
            }
            if old_category != feed.category {
                set_category_tag(&tx, id, old_category.as_deref(), feed.category.as_deref())?;
            }
        }
        let listed: HashSet<RemoteId> = remote.iter().map(|f| f.id).collect();
        for (remote_id, (id, _)) in &by_remote {
            if !listed.contains(remote_id) {
                remove_in(&tx, FeedId(*id), true, false)?;
                changes.removed += 1;
            }
        }
        tx.commit()?;
        if changes != FeedChanges::default() {
            self.subscriptions_changed();
        }
        Ok(changes)
    }

    /// Saves a page of articles pulled from the server, in one transaction:
    /// new ones are added (an article this device fetched itself from the
    /// same feed, with the same link, becomes the server's), changed ones
    /// rewritten, and each takes the server's read and starred state unless a
    /// change made here is waiting. Articles of feeds unknown here are skipped.
    pub fn save_pulled_articles(
        &mut self,
        pulled: Vec<RemoteArticle>,
        now: i64,
        retention: &RetentionConfig,
    ) -> Result<PulledArticles> {
        let tx = self.conn.transaction()?;
        let mut by_feed: HashMap<RemoteId, Vec<RemoteArticle>> = HashMap::new();
        for a in pulled {
            by_feed.entry(a.feed).or_default().push(a);
        }
        let mut saved = PulledArticles::default();
        for (remote_feed, mut articles) in by_feed {
            let feed: Option<i64> = tx
                .query_row(
                    "SELECT id FROM feeds WHERE remote_id = ?1",
                    [remote_feed],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(feed) = feed else {
                tracing::debug!(
                    "skipped {} articles of an unknown server feed",
                    articles.len()
                );
                continue;
            };
            for a in &mut articles {
                a.article.guid_key = format!("remote:{}", a.id);
                adopt_local_copy(&tx, feed, a)?;
            }
            let parsed = ParsedFeed {
                articles: articles.iter().map(|a| a.article.clone()).collect(),
                ..ParsedFeed::default()
            };
            let (counts, links) = upsert_articles(&tx, FeedId(feed), &parsed, now)?;
            ImageLinks {
                feed: FeedId(feed),
                articles: links,
                icon: None,
            }
            .write(&tx, now)?;
            for a in &articles {
                saved.states_changed += take_remote_state(&tx, feed, a)?;
            }
            apply_retention(&tx, FeedId(feed), now, retention)?;
            recount(&tx, feed)?;
            saved.new += counts.new;
            if counts.new > 0 {
                saved.feeds_with_new.insert(FeedId(feed));
            }
        }
        tx.commit()?;
        Ok(saved)
    }

    /// Each synced feed's counts as this device knows the server's state,
    /// by the server's feed id.
    pub fn known_counts(&self) -> Result<HashMap<RemoteId, KnownCounts>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.remote_id, f.id,
                    f.remote_unread_beyond + (SELECT count(*) FROM articles a
                        WHERE a.feed_id = f.id AND a.remote_id IS NOT NULL AND a.remote_read = 0),
                    f.remote_starred_beyond + (SELECT count(*) FROM articles a
                        WHERE a.feed_id = f.id AND a.remote_id IS NOT NULL AND a.remote_starred = 1)
             FROM feeds f WHERE f.remote_id IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                KnownCounts {
                    feed: FeedId(r.get(1)?),
                    unread: r.get(2)?,
                    starred: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Applies the server's full state of one feed (which of its articles are
    /// unread and starred there) to the articles held here, except where a
    /// change made here is waiting. Returns how many changed here and the
    /// server's ids of unread or starred articles this device lacks.
    pub fn apply_remote_state(
        &mut self,
        feed: FeedId,
        unread: &HashSet<RemoteId>,
        starred: &HashSet<RemoteId>,
    ) -> Result<(u64, Vec<RemoteId>)> {
        let tx = self.conn.transaction()?;
        let held: Vec<RemoteId> = {
            let mut stmt = tx.prepare_cached(
                "SELECT remote_id FROM articles WHERE feed_id = ?1 AND remote_id IS NOT NULL",
            )?;
            stmt.query_map([feed.0], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut changed = 0;
        for id in &held {
            changed += take_state(&tx, *id, !unread.contains(id), starred.contains(id))?;
        }
        recount(&tx, feed.0)?;
        tx.commit()?;
        let held: HashSet<RemoteId> = held.into_iter().collect();
        let mut missing: Vec<RemoteId> = unread.union(starred).copied().collect();
        missing.retain(|id| !held.contains(id));
        missing.sort_unstable();
        Ok((changed, missing))
    }

    /// Records how many unread and starred articles of `feed` the server has
    /// beyond those held here, so that the next sync expects them.
    pub fn set_remote_beyond(&mut self, feed: FeedId, unread: u64, starred: u64) -> Result<()> {
        self.conn.execute(
            "UPDATE feeds SET remote_unread_beyond = ?2, remote_starred_beyond = ?3 WHERE id = ?1",
            params![feed.0, unread, starred],
        )?;
        Ok(())
    }

    pub fn save_sync_record(&mut self, record: &SyncRecord) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO syncs (started_at, backend, server, requests, bytes, feeds_added,
                feeds_removed, articles_pulled, states_pulled, changes_pushed, changes_left,
                ms_login, ms_push, ms_feeds, ms_articles, ms_state, ms_images, ms_total,
                error_kind, error, warnings)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                ?18, ?19, ?20, ?21)",
            params![
                record.started_at,
                record.backend,
                record.server,
                record.requests,
                record.bytes,
                record.feeds_added,
                record.feeds_removed,
                record.articles_pulled,
                record.states_pulled,
                record.changes_pushed,
                record.changes_left,
                record.ms_login,
                record.ms_push,
                record.ms_feeds,
                record.ms_articles,
                record.ms_state,
                record.ms_images,
                record.ms_total,
                record.error_kind,
                record.error,
                serde_json::to_string(&record.warnings).unwrap_or_else(|_| "[]".into()),
            ],
        )?;
        let id = self.conn.last_insert_rowid();
        // A sync every few minutes for years: the last thousand tell enough.
        self.conn
            .execute("DELETE FROM syncs WHERE id <= ?1 - 1000", [id])?;
        Ok(id)
    }

    /// The most recent syncs, newest first.
    pub fn recent_syncs(&self, limit: u64) -> Result<Vec<SyncRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT started_at, backend, server, requests, bytes, feeds_added, feeds_removed,
                    articles_pulled, states_pulled, changes_pushed, changes_left, ms_login,
                    ms_push, ms_feeds, ms_articles, ms_state, ms_images, ms_total, error_kind,
                    error, warnings
             FROM syncs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            let warnings: String = r.get(20)?;
            Ok(SyncRecord {
                started_at: r.get(0)?,
                backend: r.get(1)?,
                server: r.get(2)?,
                requests: r.get(3)?,
                bytes: r.get(4)?,
                feeds_added: r.get(5)?,
                feeds_removed: r.get(6)?,
                articles_pulled: r.get(7)?,
                states_pulled: r.get(8)?,
                changes_pushed: r.get(9)?,
                changes_left: r.get(10)?,
                ms_login: r.get(11)?,
                ms_push: r.get(12)?,
                ms_feeds: r.get(13)?,
                ms_articles: r.get(14)?,
                ms_state: r.get(15)?,
                ms_images: r.get(16)?,
                ms_total: r.get(17)?,
                error_kind: r.get(18)?,
                error: r.get(19)?,
                warnings: serde_json::from_str(&warnings).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Failures since the last sync that went through: how long to wait
    /// before the reader tries again on its own.
    pub fn sync_failures_in_a_row(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM syncs
             WHERE error IS NOT NULL
               AND id > coalesce((SELECT max(id) FROM syncs WHERE error IS NULL), 0)",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn sync_totals(&self) -> Result<SyncTotals> {
        let mut totals: SyncTotals = self.conn.query_row(
            "SELECT count(*), count(error), coalesce(sum(articles_pulled), 0),
                    coalesce(sum(changes_pushed), 0),
                    (SELECT max(started_at) FROM syncs WHERE error IS NULL)
             FROM syncs",
            [],
            |r| {
                Ok(SyncTotals {
                    syncs: r.get(0)?,
                    failed: r.get(1)?,
                    articles_pulled: r.get(2)?,
                    changes_pushed: r.get(3)?,
                    last_ok_at: r.get(4)?,
                    failures: Vec::new(),
                })
            },
        )?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT error_kind, count(*) FROM syncs WHERE error IS NOT NULL
             GROUP BY error_kind ORDER BY count(*) DESC, error_kind",
        )?;
        totals.failures = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?
                        .unwrap_or_else(|| "other".into()),
                    r.get(1)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(totals)
    }
}

/// Takes the server's state for the article with server id `id`: a change
/// made here and waiting (its state differing from the server's last known)
/// wins; an article that had no server state yet keeps read or starred when
/// either side has it. Returns 1 when a state known before changed here.
fn take_state(tx: &Transaction, id: RemoteId, read: bool, starred: bool) -> rusqlite::Result<u64> {
    let before: Option<(bool, bool, bool)> = tx
        .prepare_cached(
            "SELECT read, starred, remote_read IS NOT NULL FROM articles WHERE remote_id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((read_before, starred_before, known)) = before else {
        return Ok(0);
    };
    let after: (bool, bool) = tx
        .prepare_cached(
            "UPDATE articles SET
                read = CASE WHEN remote_read IS NULL THEN max(read, ?2)
                            WHEN read != remote_read THEN read ELSE ?2 END,
                starred = CASE WHEN remote_starred IS NULL THEN max(starred, ?3)
                               WHEN starred != remote_starred THEN starred ELSE ?3 END,
                remote_read = ?2, remote_starred = ?3
             WHERE remote_id = ?1 RETURNING read, starred",
        )?
        .query_row(params![id, read, starred], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // Only a change of a state the server had before comes from elsewhere.
    Ok(u64::from(known && (read_before, starred_before) != after))
}

/// Gives a newly stored (or adopted) article its server id, then the server's state.
fn take_remote_state(tx: &Transaction, feed: i64, a: &RemoteArticle) -> rusqlite::Result<u64> {
    tx.prepare_cached(
        "UPDATE articles SET remote_id = ?3 WHERE feed_id = ?1 AND guid_key = ?2
           AND remote_id IS NULL",
    )?
    .execute(params![feed, a.article.guid_key, a.id])?;
    take_state(tx, a.id, !a.unread, a.starred)
}

/// An article fetched here before its feed was synced, with the link of one
/// pulled from the server, becomes that article (keeping its read and
/// starred state), instead of being listed twice.
fn adopt_local_copy(tx: &Transaction, feed: i64, a: &RemoteArticle) -> rusqlite::Result<()> {
    let Some(link) = a.article.link.as_deref() else {
        return Ok(());
    };
    tx.prepare_cached(
        "UPDATE articles SET guid_key = ?3
         WHERE id = (SELECT id FROM articles WHERE feed_id = ?1 AND link = ?2
                       AND remote_id IS NULL AND guid_key NOT LIKE 'remote:%' LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM articles WHERE feed_id = ?1 AND guid_key = ?3)",
    )?
    .execute(params![feed, link, a.article.guid_key])?;
    Ok(())
}

/// Replaces the tag that was the feed's server category with its new one.
fn set_category_tag(
    tx: &Transaction,
    feed: i64,
    old: Option<&str>,
    new: Option<&str>,
) -> rusqlite::Result<()> {
    if let Some(old) = old {
        tx.execute(
            "DELETE FROM feed_tags WHERE feed_id = ?1 AND tag = ?2",
            params![feed, old],
        )?;
    }
    if let Some(new) = new {
        tx.execute(
            "INSERT OR IGNORE INTO feed_tags (feed_id, tag, position)
             VALUES (?1, ?2, (SELECT coalesce(max(position), -1) + 1 FROM feed_tags
                              WHERE feed_id = ?1))",
            params![feed, new],
        )?;
    }
    tx.execute(
        "UPDATE feeds SET remote_category = ?2 WHERE id = ?1",
        params![feed, new],
    )?;
    Ok(())
}

/// Queues a change of a synced feed for the server (nothing for a feed the
/// server does not have yet: it gets the details when it is sent there). The
/// change replaces one of its kind still waiting.
pub(super) fn queue_feed_change(
    tx: &Transaction,
    feed: FeedId,
    kind: &str,
    value: &str,
) -> rusqlite::Result<()> {
    let remote: Option<RemoteId> = tx
        .query_row("SELECT remote_id FROM feeds WHERE id = ?1", [feed.0], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    let Some(remote) = remote else { return Ok(()) };
    tx.execute(
        "DELETE FROM sync_queue WHERE kind = ?1 AND remote_feed = ?2",
        params![kind, remote],
    )?;
    tx.execute(
        "INSERT INTO sync_queue (kind, remote_feed, url, queued_at) VALUES (?1, ?2, ?3, unixepoch())",
        params![kind, remote, value],
    )?;
    Ok(())
}

/// A server knows one category a feed, this device any number of tags: the
/// category stays while its tag does; when that tag is removed, the first
/// tag left becomes the category (none left: uncategorised).
pub(super) fn queue_category_of(
    tx: &Transaction,
    feed: FeedId,
    tags: &[String],
) -> rusqlite::Result<()> {
    let current: Option<String> = tx
        .query_row(
            "SELECT remote_category FROM feeds WHERE id = ?1 AND remote_id IS NOT NULL",
            [feed.0],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if current.as_ref().is_some_and(|c| tags.contains(c)) {
        return Ok(());
    }
    let wanted = tags.first().map(String::as_str).unwrap_or("");
    if current.as_deref().unwrap_or("") == wanted {
        return Ok(());
    }
    queue_feed_change(tx, feed, CATEGORY, wanted)
}
