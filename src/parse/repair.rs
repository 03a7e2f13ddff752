//! Recovery from the rejections real feeds provoke in feed-rs: a repaired copy
//! of the document, when one of the known fixes applies, for one more parse.
//! Each fix is narrow and textual and runs only on a document feed-rs has
//! already refused, so a document it accepts is never touched. It does not
//! parse or judge its result: the next parse does.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

static RSS_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<rss(\s[^>]*)?>"#).expect("valid regex"));
static VERSION_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\sversion\s*=\s*["'][^"']*["']"#).expect("valid regex"));
static STRAY_AMPERSAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"&(#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)?"#).expect("valid regex")
});

/// A repaired copy of a rejected document, when one of the known fixes applies:
/// an `<rss>` without a `<channel>` gets one; a JSON Feed gets the spec's version URL and a title (see
/// [`repair_json_feed`]); an `<rss>` without a version feed-rs knows (0.91, 0.92, 2.0) is read as 2.0;
/// stray `&`s are escaped; a `type` attribute feed-rs refused on a text element
/// becomes the nearest one it accepts (or goes, meaning plain text), and
/// where it is a binary type, the body is base64 and decoded.
/// `refused_type` is that attribute's value, when that was the rejection.
pub(super) fn repair(text: &str, refused_type: Option<&str>) -> Option<String> {
    if text.trim_start().starts_with('{') {
        return repair_json_feed(text);
    }
    let mut out = Cow::Borrowed(text);
    if let Some(wrapped) = rss_without_channel(text) {
        out = Cow::Owned(wrapped);
    }
    if let Some(m) = RSS_TAG.find(&out) {
        let tag = m.as_str();
        let known = [
            "\"2.0\"", "\"0.91\"", "\"0.92\"", "'2.0'", "'0.91'", "'0.92'",
        ];
        if !known.iter().any(|v| tag.contains(v)) {
            let fixed = format!(
                "<rss version=\"2.0\"{}",
                VERSION_ATTR.replace(&tag[4..], "")
            );
            out = Cow::Owned(out.replacen(tag, &fixed, 1));
        }
    }
    if let Some(mime) = refused_type {
        let lower = mime.to_ascii_lowercase();
        // A MIME type neither text nor XML on an Atom text construct: its
        // body is base64, decoded into plain text.
        if !lower.starts_with("text/")
            && !lower.contains("xml")
            && !lower.contains("html")
            && let Some(decoded) = atom10_base64(&out)
        {
            out = Cow::Owned(decoded);
        }
        let replacement = if lower.contains("xhtml") {
            " type=\"xhtml\""
        } else if lower.contains("html") {
            " type=\"html\""
        } else {
            ""
        };
        let mut fixed = out.into_owned();
        for quote in ['"', '\''] {
            fixed = fixed.replace(&format!(" type={quote}{mime}{quote}"), replacement);
        }
        out = Cow::Owned(fixed);
    }
    let escaped = STRAY_AMPERSAND.replace_all(&out, |c: &regex::Captures| {
        if c.get(1).is_some() {
            c[0].to_string()
        } else {
            "&amp;".to_string()
        }
    });
    let out = match escaped {
        Cow::Owned(s) => s,
        Cow::Borrowed(_) => out.into_owned(),
    };
    (out != text).then_some(out)
}

/// An Atom 1.0 text construct whose `type` is a MIME type outside text:
/// its start tag (the name, the attributes before and after the type, the
/// type) and its body.
static TYPED_CONSTRUCT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?s)<((?:[A-Za-z_][\w.-]*:)?(?:title|subtitle|rights|summary|content))(\s[^>]*?)?\stype\s*=\s*["']((?:application|image|audio|video|model|font)/[^"']*)["']([^>]*)>([^<]*)<"#,
    )
    .expect("valid regex")
});

/// Atom 1.0's base64 text constructs decoded: a `type` that is a MIME type
/// neither text nor XML means the body is base64. The decoded text becomes
/// a plain-text body; one that does not decode to text stays as written.
/// `None` when there is none.
fn atom10_base64(text: &str) -> Option<String> {
    let mut changed = false;
    let out = TYPED_CONSTRUCT.replace_all(text, |c: &Captures| {
        let mime = c[3].to_ascii_lowercase();
        let attributes = c.get(2).map_or("", |m| m.as_str());
        if mime.ends_with("xml") || c[4].contains("src=") || attributes.contains("src=") {
            return c[0].to_string();
        }
        changed = true;
        // A body that is not base64 of text is kept as the text it is, as
        // gofeed keeps it for a type it does not know.
        let decoded = super::base64_text(&c[5])
            .unwrap_or_else(|| html_escape::decode_html_entities(&c[5]).into_owned());
        format!(
            "<{}{attributes} type=\"text\"{}>{}<",
            &c[1],
            &c[4],
            html_escape::encode_text(&decoded)
        )
    });
    changed.then(|| out.into_owned())
}

