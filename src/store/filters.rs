//! Filters in the store: the rules saved with `tidings filter add` and those
//! of config.toml (given by the caller, kept in memory), applied inside the
//! transaction that stores a feed's new articles, so an article a filter
//! hides is never seen and one it marks read is never counted unread.
//!
//! Hiding deletes the article (and its search entry) and remembers its key
//! in `hidden_articles`, which the save path consults, so the feed listing
//! it again does not bring it back.

use rusqlite::{Transaction, params};

use super::articles::SearchWrites;
use super::query::where_clause;
use super::{Result, Store};
use crate::model::FeedId;
use crate::query::{Filter, FilterAction};

/// A filter saved in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedFilter {
    pub id: i64,
    pub text: String,
    pub action: FilterAction,
}

/// What the filters did to one save's new articles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filtered {
    /// The articles hidden (deleted): no image may be linked to them.
    pub hidden_ids: Vec<i64>,
    pub hidden: u64,
    pub read: u64,
    pub starred: u64,
    pub tagged: u64,
}

impl Store {
    /// The filters of config.toml, applied with the saved ones.
    pub fn use_config_filters(&mut self, filters: Vec<Filter>) {
        self.config_filters = filters;
    }

    pub fn saved_filters(&self) -> Result<Vec<SavedFilter>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, query, action, tag FROM filters ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            let action: String = r.get(2)?;
            let tag: Option<String> = r.get(3)?;
            Ok((r.get(0)?, r.get(1)?, action, tag))
        })?;
        let mut filters = Vec::new();
        for row in rows {
            let (id, text, action, tag): (i64, String, String, Option<String>) = row?;
            if let Ok(action) = FilterAction::new(&action, tag.as_deref()) {
                filters.push(SavedFilter { id, text, action });
            }
        }
        Ok(filters)
    }

    pub fn add_filter(&mut self, text: &str, action: &FilterAction) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO filters (query, action, tag, added_at) VALUES (?1, ?2, ?3, unixepoch())",
            params![text, action.name(), action.tag()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Returns whether there was such a filter.
    pub fn remove_filter(&mut self, id: i64) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM filters WHERE id = ?1", [id])?
            > 0)
    }

    /// Every filter in force: config.toml's, then the saved ones.
    pub(super) fn filters_in_force(&self) -> Result<Vec<Filter>> {
        let mut filters = self.config_filters.clone();
        for saved in self.saved_filters()? {
            if let Ok(query) = crate::query::parse(&saved.text) {
                filters.push(Filter {
                    query,
                    action: saved.action,
                });
            }
        }
        Ok(filters)
    }
}

/// Applies `filters` to the articles of `feed` stored in this save (first
/// seen at `now`), inside the caller's transaction. The caller recounts the
/// feed when anything changed.
pub(super) fn apply_filters(
    tx: &Transaction,
    filters: &[Filter],
    feed: FeedId,
    now: i64,
    search: &mut SearchWrites,
) -> rusqlite::Result<Filtered> {
    let mut done = Filtered::default();
    for filter in filters {
        let (clause, mut values) = where_clause(&filter.query, now);
        let matching = format!(
            "SELECT a.id FROM articles a
             WHERE a.feed_id = ? AND a.first_seen >= ? AND {clause}"
        );
        values.insert(0, rusqlite::types::Value::Integer(now));
        values.insert(0, rusqlite::types::Value::Integer(feed.0));
        let ids: Vec<i64> = {
            let mut stmt = tx.prepare(&matching)?;
            stmt.query_map(rusqlite::params_from_iter(values), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for id in ids {
            let changed = match &filter.action {
                FilterAction::Hide => {
                    tx.execute(
                        "INSERT OR IGNORE INTO hidden_articles (feed_id, guid_key, hidden_at)
                         SELECT feed_id, guid_key, ?2 FROM articles WHERE id = ?1",
                        params![id, now],
                    )?;
                    search.remove(id);
                    let n = tx.execute("DELETE FROM articles WHERE id = ?1", [id])?;
                    done.hidden += n as u64;
                    done.hidden_ids.push(id);
                    continue;
                }
                FilterAction::Read => tx.execute(
                    "UPDATE articles SET read = 1 WHERE id = ?1 AND read = 0",
                    [id],
                )?,
                FilterAction::Star => tx.execute(
                    "UPDATE articles SET starred = 1 WHERE id = ?1 AND starred = 0",
                    [id],
                )?,
                FilterAction::Tag(tag) => tx.execute(
                    "UPDATE articles SET categories = json_insert(categories, '$[#]', ?2)
                     WHERE id = ?1
                       AND NOT EXISTS (SELECT 1 FROM json_each(categories) WHERE value = ?2)",
                    params![id, tag],
                )?,
            } as u64;
            match filter.action {
                FilterAction::Read => done.read += changed,
                FilterAction::Star => done.starred += changed,
                FilterAction::Tag(_) => done.tagged += changed,
                FilterAction::Hide => {}
            }
        }
    }
    Ok(done)
}

impl Filtered {
    pub fn changed_anything(&self) -> bool {
        self.hidden + self.read + self.starred + self.tagged > 0
    }
}
