//! Bytes of a feed document → a sanitised [`ParsedFeed`]: the half of fetching
//! that needs no network, so it is tested with fixture files alone. It lives
//! apart from `fetch` because it changes for different reasons (feed formats and
//! their quirks, not HTTP). It fetches nothing, stores nothing and looks for no
//! images: the caller runs `images::find_in_feed` on its result, with what
//! `mapping` kept for it (each entry's `xml:base` and thumbnails).
//!
//! The path every document takes, one submodule per step:
//! 1. `charset` turns the bytes into UTF-8 (BOM → XML declaration → HTTP
//!    charset → UTF-8 → windows-1252) and rewrites the declaration to say so,
//!    because feed-rs would otherwise decode a second time (and panics on some
//!    UTF-16 documents);
//! 2. `adapter` runs feed-rs, the one place that calls it, and turns its
//!    rejections into [`ParseError`]s; `guard` first sets apart what feed-rs
//!    would panic on rather than refuse (found by fuzzing);
//! 3. when feed-rs rejects one of the known real-world forms (`<rss>` without a
//!    version it knows, a stray `&`, a `type` it refuses), `repair` makes a fixed
//!    copy and feed-rs parses once more, a few times at most;
//! 4. `mapping` turns feed-rs's model into ours and sanitises every text on the
//!    way: control and bidi characters stripped, entities in titles decoded,
//!    links resolved against `xml:base` or the feed URL;
//! 5. `identity` gives each entry a stable `guid_key`, so the same document
//!    parsed twice gives the same keys (feed-rs would invent random ids for
//!    entries without one), and fills the fields derived from the others (search
//!    text, fingerprint).
//!
//! Callers run [`parse_feed`] inside `spawn_blocking` and catch panics there.

mod adapter;
mod charset;
mod dialects;
mod extensions;
mod guard;
mod identity;
mod mapping;
mod repair;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use feed_rs::model::FeedType;

pub use charset::to_utf8;
pub use identity::{finish_article, guid_key, story_key};
pub use mapping::absolute_urls;

/// The text of an HTML body the search index holds for it (tags gone,
/// entities decoded).
pub fn search_text(html: &str) -> String {
    identity::html_to_search_text(html)
}

use crate::model::ParsedFeed;

/// Most entries kept from one document: more is a broken or hostile feed.
pub const MAX_ITEMS_PER_FEED: usize = 50_000;

/// Why a document could not be turned into a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("malformed feed: {0}")]
    Malformed(String),
}

/// Parses one feed document. `http_charset` is the `charset` of the response's
/// Content-Type, `base_url` the address it came from (for relative links).
pub fn parse_feed(
    bytes: &[u8],
    http_charset: Option<&str>,
    base_url: &str,
) -> Result<ParsedFeed, ParseError> {
    parse_with_passes(bytes, http_charset, base_url, true)
}

/// [`parse_feed`] without the passes around feed-rs that read what it
/// does not (old dialects, extension elements, broken documents): for the
/// benchmarks that measure what those passes cost, and nothing else.
#[doc(hidden)]
pub fn parse_feed_without_passes(
    bytes: &[u8],
    http_charset: Option<&str>,
    base_url: &str,
) -> Result<ParsedFeed, ParseError> {
    parse_with_passes(bytes, http_charset, base_url, false)
}

fn parse_with_passes(
    bytes: &[u8],
    http_charset: Option<&str>,
    base_url: &str,
    passes: bool,
) -> Result<ParsedFeed, ParseError> {
    let mut text = to_utf8(bytes, http_charset);
    if !passes {
        return parse_with_repairs(text, base_url)
            .map(|(feed, _)| mapping::convert(feed, base_url, None))
            .map_err(|(error, _)| error);
    }
    let mut signs = head_signs(&text);
    if let Some(modern) = dialects::modernise(&text, &signs[..dialects::SIGNS.len()]) {
        text = Cow::Owned(modern);
        signs = head_signs(&text);
    }
    match parse_with_repairs(text, base_url) {
        Ok((feed, text)) => {
            let mut parsed = finish(feed, &text, base_url, &signs);
            parsed.update_every_minutes = update_every_minutes(&text);
            if parsed.title.is_none() && parsed.articles.is_empty() {
                parsed.warning = Some(format!(
                    "no feed found: {}, without a title or entries",
                    repair::describe_root(&text)
                ));
            }
            Ok(parsed)
        }
        Err((error @ ParseError::Malformed(_), text)) => {
            recover(&text, base_url, &error).ok_or(error)
        }
        // Say what the document is, as far as its root tells.
        Err((ParseError::NotAFeed(_), text)) if !text.trim_start().starts_with(['{', '[']) => {
            Err(ParseError::NotAFeed(repair::describe_root(&text)))
        }
        Err((error, _)) => Err(error),
    }
}