/// An `<rss>` document whose items and channel elements sit in the root,
/// without the `<channel>` around them: with one.
fn rss_without_channel(text: &str) -> Option<String> {
    if !root_name(text)?.eq_ignore_ascii_case("rss") || text.contains("<channel") {
        return None;
    }
    let open = RSS_TAG.find(text)?;
    let close = text.rfind("</rss>")?;
    (close >= open.end()).then(|| {
        format!(
            "{}<channel>{}</channel>{}",
            &text[..open.end()],
            &text[open.end()..close],
            &text[close..]
        )
    })
}

/// A JSON Feed refused for its `version` or its missing `title`: real feeds
/// write the version as "1", "1.0", "1.1", a URL with "1.0", or not at all,
/// where feed-rs wants the spec's URL, and some have no title, which feed-rs
/// insists on. The copy has the URL of the version it names (1.1, else 1)
/// and an empty title, which `mapping` reads as none. Anything that is not a
/// JSON object with `items` is left alone.
fn repair_json_feed(text: &str) -> Option<String> {
    let mut json: serde_json::Value = serde_json::from_str(text).ok()?;
    let feed = json.as_object_mut()?;
    if !feed.get("items").is_some_and(serde_json::Value::is_array) {
        return None;
    }
    let version = feed.get("version").and_then(|v| v.as_str()).unwrap_or("");
    let spec = if version.contains("1.1") {
        "https://jsonfeed.org/version/1.1"
    } else {
        "https://jsonfeed.org/version/1"
    };
    let mut changed = false;
    if !version.starts_with(spec) || version.contains("1.0") {
        feed.insert("version".into(), spec.into());
        changed = true;
    }
    if !feed.get("title").is_some_and(serde_json::Value::is_string) {
        feed.insert("title".into(), "".into());
        changed = true;
    }
    changed.then(|| json.to_string())
}

/// The root element's name, skipping the XML declaration, comments and a
/// DOCTYPE: the first tag that starts with a letter or `_`.
pub(super) fn root_name(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(open) = memchr::memchr(b'<', &bytes[at..]) {
        let start = at + open + 1;
        if bytes
            .get(start)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        {
            let end = bytes[start..]
                .iter()
                .position(|b| {
                    !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
                })
                .map_or(bytes.len(), |n| start + n);
            return Some(&text[start..end]);
        }
        at = start;
    }
    None
}

/// The root element in words, for a message: "root element `<foo>` in
/// namespace `…`" (or "no root element" for what is not XML at all).
pub(super) fn describe_root(text: &str) -> String {
    let Some(name) = root_name(text) else {
        return "no root element".to_string();
    };
    let at = text.find(&format!("<{name}")).unwrap_or(0);
    let tag = &text[at..text[at..].find('>').map_or(text.len(), |end| at + end)];
    let prefix = name.split_once(':').map(|(p, _)| p);
    let declaration = match prefix {
        Some(prefix) => format!("xmlns:{prefix}="),
        None => "xmlns=".to_string(),
    };
    let namespace = tag.find(&declaration).and_then(|d| {
        let value = tag[d + declaration.len()..].trim_start();
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        value[1..].split(quote).next()
    });
    let name = crate::text::truncate(&crate::text::sanitize_text(name), 40);
    match namespace {
        Some(ns) => format!(
            "root element `<{name}>` in namespace `{}`",
            crate::text::truncate(&crate::text::sanitize_text(ns), 80)
        ),
        None => format!("root element `<{name}>`"),
    }
}

/// The document up to its last whole entry (`</item>` or `</entry>`), with
/// the root (and an RSS channel) closed after it: for a document that breaks
/// off, the part that can still be read. Also where the cut is, and where
/// that entry's end tag starts (to cut before it next time).
pub(super) fn cut_after_last_entry(text: &str) -> Option<(String, usize, usize)> {
    let root = root_name(text)?;
    let (start, end) = ["</item>", "</entry>"]
        .iter()
        .filter_map(|close| text.rfind(close).map(|at| (at, at + close.len())))
        .max()?;
    let local = root.rsplit(':').next().unwrap_or(root);
    let closers = if local.eq_ignore_ascii_case("rss") {
        format!("</channel></{root}>")
    } else {
        format!("</{root}>")
    };
    Some((format!("{}{closers}", &text[..end]), end, start))
}

