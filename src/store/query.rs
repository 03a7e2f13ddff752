//! Queries (`crate::query`) as SQL: an expression becomes a WHERE clause over
//! `articles a` (a feed's name looked up only where asked), its values bound
//! as parameters (no text of a query is ever spliced into SQL). Text
//! comparisons ignore case (Unicode, through `query_fold`), and `=~` calls
//! `regexp`, both functions this module registers on each connection: the
//! `regex` crate matches in linear time, so no query can hang a refresh or
//! the reader.
//!
//! A query feed lists the newest [`QUERY_FEED_LIMIT`] matches. They are found
//! in one pass over the articles in the order they lie in the file (walking
//! a time index instead reads a million rows at random for a query that
//! rarely matches: seconds), kept while the cache does not change, and the
//! list's count, pages and positions are read from them.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;

use super::articles::summary_from_row;
use super::{Result, Store};
use crate::model::{ArticleId, ArticleSummary, QueryFeedId, SearchHit};
use crate::query::{Expr, Flag, Query, TextField, TextOp, TimeBound};

/// Registers the functions queries use: `regexp(pattern, text)` (for `text
/// REGEXP pattern`; each pattern compiled once per statement) and
/// `query_fold(text)` (lowercase, Unicode).
pub(super) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("regexp", 2, flags, |ctx| {
        let pattern = ctx.get_or_create_aux(0, |value| {
            crate::query::regex(value.as_str()?)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
        })?;
        // Matched as bytes: no UTF-8 check of each of a million titles (an
        // invalid sequence simply matches nothing in Unicode classes).
        match ctx.get_raw(1) {
            rusqlite::types::ValueRef::Text(bytes) => Ok(pattern.is_match(bytes)),
            _ => Ok(false),
        }
    })?;
    conn.create_scalar_function("query_fold", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Text(bytes) => {
                Some(String::from_utf8_lossy(bytes).to_lowercase())
            }
            _ => None,
        })
    })?;
    Ok(())
}

/// A search text that reads as a query: it parses, and is more than one
/// flag word (a search for "read" looks for the word).
pub(super) fn as_query(text: &str) -> Option<Query> {
    crate::query::parse(text)
        .ok()
        .filter(|q| !matches!(q.expr, Expr::Flag(_)))
}

/// A query as a WHERE clause and its parameters; `now` for ages.
pub(super) fn where_clause(query: &Query, now: i64) -> (String, Vec<Value>) {
    clause_in(query, now, TimeColumn::Plain)
}

/// How a clause compares times: `a.sort_time` (what other indexes and the
/// table answer), or `-a.sort_time`, which `articles_for_queries` holds and
/// only a statement that names that index asks for.
#[derive(Clone, Copy, PartialEq)]
enum TimeColumn {
    Plain,
    Negated,
}

fn clause_in(query: &Query, now: i64, time: TimeColumn) -> (String, Vec<Value>) {
    let mut sql = String::new();
    let mut values = Vec::new();
    write(&query.expr, now, time, &mut sql, &mut values);
    (sql, values)
}

