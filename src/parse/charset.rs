//! The charset pre-pass: a document's bytes → UTF-8 text whose XML declaration
//! (if any) says UTF-8. The encoding comes from the BOM, else the XML
//! declaration, else the HTTP charset, else UTF-8, else windows-1252. feed-rs
//! must only ever see its output: left to itself it would decode a second time,
//! and it panics on some UTF-16 documents. It changes nothing but the encoding
//! and the declaration's label.

use std::borrow::Cow;
use std::sync::LazyLock;

use encoding_rs::Encoding;
use regex::Regex;

static XML_DECL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*<\?xml[^>]*?\?>"#).expect("valid regex"));
static DECL_ENCODING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']"#).expect("valid regex")
});

/// An XML declaration anywhere in a document, as quick-xml reads one (up to
/// the first `?>`, whatever comes before), and its encoding label (any
/// value, quoted or not; `Encoding::for_label` trims it).
static ANY_DECL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?is)<\?xml\s.*?\?>"#).expect("valid regex"));
static ANY_ENCODING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"encoding\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'?>]+))"#).expect("valid regex")
});

/// Decodes a document to UTF-8 and makes its XML declaration (if any) agree.
/// A document that is UTF-8 already and says so (or says nothing) is not copied.
pub fn to_utf8<'a>(bytes: &'a [u8], http_charset: Option<&str>) -> Cow<'a, str> {
    let encoding = detect_encoding(bytes, http_charset);
    let (decoded, _, had_errors) = encoding.decode(bytes);
    let mut text = if had_errors && encoding == encoding_rs::UTF_8 {
        // Undeclared legacy bytes: the common case is windows-1252.
        encoding_rs::WINDOWS_1252.decode(bytes).0
    } else {
        decoded
    };
    if text.starts_with('\u{feff}') {
        text.to_mut().remove(0);
    }
    // The text is UTF-8 now: say so, or feed-rs would decode it again. It
    // switches its decoder at every declaration it meets, and one past the
    // start of the document (two feeds run together, a pasted one) that names
    // another encoding makes it panic: each says UTF-8.
    let declared: Vec<_> = ANY_DECL
        .find_iter(&text)
        .filter(|decl| {
            ANY_ENCODING.captures_iter(decl.as_str()).any(|label| {
                let label = (1..=3)
                    .find_map(|i| label.get(i))
                    .map_or("", |l| l.as_str());
                Encoding::for_label(label.as_bytes()).is_some_and(|e| e != encoding_rs::UTF_8)
            })
        })
        .map(|decl| {
            let fixed = ANY_ENCODING.replace_all(decl.as_str(), r#"encoding="utf-8""#);
            (decl.range(), fixed.into_owned())
        })
        .collect();
    for (range, fixed) in declared.into_iter().rev() {
        text.to_mut().replace_range(range, &fixed);
    }
    text
}

fn detect_encoding(bytes: &[u8], http_charset: Option<&str>) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    // A declaration in a 16-bit encoding without BOM shows as ASCII with NULs.
    if bytes.starts_with(&[0, b'<', 0, b'?']) {
        return encoding_rs::UTF_16BE;
    }
    if bytes.starts_with(&[b'<', 0, b'?', 0]) {
        return encoding_rs::UTF_16LE;
    }
    let head = &bytes[..bytes.len().min(512)];
    let head = String::from_utf8_lossy(head);
    if let Some(decl) = XML_DECL.find(&head)
        && let Some(label) = DECL_ENCODING.captures(decl.as_str())
        && let Some(encoding) = Encoding::for_label(label[1].as_bytes())
    {
        // A UTF-16 label on bytes without a BOM or NULs is a lie: the bytes are 8-bit.
        if encoding != encoding_rs::UTF_16BE && encoding != encoding_rs::UTF_16LE {
            return encoding;
        }
    }
    if let Some(encoding) = http_charset.and_then(|c| Encoding::for_label(c.trim().as_bytes()))
        && encoding != encoding_rs::UTF_16BE
        && encoding != encoding_rs::UTF_16LE
    {
        return encoding;
    }
    encoding_rs::UTF_8
}