/// feed-rs on `text`, then on a repaired copy each time it refuses one of the
/// known real-world forms (a document may need a few). Gives the feed with
/// the text it was read from, or the first refusal with the text as last
/// repaired.
fn parse_with_repairs<'a>(
    mut text: Cow<'a, str>,
    base_url: &str,
) -> Result<(feed_rs::model::Feed, Cow<'a, str>), (ParseError, Cow<'a, str>)> {
    // Forms feed-rs panics on, made harmless first: a panic gives no
    // rejection to repair.
    if let Some(guarded) = guard::person_emails(&text) {
        text = Cow::Owned(guarded);
    }
    let mut first_error = None;
    for _ in 0..MAX_REPAIRS {
        let rejection = match adapter::parse(text.as_bytes(), base_url) {
            Ok(feed) => return Ok((feed, text)),
            Err(rejection) => rejection,
        };
        let repaired = repair::repair(&text, rejection.refused_type.as_deref());
        first_error.get_or_insert(rejection.error);
        match repaired {
            Some(fixed) => text = Cow::Owned(fixed),
            None => break,
        }
    }
    Err((first_error.expect("at least one parse was tried"), text))
}

const MAX_REPAIRS: usize = 4;

/// End tags repaired at most in one document (each costs a pass over it).
const MAX_TAG_REPAIRS: usize = 64;

/// Entries given up at most when a document is cut back to its last whole
/// entry, one at a time, to find the break.
const MAX_CUTS: usize = 8;

/// feed-rs's feed as ours: the extension pass (for RSS that may need it),
/// then the mapping with its fallbacks.
/// `signs`: [`head_signs`] of `text`.
fn finish(
    feed: feed_rs::model::Feed,
    text: &str,
    base_url: &str,
    signs: &[bool; HEAD_SIGNS],
) -> ParsedFeed {
    let extensions = match &feed.feed_type {
        FeedType::JSON => extensions::collect_json(text),
        _ => extensions::worth_a_look(text, &feed, &signs[dialects::SIGNS.len()..])
            .then(|| extensions::collect(text, base_url)),
    };
    mapping::convert(feed, base_url, extensions.as_ref())
}

