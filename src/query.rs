//! The query language over articles, for query feeds, filters and search:
//!
//! ```text
//! title =~ "rust|zig" and not tag = "later"
//! (unread and age < 7d) or starred
//! feed contains "blog" and has enclosure and date > 2026-11-01
//! ```
//!
//! - fields: `title`, `author`, `content`, `feed` (its title), `feedurl`,
//!   `tag`, `category`, `link`, `age`, `date`, and the flags `unread`,
//!   `read`, `starred` (also `unread = yes|no`); `has enclosure`, `has
//!   image`. newsboat's names are understood too (`feedtitle`, `rssurl`,
//!   `tags`, `description`, `pubdate`), so its `query:` lines import as they
//!   are;
//! - operators: `=` and `!=` (whole text, any case), `=~` and `!~` (a regular
//!   expression, any case, in linear time: the `regex` crate), `contains`,
//!   `#` and `!#` (a tag or category among the article's), `<` `>` `<=` `>=`
//!   on `age` (`7d`, `12h`, `30m`, `2w`; a bare number is days) and `date`
//!   (`2026-11-01`);
//! - `and`, `or`, `not` and parentheses; `and` binds tighter than `or`.
//!
//! [`parse`] never panics: a query that is wrong says where, by column (1 is
//! the first character): `column 14: expected a value after =~`. Turning a
//! query into SQL is the store's business (`store/query.rs`).

use std::fmt;

/// A parsed query: what to match, and the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub expr: Expr,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A text field compared with a text.
    Text {
        field: TextField,
        op: TextOp,
        value: String,
    },
    /// When the article was published, compared with a time (unix seconds):
    /// `age < 7d` is `Time { Newer, now - 7 days }`.
    Time {
        newer: bool,
        inclusive: bool,
        at: TimeBound,
    },
    Flag(Flag),
}

/// A bound in time: an age from now, or a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    AgeSecs(i64),
    Date(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Title,
    Author,
    Content,
    Feed,
    FeedUrl,
    Tag,
    Category,
    Link,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Is,
    IsNot,
    Matches,
    NotMatches,
    Contains,
    /// `#`: among the article's tags or categories (for other fields: contains).
    Has,
    HasNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Unread,
    Read,
    Starred,
    Unstarred,
    HasEnclosure,
    HasImage,
}

/// A rule applied to articles as they arrive: its matches are hidden (gone,
/// and never stored again), marked read, starred, or tagged.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub query: Query,
    pub action: FilterAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterAction {
    Hide,
    Read,
    Star,
    /// A category added to the article (`category = NAME` finds it).
    Tag(String),
}

