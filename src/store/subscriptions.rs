//! The store's subscription writes: subscribing (one, or a whole import in
//! one transaction), unsubscribing with or without the starred articles, and
//! the hook told the subscriptions after each change (`main` makes it write
//! the OPML backup, so the list survives a lost database).
//!
//! A feed unsubscribed from with starred articles kept is *saved*: its row
//! stays with only those articles (and none of its fetches, tags or HTTP
//! validators), `saved_at` set. It is no subscription: never fetched, exported
//! as OPML or backed up. Subscribing to its address again takes the row back,
//! so the kept articles are matched by the refresh instead of copied.

use rusqlite::{OptionalExtension, Transaction, params};

use super::articles::recount;
use super::{NewSubscription, Result, Store};
use crate::model::{Feed, FeedId};

/// Called with the subscriptions after each change to them.
pub type SubscriptionsHook = Box<dyn Fn(&[Feed]) + Send>;

/// What an unsubscription did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// No such feed.
    Nothing,
    /// The feed and all its articles are gone.
    Deleted,
    /// The feed is saved with its starred articles.
    Saved { kept: u64 },
}

impl Store {
    /// Has `hook` called with the subscriptions after every change to them.
    pub fn on_subscriptions_changed(&mut self, hook: SubscriptionsHook) {
        self.on_subscriptions_changed = Some(hook);
    }

    /// Tells the hook; a failure to read the list is logged, never the
    /// caller's error (its change is already committed).
    pub(super) fn subscriptions_changed(&self) {
        let Some(hook) = &self.on_subscriptions_changed else {
            return;
        };
        match self.feeds() {
            Ok(feeds) => hook(&feeds),
            Err(e) => tracing::warn!("cannot read the subscriptions for the backup: {e}"),
        }
    }

    /// Subscribes to `url`; returns the feed and whether it is new. An existing
    /// subscription keeps its state and gains the tags (and a title, if it had
    /// none); a saved feed becomes a subscription again, with its articles.
    pub fn add_feed(&mut self, sub: &NewSubscription) -> Result<(FeedId, bool)> {
        let tx = self.conn.transaction()?;
        let added = add_in(&tx, sub)?;
        tx.commit()?;
        self.subscriptions_changed();
        Ok(added)
    }

    /// Subscribes to every one of `subs` in one transaction: all or none, and
    /// one commit (the log of 300 commits outgrew a small disk; one stays
    /// small). Returns each feed and whether it is new, in order.
    pub fn add_feeds(&mut self, subs: &[NewSubscription]) -> Result<Vec<(FeedId, bool)>> {
        let tx = self.conn.transaction()?;
        let added = subs
            .iter()
            .map(|sub| add_in(&tx, sub))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        tx.commit()?;
        self.subscriptions_changed();
        Ok(added)
    }

    /// How many starred articles a feed has.
    pub fn starred_count(&self, feed: FeedId) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM articles WHERE feed_id = ?1 AND starred = 1",
            [feed.0],
            |r| r.get(0),
        )?)
    }

    /// Unsubscribes. With `keep_starred` and starred articles to keep, the
    /// feed is saved with them (see the module doc); otherwise the feed, its
    /// articles and its statistics go. A saved feed asked to keep them stays
    /// as it is.
    ///
    /// A synced feed's unsubscription is queued for the server.
    pub fn remove_feed(&mut self, id: FeedId, keep_starred: bool) -> Result<Removed> {
        let tx = self.conn.transaction()?;
        let (removed, was_subscribed) = remove_in(&tx, id, keep_starred, true)?;
        tx.commit()?;
        if was_subscribed {
            self.subscriptions_changed();
        }
        Ok(removed)
    }
}