/// A broken document (a cut download, an unclosed CDATA section or element,
/// a mismatched end tag), read as lenient parsers read it. End tags are
/// repaired first (elements left open are closed, a misspelt end tag
/// becomes the expected one); where the XML still breaks inside an entry
/// that ends later, that entry is left out and the rest is read; where it
/// breaks off, every entry before the break is read. The feed says which
/// in its `warning`.
fn recover(text: &str, base_url: &str, error: &ParseError) -> Option<ParsedFeed> {
    // Without a whole entry there is nothing to recover.
    let entry_ends = ["</item>", "</entry>"];
    if !entry_ends
        .iter()
        .any(|end| memchr::memmem::find(text.as_bytes(), end.as_bytes()).is_some())
    {
        return None;
    }
    let mut doc = Cow::Borrowed(text);
    // End tags repaired in place first, as lenient parsers read them.
    let mut repaired: Vec<String> = Vec::new();
    let mut found = repair::first_break(&doc);
    while repaired.len() < MAX_TAG_REPAIRS
        && let Some(b) = &found
        && let Some(fixed) = b.fixed(&doc)
    {
        repaired.push(format!("{} at byte {}", b.what, b.at));
        doc = Cow::Owned(fixed);
        found = repair::first_break(&doc);
    }
    if !repaired.is_empty()
        && let Ok((feed, fixed)) = parse_with_repairs(Cow::Borrowed(doc.as_ref()), base_url)
    {
        let mut parsed = finish(feed, &fixed, base_url, &head_signs(&fixed));
        parsed.warning = Some(recovery_warning(
            &repaired,
            &[],
            None,
            parsed.articles.len(),
        ));
        return Some(parsed);
    }
    // Well-formed: feed-rs refused it for something else, which no cut mends.
    found.as_ref()?;
    // A break left after the repairs, which cutting works around.
    let mut found = found.filter(|b| b.fix.is_none());
    let mut left_out: Vec<String> = Vec::new();
    // Where the next cut back to a whole entry looks, once one was made.
    let mut end: Option<usize> = None;
    for _ in 0..MAX_CUTS {
        // Until the document is cut back, the break may be inside an entry
        // that can be left out on its own.
        let inside_entry = found
            .as_ref()
            .filter(|_| end.is_none())
            .and_then(|b| Some((b, repair::without_entry_at(&doc, b.at)?)));
        let (candidate, cut) = match inside_entry {
            Some((b, shorter)) => {
                left_out.push(format!("{} at byte {}", b.what, b.at));
                (shorter, None)
            }
            None => {
                let until = end.or(found.as_ref().map(|b| b.at)).unwrap_or(doc.len());
                let (candidate, at, entry_end) = repair::cut_after_last_entry(&doc[..until])?;
                end = Some(entry_end);
                (candidate, Some(at))
            }
        };
        match parse_with_repairs(Cow::Owned(candidate), base_url) {
            Ok((feed, candidate)) => {
                let mut parsed = finish(feed, &candidate, base_url, &head_signs(&candidate));
                let broke_off =
                    cut.map(|at| (why_it_broke_off(&doc[at..], found.as_ref(), error), at));
                parsed.warning = Some(recovery_warning(
                    &repaired,
                    &left_out,
                    broke_off,
                    parsed.articles.len(),
                ));
                return Some(parsed);
            }
            // A left-out entry was not the only break: look again in what is left.
            Err((_, candidate)) if cut.is_none() => {
                doc = Cow::Owned(candidate.into_owned());
                found = repair::first_break(&doc).filter(|b| b.fix.is_none());
            }
            Err(_) => {}
        }
    }
    None
}

/// Why a document broke off, `rest` being what was cut from it.
fn why_it_broke_off(rest: &str, found: Option<&repair::Break>, error: &ParseError) -> String {
    let unclosed_cdata = rest
        .rfind("<![CDATA[")
        .is_some_and(|open| !rest[open..].contains("]]>"));
    if unclosed_cdata {
        "an unclosed CDATA section".to_string()
    } else if let Some(b) = found {
        b.what.clone()
    } else {
        error.to_string()
    }
}

/// The warning of a recovered document: each end tag repaired, each entry
/// left out and why, where it broke off (why, and the byte its entries were
/// read up to), and how many entries were read.
fn recovery_warning(
    repaired: &[String],
    left_out: &[String],
    broke_off: Option<(String, usize)>,
    n: usize,
) -> String {
    let entries = if n == 1 { "entry" } else { "entries" };
    let mut parts: Vec<String> = Vec::new();
    if !repaired.is_empty() {
        parts.push(format!("{} (repaired)", repaired.join(", ")));
    }
    if !left_out.is_empty() {
        let them = if left_out.len() == 1 {
            "an entry"
        } else {
            "entries"
        };
        parts.push(format!("{} (left out {them})", left_out.join(", ")));
    }
    parts.push(match broke_off {
        Some((what, at)) => format!("{what}; read {n} {entries} before byte {at}"),
        None => format!("read {n} {entries}"),
    });
    format!("recovered: {}", parts.join("; "))
}

/// Patterns looked for together in the top of every document, to decide
/// which passes it needs: one SIMD scan (Teddy) where the CPU has it, an
/// Aho-Corasick automaton where it does not. The patterns must not overlap
/// one another (none starts inside another's match), since a scan moves on
/// past each match.
struct Signs {
    simd: Option<aho_corasick::packed::Searcher>,
    automaton: aho_corasick::AhoCorasick,
}

impl Signs {
    fn new<S: AsRef<str>>(patterns: &[S]) -> Signs {
        Signs {
            simd: aho_corasick::packed::Config::new()
                .builder()
                .extend(patterns.iter().map(AsRef::as_ref))
                .build(),
            automaton: aho_corasick::AhoCorasick::new(patterns.iter().map(AsRef::as_ref))
                .expect("valid patterns"),
        }
    }

