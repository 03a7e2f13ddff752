//! Queries (`crate::query`) as SQL: an expression becomes a WHERE clause over
//! `articles a` joined with `feeds f`, its values bound as parameters (no
//! text of a query is ever spliced into SQL). Text comparisons ignore case
//! (Unicode, through `query_fold`), and `=~` calls `regexp`, both functions
//! this module registers on each connection: the `regex` crate matches in
//! linear time, so no query can hang a refresh or the reader.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;

use super::{Result, Store};
use crate::model::{ArticleId, ArticleSummary, FeedId, SearchHit};
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
        let text = match ctx.get_raw(1) {
            rusqlite::types::ValueRef::Text(bytes) => String::from_utf8_lossy(bytes),
            _ => return Ok(false),
        };
        Ok(pattern.is_match(&text))
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
    let mut sql = String::new();
    let mut values = Vec::new();
    write(&query.expr, now, &mut sql, &mut values);
    (sql, values)
}

fn write(expr: &Expr, now: i64, sql: &mut String, values: &mut Vec<Value>) {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            sql.push('(');
            write(a, now, sql, values);
            sql.push_str(if matches!(expr, Expr::And(..)) {
                " AND "
            } else {
                " OR "
            });
            write(b, now, sql, values);
            sql.push(')');
        }
        Expr::Not(inner) => {
            sql.push_str("NOT coalesce(");
            write(inner, now, sql, values);
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
            sql.push_str(&format!("a.sort_time {op} ?"));
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
                TextField::Feed => test("coalesce(f.custom_title, f.feed_title, f.url)"),
                TextField::FeedUrl => test("f.url"),
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

/// How many matches a query has: all and unread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryCounts {
    pub total: u64,
    pub unread: u64,
}

impl Store {
    /// The newest (or oldest) matches of a query, `offset..offset + limit`,
    /// without bodies. Saved feeds' articles count too (they are articles).
    pub fn query_page(
        &self,
        query: &Query,
        now: i64,
        unread_only: bool,
        newest_first: bool,
        (offset, limit): (u64, u64),
    ) -> Result<Vec<ArticleSummary>> {
        let (clause, mut values) = where_clause(query, now);
        let order = if newest_first { "DESC" } else { "ASC" };
        let unread = if unread_only { "a.read = 0 AND " } else { "" };
        let sql = format!(
            "SELECT a.id, a.feed_id, a.title, a.link, a.author, a.sort_time, a.read, a.starred
             FROM articles a JOIN feeds f ON f.id = a.feed_id
             WHERE {unread}{clause}
             ORDER BY a.sort_time {order}, a.id {order} LIMIT ? OFFSET ?"
        );
        values.push(Value::Integer(limit as i64));
        values.push(Value::Integer(offset as i64));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
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
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A query's newest matches as search hits (with their feeds' names).
    pub fn query_hits(&self, query: &Query, now: i64, limit: u64) -> Result<Vec<SearchHit>> {
        let page = self.query_page(query, now, false, true, (0, limit))?;
        let mut names = std::collections::HashMap::new();
        let mut hits = Vec::with_capacity(page.len());
        for article in page {
            let feed_title = match names.get(&article.feed_id) {
                Some(name) => String::clone(name),
                None => {
                    let name: String = self.conn.query_row(
                        "SELECT coalesce(custom_title, feed_title, url) FROM feeds WHERE id = ?1",
                        [article.feed_id.0],
                        |r| r.get(0),
                    )?;
                    names.insert(article.feed_id, name.clone());
                    name
                }
            };
            hits.push(SearchHit {
                article,
                feed_title,
            });
        }
        Ok(hits)
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
        let (clause, values) = where_clause(query, now);
        let sql = format!(
            "SELECT count(*), coalesce(sum(a.read = 0), 0)
             FROM articles a JOIN feeds f ON f.id = a.feed_id WHERE {clause}"
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