/// Where a document stops being well-formed XML, and why, in words; and,
/// for a break in its end tags, the repair in place that lenient parsers
/// make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Break {
    pub at: usize,
    pub what: String,
    /// The bytes from `at` (this many) replaced by this text: end tags for
    /// elements left open, or the end tag expected where another was
    /// found.
    pub fix: Option<(usize, String)>,
}

impl Break {
    /// `text` with the repair made, when there is one.
    pub fn fixed(&self, text: &str) -> Option<String> {
        let (length, with) = self.fix.as_ref()?;
        let rest = text.get(self.at + length..)?;
        Some(format!("{}{with}{rest}", text.get(..self.at)?))
    }
}

/// The first place `text` breaks as XML, found by one quick-xml pass that
/// keeps the open elements: an end tag that closes an ancestor (what is
/// open inside it gets its end tags), an end tag that closes nothing open
/// (a misspelling: it becomes the one expected), or what quick-xml refuses
/// (an unclosed CDATA section, comment or tag), or the end coming with
/// elements still open. `None` when it is well-formed: feed-rs then refused
/// it for something else, which no cut mends.
pub(super) fn first_break(text: &str) -> Option<Break> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut open: Vec<String> = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event() {
            Ok(Event::Eof) if open.is_empty() => return None,
            Ok(Event::Eof) => {
                let innermost = open.last().map_or(String::new(), |n| {
                    crate::text::truncate(&crate::text::sanitize_text(n), 40)
                });
                return Some(Break {
                    at: text.len(),
                    what: format!("the document ends inside `<{innermost}>`"),
                    fix: None,
                });
            }
            Ok(Event::Start(start)) => open.push(start.name().as_ref().to_string()),
            Ok(Event::End(end)) => {
                let name = end.name().as_ref().to_string();
                if open.last() == Some(&name) {
                    open.pop();
                    continue;
                }
                let sane =
                    |name: &str| crate::text::truncate(&crate::text::sanitize_text(name), 40);
                if let Some(ancestor) = open.iter().rposition(|n| *n == name) {
                    let unclosed = &open[ancestor + 1..];
                    let closing: String =
                        unclosed.iter().rev().map(|n| format!("</{n}>")).collect();
                    let innermost = unclosed.last().map_or(String::new(), |n| sane(n));
                    return Some(Break {
                        at: before,
                        what: format!("`<{innermost}>` left open"),
                        fix: Some((0, closing)),
                    });
                }
                let length = reader.buffer_position() as usize - before;
                let expected = open.last().map(|n| format!("</{n}>"));
                return Some(Break {
                    at: before,
                    what: match &expected {
                        Some(e) => format!("`</{}>` where `{}` was expected", sane(&name), sane(e)),
                        None => format!("`</{}>` closing nothing", sane(&name)),
                    },
                    fix: Some((length, expected.unwrap_or_default())),
                });
            }
            Ok(_) => {}
            Err(error) => {
                return Some(Break {
                    at: usize::try_from(reader.error_position()).unwrap_or(text.len()),
                    what: crate::text::sanitize_text(&error.to_string()),
                    fix: None,
                });
            }
        }
    }
}

/// `text` without the entry (`<item>` or `<entry>`) that byte `at` is in,
/// when that entry has an end tag after `at`: the rest of the document may
/// then be whole. `None` when `at` is not inside an entry that ends.
pub(super) fn without_entry_at(text: &str, at: usize) -> Option<String> {
    let before = text.get(..at)?;
    let (start, name) = ["item", "entry"]
        .iter()
        .filter_map(|name| last_start_tag(before, name).map(|start| (start, *name)))
        .max()?;
    let close = format!("</{name}>");
    // The entry that started there must still be open at the break.
    if before[start..].contains(&close) {
        return None;
    }
    let end = at + text[at..].find(&close)? + close.len();
    Some(format!("{}{}", &text[..start], &text[end..]))
}

/// Where the last `<name>` or `<name ...>` start tag (no prefix) in `text` begins.
fn last_start_tag(text: &str, name: &str) -> Option<usize> {
    let open = format!("<{name}");
    let mut end = text.len();
    while let Some(at) = text[..end].rfind(&open) {
        let next = text[at + open.len()..].chars().next();
        if matches!(next, Some('>' | ' ' | '\t' | '\n' | '\r')) {
            return Some(at);
        }
        end = at;
    }
    None
}
