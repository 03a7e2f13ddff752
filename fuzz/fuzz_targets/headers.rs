//! HTTP response headers → what the refresher takes from them
//! (`fetch::header_text`, `charset_of`, `max_age`, `retry_after`), plus the
//! body steps they steer: `decode_body` by Content-Encoding, the charset
//! pre-pass by Content-Type, `looks_like_html`. The input is a header block
//! (`Name: value` lines), a blank line and a body. Checks: nothing panics;
//! ETag and Last-Modified, stored verbatim, can be sent back as headers; the
//! seconds read can be added to a timestamp, as the refresher does, without
//! overflow; a decoded body stays within its limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tidings::fetch::{charset_of, decode_body, header_text, looks_like_html, max_age, retry_after};
use tidings::parse::to_utf8;

const LIMIT: u64 = 256 << 10;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(&line[colon + 1..]),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    let now = 1_800_000_000_i64;
    let text = |name| header_text(&headers, name);
    for name in [reqwest::header::ETAG, reqwest::header::LAST_MODIFIED] {
        if let Some(value) = text(name) {
            assert!(
                HeaderValue::from_str(&value).is_ok(),
                "a stored validator cannot be sent back: {value:?}"
            );
        }
    }
    if let Some(secs) = text(reqwest::header::CACHE_CONTROL).and_then(|v| max_age(&v)) {
        assert!(
            i64::try_from(secs).is_ok_and(|s| now.checked_add(s).is_some()),
            "max-age {secs} overflows a timestamp"
        );
    }
    if let Some(secs) = text(reqwest::header::RETRY_AFTER).and_then(|v| retry_after(&v)) {
        assert!(
            i64::try_from(secs).is_ok_and(|s| now.checked_add(s).is_some()),
            "Retry-After {secs} overflows a timestamp"
        );
    }
    let content_type = text(reqwest::header::CONTENT_TYPE);
    let charset = content_type.as_deref().and_then(charset_of);
    let encoding = text(reqwest::header::CONTENT_ENCODING);
    if let Ok(decoded) = decode_body(body, encoding.as_deref(), LIMIT) {
        assert!(decoded.len() as u64 <= LIMIT, "decoded past the limit");
        let _ = to_utf8(&decoded, charset);
        let _ = looks_like_html(&decoded, content_type.as_deref());
    }
});