/// Unsubscribes inside the caller's transaction (see [`Store::remove_feed`]),
/// and says whether the feed was a subscription (not a saved feed); with
/// `tell_server`, a feed the sync server has is queued to be unsubscribed
/// there too (not when the server is the one that dropped it).
pub(super) fn remove_in(
    tx: &Transaction,
    id: FeedId,
    keep_starred: bool,
    tell_server: bool,
) -> rusqlite::Result<(Removed, bool)> {
    let found: Option<(bool, Option<i64>, String)> = tx
        .query_row(
            "SELECT saved_at IS NOT NULL, remote_id, url FROM feeds WHERE id = ?1",
            [id.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((saved, remote_id, url)) = found else {
        return Ok((Removed::Nothing, false));
    };
    if let (true, Some(remote_id)) = (tell_server, remote_id) {
        tx.execute(
            "INSERT INTO sync_queue (kind, remote_feed, url, queued_at)
             VALUES ('unsubscribe', ?1, ?2, unixepoch())",
            params![remote_id, url],
        )?;
    }
    let starred: u64 = tx.query_row(
        "SELECT count(*) FROM articles WHERE feed_id = ?1 AND starred = 1",
        [id.0],
        |r| r.get(0),
    )?;
    if keep_starred && starred > 0 {
        tx.execute(
            "DELETE FROM articles_fts
             WHERE rowid IN (SELECT id FROM articles WHERE feed_id = ?1 AND starred = 0)",
            [id.0],
        )?;
        tx.execute(
            "DELETE FROM articles WHERE feed_id = ?1 AND starred = 0",
            [id.0],
        )?;
        tx.execute("DELETE FROM fetches WHERE feed_id = ?1", [id.0])?;
        tx.execute("DELETE FROM feed_tags WHERE feed_id = ?1", [id.0])?;
        // A saved feed is no subscription, here or on the server.
        tx.execute(
            "UPDATE feeds SET saved_at = coalesce(saved_at, unixepoch()), etag = NULL,
                    last_modified = NULL, next_fetch_at = NULL, retry_after_until = NULL,
                    min_interval_secs = NULL, remote_id = NULL, remote_category = NULL
             WHERE id = ?1",
            [id.0],
        )?;
        recount(tx, id.0)?;
        Ok((Removed::Saved { kept: starred }, !saved))
    } else {
        tx.execute(
            "DELETE FROM articles_fts WHERE rowid IN (SELECT id FROM articles WHERE feed_id = ?1)",
            [id.0],
        )?;
        tx.execute("DELETE FROM feeds WHERE id = ?1", [id.0])?;
        Ok((Removed::Deleted, !saved))
    }
}

/// One subscription inside the caller's transaction.
pub(super) fn add_in(tx: &Transaction, sub: &NewSubscription) -> rusqlite::Result<(FeedId, bool)> {
    let existing: Option<(i64, bool)> = tx
        .prepare_cached(
            // A feed that moved is the same subscription under its new address too.
            "SELECT id, saved_at IS NOT NULL FROM feeds WHERE url = ?1 OR fetch_url = ?1
             ORDER BY url = ?1 DESC LIMIT 1",
        )?
        .query_row([&sub.url], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (id, new) = match existing {
        Some((id, saved)) => {
            tx.prepare_cached(
                "UPDATE feeds SET custom_title = coalesce(custom_title, ?2),
                        feed_title = coalesce(feed_title, ?3),
                        saved_at = NULL,
                        position = CASE WHEN ?4 THEN (SELECT max(position) + 1 FROM feeds)
                                   ELSE position END
                 WHERE id = ?1",
            )?
            .execute(params![id, sub.title, sub.feed_title, saved])?;
            (id, saved)
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO feeds (url, fetch_url, custom_title, feed_title, added_at, position)
                 VALUES (?1, ?1, ?2, ?3, unixepoch(),
                         (SELECT coalesce(max(position), 0) + 1 FROM feeds))",
            )?
            .execute(params![sub.url, sub.title, sub.feed_title])?;
            (tx.last_insert_rowid(), true)
        }
    };
    let mut tag_stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO feed_tags (feed_id, tag, position)
         VALUES (?1, ?2, (SELECT count(*) FROM feed_tags WHERE feed_id = ?1))",
    )?;
    for tag in &sub.tags {
        tag_stmt.execute(params![id, tag])?;
    }
    Ok((FeedId(id), new))
}