    /// Which of the patterns occur in `text`, by their position.
    fn which<const N: usize>(&self, text: &str) -> [bool; N] {
        self.which_split(text, 0).1
    }

    /// Which of the patterns occur in `text` before byte `split`, and which
    /// at or after it.
    fn which_split<const N: usize>(&self, text: &str, split: usize) -> ([bool; N], [bool; N]) {
        let mut found = ([false; N], [false; N]);
        self.each_match(text, |start, _, pattern| {
            if start < split {
                found.0[pattern] = true;
            } else {
                found.1[pattern] = true;
            }
        });
        found
    }

    /// Calls `f` with the start, end and pattern of each match, in order.
    fn each_match(&self, text: &str, mut f: impl FnMut(usize, usize, usize)) {
        match &self.simd {
            Some(simd) => simd
                .find_iter(text)
                .for_each(|m| f(m.start(), m.end(), m.pattern().as_usize())),
            None => self
                .automaton
                .find_iter(text)
                .for_each(|m| f(m.start(), m.end(), m.pattern().as_usize())),
        }
    }
}

/// A date as feeds outside feed-rs's reach write it (extension elements,
/// CDF): RFC 3339, RFC 2822, or W3C-DTF / ISO 8601 without a zone (read as
/// UTC), with or without seconds, or a day alone.
fn read_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(d.timestamp());
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc2822(text) {
        return Some(d.timestamp());
    }
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|d| d.and_utc().timestamp())
}

/// A base64 body decoded (white space in it ignored); `None` when it is
/// not base64.
fn base64_bytes(body: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// A base64 body decoded into text; `None` when it is not base64 of UTF-8.
fn base64_text(body: &str) -> Option<String> {
    base64_bytes(body).and_then(|bytes| String::from_utf8(bytes).ok())
}

/// How often a feed says it changes, from the Syndication module's
/// `sy:updatePeriod` (hourly, daily, weekly, monthly, yearly) and
/// `sy:updateFrequency` (that many times a period, 1 when absent), in
/// minutes. They belong to the channel, so only the top of the document is
/// looked at; under any prefix.
fn update_every_minutes(text: &str) -> Option<u32> {
    static PERIOD: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(":updatePeriod"));
    static FREQUENCY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(":updateFrequency"));
    let top = prefix(text, 16 << 10);
    let text_of = |name: &memchr::memmem::Finder| -> Option<&str> {
        let at = name.find(top.as_bytes())?;
        let rest = &top[at + name.needle().len()..];
        let rest = &rest[rest.find('>')? + 1..];
        Some(rest[..rest.find('<')?].trim())
    };
    let period_minutes: u32 = match text_of(&PERIOD)?.to_ascii_lowercase().as_str() {
        "hourly" => 60,
        "daily" => 24 * 60,
        "weekly" => 7 * 24 * 60,
        "monthly" => 30 * 24 * 60,
        "yearly" => 365 * 24 * 60,
        _ => return None,
    };
    let frequency: u32 = text_of(&FREQUENCY)
        .and_then(|f| f.parse().ok())
        .filter(|&f| f > 0)
        .unwrap_or(1);
    Some((period_minutes / frequency).max(1))
}

/// How many signs [`head_signs`] looks for: the dialects' and then the
/// extension pass's.
const HEAD_SIGNS: usize = dialects::SIGNS.len() + extensions::SIGNS.len();

static HEAD_FINDER: std::sync::LazyLock<Signs> =
    std::sync::LazyLock::new(|| Signs::new(&[dialects::SIGNS, extensions::SIGNS].concat()));

/// Which of the dialects' signs and then the extension pass's the top of
/// `text` holds: one scan for both passes.
fn head_signs(text: &str) -> [bool; HEAD_SIGNS] {
    HEAD_FINDER.which(head(text))
}

/// How much of the top of a document [`head`] gives.
const HEAD_BYTES: usize = 4 << 10;

/// The top of a document, where its root element and namespaces are: what
/// the passes that only run for some dialects look at to decide.
fn head(text: &str) -> &str {
    prefix(text, HEAD_BYTES)
}

/// At most the first `bytes` of `text`, cut at a character boundary.
fn prefix(text: &str, bytes: usize) -> &str {
    let mut end = text.len().min(bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
