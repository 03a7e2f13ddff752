//! The store's side of sync: which local feed and article is which on the
//! server (its ids, kept with them), the server's subscriptions and
//! articles taken in, and the server's read and starred state applied. What
//! waits to be pushed is in `sync_queue.rs`, the record of each sync in
//! `sync_records.rs`.
//!
//! State from the server never overwrites a change that is waiting: an
//! article whose `read`/`starred` differs from the state the server last had
//! (`remote_read`/`remote_starred`) keeps its own until it is pushed.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, Transaction, params};

use super::articles::{ImageLinks, SearchWrites, apply_retention, recount, upsert_articles};
use super::filters::apply_filters;
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

/// A synced feed's counts as this device knows the server's state: unread
/// and starred articles it holds, plus those the server has beyond them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownCounts {
    pub feed: FeedId,
    pub unread: u64,
    pub starred: u64,
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

    /// Makes the subscriptions here follow the server's list: its feeds are
    /// added (or linked to the same address here), renamed and moved between
    /// categories as it says; a feed it no longer has is unsubscribed here
    /// (keeping its starred articles). Feeds never sent to it stay.
    pub fn apply_remote_feeds(&mut self, remote: &[RemoteFeed]) -> Result<FeedChanges> {
        let tx = self.conn.transaction()?;
        let mut changes = FeedChanges::default();
        // A feed's name or category changed (on the server).
        let mut renamed = false;
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
                    Some(id) => *id,
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
                renamed |= tx.execute(
                    "UPDATE feeds SET feed_title = ?2 WHERE id = ?1 AND feed_title IS NOT ?2",
                    params![id, feed.title],
                )? > 0;
            }
            if old_category != feed.category {
                set_category_tag(&tx, id, old_category.as_deref(), feed.category.as_deref())?;
                renamed = true;
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
        // The backup of the subscriptions holds their names and tags too.
        if renamed || changes != FeedChanges::default() {
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
        let filters = self.filters_in_force()?;
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
            let mut search = SearchWrites::default();
            let (mut counts, mut links) =
                upsert_articles(&tx, FeedId(feed), &parsed, now, &mut search)?;
            if counts.new > 0 && !filters.is_empty() {
                let filtered = apply_filters(&tx, &filters, FeedId(feed), now, &mut search)?;
                counts.new -= filtered.hidden;
                links.retain(|(id, _, _)| !filtered.hidden_ids.contains(id));
            }
            ImageLinks {
                feed: FeedId(feed),
                articles: links,
                icon: None,
            }
            .write(&tx, now)?;
            for a in &articles {
                saved.states_changed += take_remote_state(&tx, feed, a)?;
            }
            apply_retention(&tx, FeedId(feed), now, retention, &mut search)?;
            search.write(&tx)?;
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