fn write(expr: &Expr, now: i64, time: TimeColumn, sql: &mut String, values: &mut Vec<Value>) {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            sql.push('(');
            write(a, now, time, sql, values);
            sql.push_str(if matches!(expr, Expr::And(..)) {
                " AND "
            } else {
                " OR "
            });
            write(b, now, time, sql, values);
            sql.push(')');
        }
        Expr::Not(inner) => {
            sql.push_str("NOT coalesce(");
            write(inner, now, time, sql, values);
            sql.push_str(", 0)");
        }
        Expr::Flag(flag) => sql.push_str(match flag {
            Flag::Unread => "a.read = 0",
            Flag::Read => "a.read = 1",
            Flag::Starred => "a.starred = 1",
            Flag::Unstarred => "a.starred = 0",
            Flag::HasEnclosure => "a.enclosures != '[]'",
            Flag::HasImage => {
                "(a.image IS NOT NULL OR EXISTS (SELECT 1 FROM article_images ai \
                 WHERE ai.article_id = a.id))"
            }
        }),
        Expr::Time {
            newer,
            inclusive,
            at,
        } => {
            let bound = match at {
                TimeBound::AgeSecs(secs) => now.saturating_sub(*secs),
                TimeBound::Date(at) => *at,
            };
            let op = match (newer, inclusive) {
                (true, false) => ">",
                (true, true) => ">=",
                (false, false) => "<",
                (false, true) => "<=",
            };
            // Negated, both sides: a range of `articles_for_queries`.
            let (column, op, bound) = match time {
                TimeColumn::Plain => ("a.sort_time", op, bound),
                TimeColumn::Negated => ("-a.sort_time", flipped(op), bound.saturating_neg()),
            };
            sql.push_str(&format!("{column} {op} ?"));
            values.push(Value::Integer(bound));
        }
        Expr::Text { field, op, value } => {
            let negated = matches!(op, TextOp::IsNot | TextOp::NotMatches | TextOp::HasNot);
            let test = |column: &str| match op {
                TextOp::Is | TextOp::IsNot => format!("query_fold({column}) = query_fold(?)"),
                TextOp::Matches | TextOp::NotMatches => format!("{column} REGEXP ?"),
                TextOp::Contains => format!("instr(query_fold({column}), query_fold(?)) > 0"),
                // Among a list: the whole value; in a text: a part of it.
                TextOp::Has | TextOp::HasNot => match field {
                    TextField::Tag | TextField::Category => {
                        format!("query_fold({column}) = query_fold(?)")
                    }
                    _ => format!("instr(query_fold({column}), query_fold(?)) > 0"),
                },
            };
            let positive = match field {
                TextField::Tag => format!(
                    "EXISTS (SELECT 1 FROM feed_tags t WHERE t.feed_id = a.feed_id AND {})",
                    test("t.tag")
                ),
                TextField::Category => format!(
                    "EXISTS (SELECT 1 FROM json_each(a.categories) c WHERE {})",
                    test("c.value")
                ),
                TextField::Title => test("a.title"),
                TextField::Author => test("a.author"),
                TextField::Link => test("a.link"),
                TextField::Content => test(
                    "(coalesce(a.content, '') || ' ' || coalesce(a.summary, '') || ' ' || \
                     coalesce(a.page_content, ''))",
                ),
                // Looked up for the articles that get this far: most queries
                // never read a feed's row.
                TextField::Feed => test(
                    "(SELECT coalesce(f.custom_title, f.feed_title, f.url) FROM feeds f \
                     WHERE f.id = a.feed_id)",
                ),
                TextField::FeedUrl => test("(SELECT f.url FROM feeds f WHERE f.id = a.feed_id)"),
            };
            if negated {
                sql.push_str(&format!("NOT coalesce({positive}, 0)"));
            } else {
                sql.push_str(&format!("coalesce({positive}, 0)"));
            }
            values.push(Value::Text(value.clone()));
        }
    }
}

/// Whether a query reads only what `articles_for_queries` holds (a feed's
/// name and tags are looked up by its id).
fn reads_only_indexed(expr: &Expr) -> bool {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => reads_only_indexed(a) && reads_only_indexed(b),
        Expr::Not(inner) => reads_only_indexed(inner),
        Expr::Flag(_) => false,
        Expr::Time { .. } => true,
        Expr::Text { field, .. } => matches!(
            field,
            TextField::Title | TextField::Feed | TextField::FeedUrl | TextField::Tag
        ),
    }
}

/// A comparison the other way round (for both sides negated).
fn flipped(op: &str) -> &'static str {
    match op {
        ">" => "<",
        ">=" => "<=",
        "<" => ">",
        _ => ">=",
    }
}

