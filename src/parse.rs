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
//!    rejections into [`ParseError`]s;
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
mod identity;
mod mapping;
mod repair;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use feed_rs::model::FeedType;

pub use charset::to_utf8;
pub use identity::{finish_article, guid_key};

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
    let mut text = to_utf8(bytes, http_charset);
    if let Some(modern) = dialects::modernise(&text) {
        text = Cow::Owned(modern);
    }
    let mut first_error = None;
    // Each repair fixes one known rejection; a document may need a few.
    for _ in 0..MAX_REPAIRS {
        let rejection = match adapter::parse(text.as_bytes(), base_url) {
            Ok(feed) => {
                let rss = matches!(
                    feed.feed_type,
                    FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2
                );
                let extensions =
                    (rss && extensions::worth_a_look(&text)).then(|| extensions::collect(&text));
                return Ok(mapping::convert(feed, base_url, extensions.as_ref()));
            }
            Err(rejection) => rejection,
        };
        let repaired = repair::repair(&text, rejection.refused_type.as_deref());
        first_error.get_or_insert(rejection.error);
        match repaired {
            Some(fixed) => text = Cow::Owned(fixed),
            None => break,
        }
    }
    Err(first_error.expect("at least one parse was tried"))
}

const MAX_REPAIRS: usize = 4;

/// The top of a document, where its root element and namespaces are: what
/// the passes that only run for some dialects look at to decide.
fn head(text: &str) -> &str {
    let mut end = text.len().min(16 << 10);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
