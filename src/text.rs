//! What may reach a terminal from text a feed, a server or a user supplied:
//! [`sanitize_text`] strips the control, C1 and bidi characters that could
//! move the cursor, change colours or reorder a line; [`clean_title`] makes
//! one plain line of a title; [`resolve_url`] lets only web addresses through;
//! [`truncate`] cuts to a number of characters. Everything stored is
//! sanitised at ingestion with these, and everything printed passes them.
//! This module sits below every other that handles text and imports none.

use std::sync::LazyLock;

use regex::Regex;

/// Resolves a possibly relative address against `base`; only web addresses
/// (and mailto) survive, so nothing in a feed can point tidings at a local file.
pub fn resolve_url(href: &str, base: &str) -> Option<String> {
    let href = sanitize_text(href.trim());
    if href.is_empty() {
        return None;
    }
    let resolved = match url::Url::parse(&href) {
        Ok(url) => url,
        Err(_) => url::Url::parse(base).ok()?.join(&href).ok()?,
    };
    matches!(resolved.scheme(), "http" | "https" | "mailto").then(|| resolved.to_string())
}

/// `href` resolved against `base`, when the result is an http(s) URL: an
/// address tidings may fetch or open.
pub fn web_url(href: &str, base: &str) -> Option<String> {
    resolve_url(href, base).filter(|u| u.starts_with("http://") || u.starts_with("https://"))
}

static INLINE_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)</?(?:em|strong|b|i|u|s|q|code|span|a|sup|sub|small|big|abbr|cite|del|ins|mark|br|font|tt|kbd|var|samp|strike|p|div|img)\b[^<>]*>",
    )
    .expect("valid regex")
});

/// A title as plain text: inline markup removed, entities decoded, one line.
/// Only ASCII whitespace runs collapse: a non-breaking or other Unicode space
/// is the author's and stays.
pub fn clean_title(raw: &str) -> String {
    let no_tags = INLINE_TAG.replace_all(raw, "");
    let decoded = html_escape::decode_html_entities(&no_tags);
    let clean = sanitize_text(&decoded);
    clean.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// Strips what must never reach a terminal from feed-supplied text: C0 controls
/// but tab and newline, DEL, C1 controls and the bidi overrides and isolates.
pub fn sanitize_text(text: &str) -> String {
    if has_forbidden(text) {
        text.chars().filter(|c| !is_forbidden(*c)).collect()
    } else {
        text.to_string()
    }
}

/// [`sanitize_text`] for a string already owned: clean text is kept, not copied.
pub fn sanitize_owned(text: String) -> String {
    if has_forbidden(&text) {
        sanitize_text(&text)
    } else {
        text
    }
}

/// Whether `text` holds a character [`is_forbidden`] names, by a scan of its
/// UTF-8 bytes: C0 and DEL are single bytes, C1 is C2 80–9F, the bidi
/// controls are E2 80 AA–AE and E2 81 A6–A9.
fn has_forbidden(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Control bytes: a branch-free pass over 64-byte blocks, which the compiler vectorises.
    let control = |b: u8| (b < 0x20 && b != b'\t' && b != b'\n') | (b == 0x7f);
    if bytes
        .chunks(64)
        .any(|block| block.iter().fold(false, |seen, &b| seen | control(b)))
    {
        return true;
    }
    // C1 and bidi controls start with 0xc2 or 0xe2: look only where those bytes are.
    memchr::memchr2_iter(0xc2, 0xe2, bytes).any(|i| match bytes[i] {
        0xc2 => matches!(bytes.get(i + 1), Some(0x80..=0x9f)),
        _ => matches!(
            (bytes.get(i + 1), bytes.get(i + 2)),
            (Some(0x80), Some(0xaa..=0xae)) | (Some(0x81), Some(0xa6..=0xa9))
        ),
    })
}

/// A character never to print: C0 controls but tab and newline, DEL, C1
/// controls, and the bidi overrides and isolates.
pub fn is_forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` cut to `max` characters, the last one an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_scan_agrees_with_the_character_rule() {
        for c in [
            '\u{0}', '\u{1b}', '\r', '\u{7f}', '\u{80}', '\u{9b}', '\u{9f}', '\u{202a}',
            '\u{202e}', '\u{2066}', '\u{2069}', 'a', '\t', '\n', '\u{a0}', '\u{2019}', '\u{2026}',
            '\u{2029}', '\u{2070}', 'é', '😀',
        ] {
            let text = format!("x{c}y");
            assert_eq!(has_forbidden(&text), is_forbidden(c), "{c:?}");
            assert_eq!(
                sanitize_owned(text.clone()) == text,
                !is_forbidden(c),
                "{c:?}"
            );
        }
    }
}