/// A time every match is newer than (an `age <` or `newer` bound that all
/// of the query needs), as a `sort_time`.
fn newer_than(expr: &Expr, now: i64) -> Option<i64> {
    match expr {
        Expr::And(a, b) => match (newer_than(a, now), newer_than(b, now)) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        },
        Expr::Or(a, b) => Some(newer_than(a, now)?.min(newer_than(b, now)?)),
        Expr::Time {
            newer: true, at, ..
        } => Some(match at {
            TimeBound::AgeSecs(secs) => now.saturating_sub(*secs),
            TimeBound::Date(at) => *at,
        }),
        _ => None,
    }
}

/// Articles in an age range read through `articles_for_queries` at most
/// (each match reads its row at random): beyond, reading the table in file
/// order costs less.
const MOST_ROWS_BY_INDEX: i64 = 50_000;

/// How a query's matches are read.
#[derive(Clone, Copy, PartialEq)]
enum Path {
    /// `articles_for_queries` newest first (within the query's age).
    Index,
    /// The table in file order.
    Table,
}

impl Path {
    fn time_column(self) -> TimeColumn {
        match self {
            Path::Index => TimeColumn::Negated,
            Path::Table => TimeColumn::Plain,
        }
    }
}

/// The most matches a query feed lists: its newest.
pub const QUERY_FEED_LIMIT: u64 = 5_000;

/// A query feed's matches as (article id, time), newest first, and what
/// they were read for: the feed, unread only, and the cache's version. The
/// store keeps those of the cache's current version.
pub(super) struct Matches {
    key: (QueryFeedId, bool, (i64, u64)),
    rows: std::sync::Arc<Vec<(i64, i64)>>,
}

/// A saved query listed as a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFeed {
    pub id: QueryFeedId,
    pub name: String,
    pub query: String,
    /// Defined in config.toml (and edited there, not in the reader).
    pub from_config: bool,
}

/// How many matches a query has: all and unread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryCounts {
    pub total: u64,
    pub unread: u64,
}