impl FilterAction {
    /// `hide`, `read`, `star`, or `tag` with its name.
    pub fn new(action: &str, tag: Option<&str>) -> Result<FilterAction, String> {
        match (action.to_ascii_lowercase().as_str(), tag) {
            ("hide" | "kill", _) => Ok(FilterAction::Hide),
            ("read" | "mark-read" | "mark_read", _) => Ok(FilterAction::Read),
            ("star", _) => Ok(FilterAction::Star),
            ("tag", Some(tag)) if !tag.trim().is_empty() => {
                Ok(FilterAction::Tag(crate::text::sanitize_text(tag.trim())))
            }
            ("tag", _) => Err("a tag filter needs the tag to give".into()),
            (other, _) => Err(format!(
                "unknown filter action {other:?} (hide, read, star or tag)"
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            FilterAction::Hide => "hide",
            FilterAction::Read => "read",
            FilterAction::Star => "star",
            FilterAction::Tag(_) => "tag",
        }
    }

    pub fn tag(&self) -> Option<&str> {
        match self {
            FilterAction::Tag(tag) => Some(tag),
            _ => None,
        }
    }
}

/// What is wrong with a query, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

/// The longest regular expression a query may hold (compiled size, bytes).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

pub fn parse(text: &str) -> Result<Query, QueryError> {
    let tokens = lex(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        end: text.chars().count() + 1,
    };
    if parser.tokens.is_empty() {
        return Err(error(1, "the query is empty"));
    }
    let expr = parser.or()?;
    if let Some(token) = parser.peek() {
        let message = match token.kind {
            Kind::Close => "`)` without its `(`".to_string(),
            _ => format!("expected `and`, `or` or the end, found {}", token.kind),
        };
        return Err(error(token.column, &message));
    }
    Ok(Query {
        expr,
        text: text.to_string(),
    })
}

impl QueryError {
    /// The message with the query under it and a caret at the column, for a
    /// terminal:
    ///
    /// ```text
    /// column 10: expected a value after =~
    ///   title =~
    ///            ^
    /// ```
    pub fn pointed(&self, query: &str) -> String {
        let query = crate::text::sanitize_text(query).replace('\n', " ");
        format!(
            "{self}\n  {query}\n  {}^",
            " ".repeat(self.column.saturating_sub(1))
        )
    }
}

/// A regular expression as queries compile it: any case, size-limited.
pub fn regex(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

fn error(column: usize, message: &str) -> QueryError {
    QueryError {
        column,
        message: message.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Word(String),
    Text(String),
    Op(&'static str),
    Open,
    Close,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Word(w) => write!(f, "`{w}`"),
            Kind::Text(t) => write!(f, "\"{t}\""),
            Kind::Op(op) => write!(f, "`{op}`"),
            Kind::Open => f.write_str("`(`"),
            Kind::Close => f.write_str("`)`"),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    column: usize,
}

const OPERATORS: [&str; 10] = ["=~", "!~", "!=", "!#", "<=", ">=", "=", "<", ">", "#"];

fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            let kind = if c == '(' { Kind::Open } else { Kind::Close };
            tokens.push(Token { kind, column });
            i += 1;
        } else if c == '"' || c == '\'' {
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(error(column, "a text without its closing quote")),
                    Some('\\') if chars.get(i + 1).is_some() => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(q) if *q == c => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        value.push(*other);
                        i += 1;
                    }
                }
            }
            tokens.push(Token {
                kind: Kind::Text(value),
                column,
            });
        } else if let Some(op) = OPERATORS.iter().find(|op| {
            op.chars()
                .enumerate()
                .all(|(k, o)| chars.get(i + k) == Some(&o))
        }) {
            tokens.push(Token {
                kind: Kind::Op(op),
                column,
            });
            i += op.chars().count();
        } else if c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/') {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.' | ':' | '/'))
            {
                i += 1;
            }
            tokens.push(Token {
                kind: Kind::Word(chars[start..i].iter().collect()),
                column,
            });
        } else {
            return Err(error(column, &format!("`{c}` is not part of a query")));
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// The column just past the text, for "expected … at the end".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, QueryError> {
        if self.keyword("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, QueryError> {
        let Some(token) = self.next() else {
            return Err(error(self.end, "expected a field, `not` or `(` at the end"));
        };
        match token.kind {
            Kind::Open => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token {
                        kind: Kind::Close, ..
                    }) => Ok(inner),
                    Some(other) => Err(error(
                        other.column,
                        &format!(
                            "expected `)` for the `(` at column {}, found {}",
                            token.column, other.kind
                        ),
                    )),
                    None => Err(error(
                        self.end,
                        &format!("expected `)` for the `(` at column {}", token.column),
                    )),
                }
            }
            Kind::Word(word) => self.field(&word, token.column),
            other => Err(error(
                token.column,
                &format!("expected a field, `not` or `(`, found {other}"),
            )),
        }
    }

    fn field(&mut self, word: &str, column: usize) -> Result<Expr, QueryError> {
        let lower = word.to_ascii_lowercase();
        if lower == "has" {
            return match self.next() {
                Some(Token {
                    kind: Kind::Word(w),
                    ..
                }) if w.eq_ignore_ascii_case("enclosure") => Ok(Expr::Flag(Flag::HasEnclosure)),
                Some(Token {
                    kind: Kind::Word(w),
                    ..
                }) if w.eq_ignore_ascii_case("image") => Ok(Expr::Flag(Flag::HasImage)),
                Some(other) => Err(error(
                    other.column,
                    &format!(
                        "expected `enclosure` or `image` after `has`, found {}",
                        other.kind
                    ),
                )),
                None => Err(error(
                    self.end,
                    "expected `enclosure` or `image` after `has`",
                )),
            };
        }
        let flag = match lower.as_str() {
            "unread" => Some((Flag::Unread, Flag::Read)),
            "read" => Some((Flag::Read, Flag::Unread)),
            "starred" | "flagged" => Some((Flag::Starred, Flag::Unstarred)),
            _ => None,
        };
        if let Some((yes, no)) = flag {
            return self.flag(yes, no);
        }
        let text_field = match lower.as_str() {
            "title" => Some(TextField::Title),
            "author" => Some(TextField::Author),
            "content" | "description" | "body" => Some(TextField::Content),
            "feed" | "feedtitle" => Some(TextField::Feed),
            "feedurl" | "rssurl" => Some(TextField::FeedUrl),
            "tag" | "tags" => Some(TextField::Tag),
            "category" | "categories" => Some(TextField::Category),
            "link" | "url" => Some(TextField::Link),
            _ => None,
        };
        if let Some(field) = text_field {
            return self.text(field, word);
        }
        match lower.as_str() {
            "age" => self.time(word, true),
            "date" | "pubdate" | "published" => self.time(word, false),
            _ => Err(error(
                column,
                &format!(
                    "unknown field `{word}` (fields: title, author, content, feed, feedurl, tag, \
                     category, link, age, date, unread, read, starred, has enclosure, has image)"
                ),
            )),
        }
    }

    /// `unread`, or `unread = yes`, `unread != "no"`.
    fn flag(&mut self, yes: Flag, no: Flag) -> Result<Expr, QueryError> {
        let op = match self.peek() {
            Some(Token {
                kind: Kind::Op(op @ ("=" | "!=")),
                ..
            }) => *op,
            _ => return Ok(Expr::Flag(yes)),
        };
        let op_column = self.peek().map_or(self.end, |t| t.column);
        self.at += 1;
        let value = self.value(op, op_column)?;
        let truth = match value.0.to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" => true,
            "no" | "false" | "0" => false,
            _ => {
                return Err(error(
                    value.1,
                    &format!("expected yes or no after {op}, found \"{}\"", value.0),
                ));
            }
        };
        Ok(Expr::Flag(if truth == (op == "=") { yes } else { no }))
    }

    fn text(&mut self, field: TextField, word: &str) -> Result<Expr, QueryError> {
        let (op, column) = match self.next() {
            Some(Token {
                kind: Kind::Op(op),
                column,
            }) => (op, column),
            Some(Token {
                kind: Kind::Word(w),
                column,
            }) if w.eq_ignore_ascii_case("contains") => ("contains", column),
            Some(other) => {
                return Err(error(
                    other.column,
                    &format!(
                        "expected an operator after `{word}` (=, !=, =~, !~, contains, #), found {}",
                        other.kind
                    ),
                ));
            }
            None => {
                return Err(error(
                    self.end,
                    &format!("expected an operator after `{word}` (=, !=, =~, !~, contains, #)"),
                ));
            }
        };
        let op = match op {
            "=" => TextOp::Is,
            "!=" => TextOp::IsNot,
            "=~" => TextOp::Matches,
            "!~" => TextOp::NotMatches,
            "contains" => TextOp::Contains,
            "#" => TextOp::Has,
            "!#" => TextOp::HasNot,
            other => {
                return Err(error(
                    column,
                    &format!("`{other}` compares ages and dates; `{word}` is a text"),
                ));
            }
        };
        let op_text = match op {
            TextOp::Is => "=",
            TextOp::IsNot => "!=",
            TextOp::Matches => "=~",
            TextOp::NotMatches => "!~",
            TextOp::Contains => "contains",
            TextOp::Has => "#",
            TextOp::HasNot => "!#",
        };
        let (value, value_column) = self.value(op_text, column)?;
        if matches!(op, TextOp::Matches | TextOp::NotMatches)
            && let Err(e) = regex(&value)
        {
            let why = e.to_string();
            let why = why.lines().last().unwrap_or("").trim();
            return Err(error(
                value_column,
                &format!("not a regular expression: {why}"),
            ));
        }
        Ok(Expr::Text { field, op, value })
    }

    fn time(&mut self, word: &str, age: bool) -> Result<Expr, QueryError> {
        let (op, column) = match self.next() {
            Some(Token {
                kind: Kind::Op(op @ ("<" | ">" | "<=" | ">=" | "=")),
                column,
            }) => (op, column),
            Some(other) => {
                return Err(error(
                    other.column,
                    &format!(
                        "expected <, >, <= or >= after `{word}`, found {}",
                        other.kind
                    ),
                ));
            }
            None => {
                return Err(error(
                    self.end,
                    &format!("expected <, >, <= or >= after `{word}`"),
                ));
            }
        };
        let (value, value_column) = self.value(op, column)?;
        let at = if age {
            TimeBound::AgeSecs(parse_age(&value).ok_or_else(|| {
                error(
                    value_column,
                    &format!("expected an age such as 7d, 12h, 30m or 2w, found \"{value}\""),
                )
            })?)
        } else {
            TimeBound::Date(parse_date(&value).ok_or_else(|| {
                error(
                    value_column,
                    &format!("expected a date such as 2026-11-01, found \"{value}\""),
                )
            })?)
        };
        // An age below a bound is newer than it; a date above one is newer.
        let (newer, inclusive) = match (op, age) {
            ("<", true) | (">", false) => (true, false),
            ("<=", true) | (">=", false) => (true, true),
            (">", true) | ("<", false) => (false, false),
            (">=", true) | ("<=", false) => (false, true),
            // `age = 3` (newsboat): younger than that many days.
            _ => (true, true),
        };
        Ok(Expr::Time {
            newer,
            inclusive,
            at,
        })
    }

    /// The value after an operator: a quoted text or a bare word.
    fn value(&mut self, op: &str, op_column: usize) -> Result<(String, usize), QueryError> {
        match self.next() {
            Some(Token {
                kind: Kind::Text(t) | Kind::Word(t),
                column,
            }) => Ok((t, column)),
            Some(other) => Err(error(
                other.column,
                &format!("expected a value after {op}, found {}", other.kind),
            )),
            None => Err(error(
                self.end.max(op_column + op.chars().count()),
                &format!("expected a value after {op}"),
            )),
        }
    }
}

/// `7d`, `12h`, `30m`, `2w`, `1y`, or a bare number of days, in seconds.
fn parse_age(text: &str) -> Option<i64> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "d"),
    };
    let n: i64 = digits.parse().ok()?;
    let unit = match unit.to_ascii_lowercase().as_str() {
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => return None,
    };
    n.checked_mul(unit)
}

/// `2026-11-01` (midnight UTC), in unix seconds.
fn parse_date(text: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

#[cfg(test)]
mod tests;
