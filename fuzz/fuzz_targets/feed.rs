//! Feed bytes → ingest, as a refresh reads a 2xx answer (`refresh::read_answer`
//! without its thread): the charset pre-pass with an HTTP charset picked by
//! the input's length, the parse with its repairs and recovery, the
//! sanitising mapping and guid keys, then the image finder. Checks the
//! promises in `tests/invariants` (clean text, unique keys, web links) and,
//! for small inputs, that a second parse gives the same keys.
#![no_main]

#[path = "../../tests/invariants/mod.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;
use tidings::fetch::looks_like_html;
use tidings::images::find_in_feed;
use tidings::parse::parse_feed;

const BASE: &str = "http://fuzz.test/feed.xml";

/// The `charset` of a Content-Type, as servers send it (or do not).
const CHARSETS: [Option<&str>; 8] = [
    None,
    Some("utf-8"),
    Some("ISO-8859-1"),
    Some("windows-1252"),
    Some("utf-16"),
    Some("shift_jis"),
    Some("koi8-r"),
    Some("no-such-charset"),
];

fuzz_target!(|data: &[u8]| {
    let charset = CHARSETS[data.len() % CHARSETS.len()];
    match parse_feed(data, charset, BASE) {
        Ok(mut feed) => {
            invariants::check_feed(&feed);
            if data.len() <= 16 << 10 && !feed.articles.is_empty() {
                let again = parse_feed(data, charset, BASE).expect("parsed once, parses again");
                invariants::check_stable(&feed, &again);
            }
            find_in_feed(&mut feed, BASE);
        }
        Err(e) => {
            invariants::assert_clean("a parse error", &e.to_string());
            let _ = looks_like_html(data, None);
        }
    }
});
