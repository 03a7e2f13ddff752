//! The record of every sync, as `fetches` is of every fetch: what it did,
//! what it cost, how it failed; and the totals `tidings stats` shows. A
//! record never holds a password or a session.

use rusqlite::params;

use super::{Result, Store};

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

impl Store {
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