impl Store {
    /// The query feeds, in list order.
    pub fn query_feeds(&self) -> Result<Vec<QueryFeed>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, query, from_config FROM query_feeds ORDER BY position, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(QueryFeed {
                id: QueryFeedId(r.get(0)?),
                name: r.get(1)?,
                query: r.get(2)?,
                from_config: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Saves a query feed under `name` (a query feed of that name takes the
    /// new query). The query is the caller's to check (`query::parse`).
    pub fn save_query_feed(&mut self, name: &str, query: &str) -> Result<QueryFeedId> {
        let id = self.conn.query_row(
            "INSERT INTO query_feeds (name, query, position)
             VALUES (?1, ?2, (SELECT coalesce(max(position), 0) + 1 FROM query_feeds))
             ON CONFLICT (name) DO UPDATE SET query = excluded.query
             RETURNING id",
            rusqlite::params![name, query],
            |r| r.get(0),
        )?;
        Ok(QueryFeedId(id))
    }

    /// Renames a query feed and gives it a new query.
    pub fn edit_query_feed(&mut self, id: QueryFeedId, name: &str, query: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE query_feeds SET name = ?2, query = ?3 WHERE id = ?1",
            rusqlite::params![id.0, name, query],
        )?;
        Ok(())
    }

    pub fn remove_query_feed(&mut self, id: QueryFeedId) -> Result<()> {
        self.conn
            .execute("DELETE FROM query_feeds WHERE id = ?1", [id.0])?;
        Ok(())
    }

    /// Makes the query feeds of config.toml the ones marked as from it:
    /// each saved (its query replacing one of the same name), and those no
    /// longer in the config removed.
    pub fn set_config_query_feeds(&mut self, feeds: &[(String, String)]) -> Result<()> {
        // Read first: nothing is written (and no lock taken) when nothing changed.
        let mut current: Vec<(String, String)> = self
            .query_feeds()?
            .into_iter()
            .filter(|q| q.from_config)
            .map(|q| (q.name, q.query))
            .collect();
        let mut wanted = feeds.to_vec();
        current.sort();
        wanted.sort();
        if current == wanted {
            return Ok(());
        }
        let names: Vec<&str> = feeds.iter().map(|(n, _)| n.as_str()).collect();
        let names = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM query_feeds WHERE from_config = 1
               AND name NOT IN (SELECT value FROM json_each(?1))",
            [&names],
        )?;
        for (name, query) in feeds {
            tx.execute(
                "INSERT INTO query_feeds (name, query, from_config, position)
                 VALUES (?1, ?2, 1, (SELECT coalesce(max(position), 0) + 1 FROM query_feeds))
                 ON CONFLICT (name) DO UPDATE SET query = excluded.query, from_config = 1",
                rusqlite::params![name, query],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A query feed's query, parsed (none: gone, or no longer a query).
    pub(super) fn query_of(&self, id: QueryFeedId) -> Result<Option<Query>> {
        let text: Option<String> = rusqlite::OptionalExtension::optional(self.conn.query_row(
            "SELECT query FROM query_feeds WHERE id = ?1",
            [id.0],
            |r| r.get(0),
        ))?;
        Ok(text.and_then(|t| crate::query::parse(&t).ok()))
    }

    /// A query feed's matches, newest first (at most [`QUERY_FEED_LIMIT`]):
    /// from the cache of the last ones while nothing was written since.
    pub(super) fn query_matches(
        &self,
        id: QueryFeedId,
        query: &Query,
        now: i64,
        unread_only: bool,
    ) -> Result<std::sync::Arc<Vec<(i64, i64)>>> {
        let version = self.cache_version()?;
        let key = (id, unread_only, version);
        if let Some(cached) = self.query_cache.borrow().iter().find(|m| m.key == key) {
            return Ok(cached.rows.clone());
        }
        // Unread ones: through the unread index. All matches of a query the
        // narrow query index answers (titles, feeds, tags, ages), or of one
        // whose age leaves few articles: that index walked newest first
        // (within the age), stopping at the limit; a row is read only for a
        // match. Any other: the table in file order (SQLite keeps the newest
        // in a bounded sorter); walking by time would read a million rows at
        // random. A copy of another feed's story is ruled out after the
        // query: `duplicate_of` is a row's last column.
        let path = if unread_only {
            Path::Table
        } else {
            self.path_of(query, now)?
        };
        let (clause, mut values) = clause_in(query, now, path.time_column());
        let (from, unread, order) = match (unread_only, path) {
            (true, _) => (
                "articles a",
                "a.read = 0 AND ",
                "a.sort_time DESC, a.id DESC",
            ),
            (false, Path::Index) => (
                "articles a INDEXED BY articles_for_queries",
                "",
                "-a.sort_time, -a.id",
            ),
            (false, Path::Table) => ("articles a NOT INDEXED", "", "a.sort_time DESC, a.id DESC"),
        };
        let sql = format!(
            "SELECT a.id, a.sort_time FROM {from}
             WHERE {unread}({clause}) AND a.duplicate_of IS NULL
             ORDER BY {order} LIMIT ?"
        );
        values.push(Value::Integer(QUERY_FEED_LIMIT as i64));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows: Vec<(i64, i64)> = stmt
            .query_map(rusqlite::params_from_iter(values), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let rows = std::sync::Arc::new(rows);
        // Every query feed's unread matches (the feed list's counts) and the
        // open one's list stay side by side, for as long as the cache does
        // not change.
        let mut cache = self.query_cache.borrow_mut();
        cache.retain(|m| m.key.2 == version && (m.key.0, m.key.1) != (id, unread_only));
        cache.push(Matches {
            key,
            rows: rows.clone(),
        });
        Ok(rows)
    }

    /// How the matches of a query feed are best read (see `query_matches`):
    /// the table while the index is missing (a bulk first refresh).
    fn path_of(&self, query: &Query, now: i64) -> Result<Path> {
        Ok(
            if self.has_query_index()?
                && (reads_only_indexed(&query.expr) || self.few_in_age(query, now)?)
            {
                Path::Index
            } else {
                Path::Table
            },
        )
    }

    /// Whether the query's age leaves at most [`MOST_ROWS_BY_INDEX`]
    /// articles (counted on the index, up to that many; the caller has
    /// checked that it is there).
    fn few_in_age(&self, query: &Query, now: i64) -> Result<bool> {
        let Some(after) = newer_than(&query.expr, now) else {
            return Ok(false);
        };
        let in_range: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM articles INDEXED BY articles_for_queries
                 WHERE -sort_time < ?1 LIMIT ?2)",
            )?
            .query_row(
                rusqlite::params![after.saturating_neg(), MOST_ROWS_BY_INDEX + 1],
                |r| r.get(0),
            )?;
        Ok(in_range <= MOST_ROWS_BY_INDEX)
    }

    /// The articles of `ids`, in that order, without bodies.
    pub(super) fn summaries_of(&self, ids: &[i64]) -> Result<Vec<ArticleSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, feed_id, title, link, author, sort_time, read, starred FROM articles
             WHERE id = ?1",
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(row) =
                rusqlite::OptionalExtension::optional(stmt.query_row([id], summary_from_row))?
            {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// A query's newest `limit` matches as search hits, with their feeds'
    /// names (one story once: copies left out).
    pub fn query_hits(&self, query: &Query, now: i64, limit: u64) -> Result<Vec<SearchHit>> {
        let (clause, mut values) = where_clause(query, now);
        let sql = format!(
            "SELECT a.id, a.feed_id, a.title, a.link, a.author, a.sort_time, a.read, a.starred,
                    coalesce(f.custom_title, f.feed_title, f.url)
             FROM articles a JOIN feeds f ON f.id = a.feed_id
             WHERE ({clause}) AND a.duplicate_of IS NULL
             ORDER BY a.sort_time DESC, a.id DESC LIMIT ?"
        );
        values.push(Value::Integer(limit as i64));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            Ok(SearchHit {
                article: summary_from_row(r)?,
                feed_title: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many articles the cache holds.
    pub fn article_total(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT coalesce(sum(article_count), 0) FROM feeds",
            [],
            |r| r.get(0),
        )?)
    }

    /// How many articles match a query, and how many of them are unread.
    pub fn query_counts(&self, query: &Query, now: i64) -> Result<QueryCounts> {
        // Every match is counted (and its row read, for `read`): the index
        // only for an age that leaves few articles.
        let path = if self.has_query_index()? && self.few_in_age(query, now)? {
            Path::Index
        } else {
            Path::Table
        };
        let (clause, values) = clause_in(query, now, path.time_column());
        let from = match path {
            Path::Index => "articles a INDEXED BY articles_for_queries",
            Path::Table => "articles a",
        };
        let sql = format!(
            "SELECT count(*), coalesce(sum(a.read = 0), 0)
             FROM {from} WHERE {clause}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        Ok(stmt.query_row(rusqlite::params_from_iter(values), |r| {
            Ok(QueryCounts {
                total: r.get(0)?,
                unread: r.get(1)?,
            })
        })?)
    }
}

/// Marks every unread match of a query read; returns them with their feeds.
pub(super) fn mark_read_matching(
    tx: &rusqlite::Transaction,
    query: &Query,
    now: i64,
) -> rusqlite::Result<Vec<(ArticleId, i64)>> {
    let (clause, values) = where_clause(query, now);
    let sql = format!(
        "UPDATE articles SET read = 1 WHERE id IN
           (SELECT a.id FROM articles a
            WHERE a.read = 0 AND {clause})
         RETURNING id, feed_id"
    );
    let mut stmt = tx.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
        Ok((ArticleId(r.get(0)?), r.get(1)?))
    })?;
    rows.collect()
}
