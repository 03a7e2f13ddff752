//! A first refresh of many feeds at once (an imported OPML of thousands),
//! stored without the two indexes ordered by date, which are built once the
//! run's articles are all in (before its images, which never touch them).
//! Such a refresh brings each feed's whole history, dates spread over years,
//! so every batch the writer commits puts rows all over those two trees, and
//! each page it touched is written again: the larger the trees grew, the more
//! a feed cost (`benches/load.py`: 1.2 MB written per feed at first, 3.0 MB
//! by the eleventh thousand). Built once, each tree is one sort.
//!
//! While they are missing, lists of all unread articles and query feeds read
//! the table instead (slower, still right). A run that was killed before the
//! end leaves them missing: the next refresh run builds them before anything
//! else ([`Store::build_date_indexes`] does nothing when they are there).

use std::collections::HashSet;

use super::{Result, Store};
use crate::model::FeedId;

/// The two indexes, as their migrations (0002, 0018) made them.
const DATE_INDEXES: &str = "
    CREATE INDEX IF NOT EXISTS articles_unread_by_time ON articles(sort_time DESC) WHERE read = 0;
    CREATE INDEX IF NOT EXISTS articles_for_queries ON articles(-sort_time, -id, feed_id, title);
";

impl Store {
    /// Drops the indexes by date for a bulk first refresh; the caller holds
    /// the run lock and builds them again once the run's articles are in.
    pub fn drop_date_indexes(&self) -> Result<()> {
        self.conn.execute_batch(
            "DROP INDEX IF EXISTS articles_unread_by_time;
             DROP INDEX IF EXISTS articles_for_queries;",
        )?;
        Ok(())
    }

    /// Builds the indexes by date that are missing; whether any was.
    pub fn build_date_indexes(&self) -> Result<bool> {
        if self.has_query_index()? && self.has_index("articles_unread_by_time")? {
            return Ok(false);
        }
        // Each build sorts every article's key: in temporary files rather
        // than memory (the store's default), or a million articles would
        // add the index's size to the peak.
        self.conn.execute_batch("PRAGMA temp_store = FILE")?;
        let built = (|| {
            let tx = self.conn.unchecked_transaction()?;
            tx.execute_batch(DATE_INDEXES)?;
            tx.commit()
        })();
        self.conn.execute_batch("PRAGMA temp_store = MEMORY")?;
        built?;
        Ok(true)
    }

    /// Whether `articles_for_queries` is there (not during a bulk first
    /// refresh): query feeds read the table when it is not.
    pub(super) fn has_query_index(&self) -> Result<bool> {
        self.has_index("articles_for_queries")
    }

    fn has_index(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?1",
            )?
            .query_row([name], |r| r.get::<_, i64>(0))?
            > 0)
    }

    /// How many of `feeds` were never fetched (have no fetch record).
    pub fn count_never_fetched(&self, feeds: impl IntoIterator<Item = FeedId>) -> Result<usize> {
        let never: HashSet<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM feeds f WHERE NOT EXISTS (SELECT 1 FROM fetches WHERE feed_id = f.id)",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(feeds.into_iter().filter(|f| never.contains(&f.0)).count())
    }
}
