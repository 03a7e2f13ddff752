//! feed-rs behind one door: the parser built the way tidings needs it (our
//! base URL, no invented ids), called, and its errors turned into
//! [`ParseError`]s (a panic of feed-rs too). This is the only file that calls
//! into `feed_rs::parser`;
//! everything else sees feed-rs's model or a [`Rejection`], so a change of
//! parser crate or version is felt here and in `mapping`. It repairs nothing
//! and sanitises nothing but the error messages it passes on.

use feed_rs::parser::{Builder, ParseErrorKind, ParseFeedError};

use super::ParseError;
use crate::text::sanitize_text;

/// A document feed-rs refused: the error to show, and what `repair` needs to
/// know to try again.
pub(super) struct Rejection {
    pub error: ParseError,
    /// The `type` attribute value feed-rs would not accept on a text element.
    pub refused_type: Option<String>,
}

/// Parses UTF-8 `bytes` with feed-rs; relative links resolve against `base_url`.
/// A panic inside feed-rs (it slices strings at byte offsets; `guard` mends
/// the forms known to trip it) is a refusal of the document, never a crash.
pub(super) fn parse(bytes: &[u8], base_url: &str) -> Result<feed_rs::model::Feed, Rejection> {
    let parser = Builder::new()
        .base_uri(Some(base_url))
        // An empty id marks "the feed gave none"; `identity::guid_key` derives a stable one.
        .id_generator(|_, _, _| String::new())
        .build();
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(bytes)))
        .map_err(|_| Rejection {
            error: ParseError::Malformed(
                "the feed parser failed on this document (feed-rs panicked; see the log)".into(),
            ),
            refused_type: None,
        })?;
    parsed.map_err(|error| Rejection {
        refused_type: match &error {
            ParseFeedError::ParseError(ParseErrorKind::UnknownMimeType { mime, .. }) => {
                Some(mime.clone())
            }
            _ => None,
        },
        error: describe(error),
    })
}

fn describe(error: ParseFeedError) -> ParseError {
    match error {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            ParseError::NotAFeed("no RSS, Atom or JSON Feed root element".into())
        }
        other => ParseError::Malformed(sanitize_text(&other.to_string())),
    }
}
