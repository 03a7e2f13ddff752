//! What waits to be pushed to the sync server, kept in the rows it is
//! about (see `store/sync.rs`): feeds not on the server yet, read and star
//! changes (an article's state differing from the server's last known), and
//! the `sync_queue` rows for what has no row of its own any more (an
//! unsubscription) or is about a feed (a new name, a new category; the
//! latest of each kind a feed replaces the one before). Each is marked done
//! only once the server has it.

use rusqlite::{OptionalExtension, Transaction, params};

use super::sync::RemoteId;
use super::{Result, Store};
use crate::model::FeedId;

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

impl Store {
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
