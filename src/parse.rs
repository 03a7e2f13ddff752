//! Bytes of a feed document → a sanitised [`ParsedFeed`]: the half of fetching
//! that needs no network, so it is tested with fixture files alone. It lives
//! apart from `fetch` because it changes for different reasons (feed formats and
//! their quirks, not HTTP).
//!
//! The path every document takes:
//! 1. a charset pre-pass turns the bytes into UTF-8 (BOM → XML declaration → HTTP
//!    charset → UTF-8 → windows-1252) and rewrites the declaration to say so,
//!    because feed-rs would otherwise decode a second time (and panics on some
//!    UTF-16 documents);
//! 2. feed-rs parses; when it rejects one of the known real-world forms (`<rss>`
//!    without a version, a stray `&`), a repaired copy is parsed once more;
//! 3. every text is sanitised: control and bidi characters stripped, entities in
//!    titles decoded, links resolved against `xml:base` or the feed URL;
//! 4. each entry gets a stable `guid_key`, so the same document parsed twice gives
//!    the same keys (feed-rs would invent random ids for entries without one).
//!
//! Callers run [`parse_feed`] inside `spawn_blocking` and catch panics there.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

use encoding_rs::Encoding;
use regex::Regex;
use xxhash_rust::xxh3::Xxh3;

use crate::model::{Enclosure, ParsedArticle, ParsedFeed};
use crate::text::{clean_title, resolve_url, sanitize_owned, sanitize_text};

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
    let mut first_error = None;
    // Each repair fixes one known rejection; a document may need a few.
    for _ in 0..MAX_REPAIRS {
        let error = match parse_with_feed_rs(text.as_bytes(), base_url) {
            Ok(feed) => return Ok(convert(feed, base_url)),
            Err(e) => e,
        };
        let repaired = repair(&text, &error);
        first_error.get_or_insert(error);
        match repaired {
            Some(fixed) => text = Cow::Owned(fixed),
            None => break,
        }
    }
    Err(describe(first_error.expect("at least one parse was tried")))
}

const MAX_REPAIRS: usize = 4;

fn parse_with_feed_rs(
    bytes: &[u8],
    base_url: &str,
) -> Result<feed_rs::model::Feed, feed_rs::parser::ParseFeedError> {
    feed_rs::parser::Builder::new()
        .base_uri(Some(base_url))
        // An empty id marks "the feed gave none"; `guid_key` derives a stable one.
        .id_generator(|_, _, _| String::new())
        .build()
        .parse(bytes)
}

fn describe(error: feed_rs::parser::ParseFeedError) -> ParseError {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match error {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            ParseError::NotAFeed("no RSS, Atom or JSON Feed root element".into())
        }
        other => ParseError::Malformed(sanitize_text(&other.to_string())),
    }
}

// ---- charset pre-pass ----------------------------------------------------------

static XML_DECL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*<\?xml[^>]*?\?>"#).expect("valid regex"));
static DECL_ENCODING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']"#).expect("valid regex")
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
    // The text is UTF-8 now: say so, or feed-rs would decode it again.
    let declared = XML_DECL.find(&text).and_then(|decl| {
        let label = DECL_ENCODING.captures(decl.as_str())?;
        let says_utf8 =
            label[1].eq_ignore_ascii_case("utf-8") || label[1].eq_ignore_ascii_case("utf8");
        (!says_utf8).then(|| {
            (
                decl.range(),
                DECL_ENCODING
                    .replace(decl.as_str(), r#"encoding="utf-8""#)
                    .into_owned(),
            )
        })
    });
    if let Some((range, fixed)) = declared {
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

// ---- lenient retry ---------------------------------------------------------------

static RSS_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<rss(\s[^>]*)?>"#).expect("valid regex"));
static VERSION_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\sversion\s*=\s*["'][^"']*["']"#).expect("valid regex"));
static STRAY_AMPERSAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"&(#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)?"#).expect("valid regex")
});

/// A repaired copy of a rejected document, when one of the known fixes applies:
/// an `<rss>` without a version feed-rs knows (0.91, 0.92, 2.0) is read as 2.0;
/// stray `&`s are escaped; a `type` attribute feed-rs refused on a text element
/// becomes the nearest one it accepts (or goes, meaning plain text).
fn repair(text: &str, error: &feed_rs::parser::ParseFeedError) -> Option<String> {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    let mut out = Cow::Borrowed(text);
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
    if let ParseFeedError::ParseError(ParseErrorKind::UnknownMimeType { mime, .. }) = error {
        let lower = mime.to_ascii_lowercase();
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

// ---- conversion and sanitising ------------------------------------------------------

fn convert(feed: feed_rs::model::Feed, base_url: &str) -> ParsedFeed {
    let icon = [feed.logo.as_ref(), feed.icon.as_ref()]
        .into_iter()
        .flatten()
        .find_map(|image| resolve_url(&image.uri, base_url))
        .filter(|url| url.starts_with("http://") || url.starts_with("https://"));
    let site_url = pick_link(&feed.links, base_url)
        .filter(|l| !l.ends_with(".xml") && !l.ends_with(".rss") && !l.ends_with(".atom"));
    let mut articles = Vec::with_capacity(feed.entries.len().min(MAX_ITEMS_PER_FEED));
    let mut seen = HashSet::new();
    for entry in feed.entries.into_iter().take(MAX_ITEMS_PER_FEED) {
        let article = convert_entry(entry, base_url);
        // A document that repeats a guid keeps its first entry, as readers show it.
        if seen.insert(article.guid_key.clone()) {
            articles.push(article);
        }
    }
    ParsedFeed {
        title: feed
            .title
            .map(|t| clean_title(&t.content))
            .filter(|t| !t.is_empty()),
        site_url,
        description: feed
            .description
            .map(|d| sanitize_text(d.content.trim()))
            .filter(|d| !d.is_empty()),
        ttl_minutes: feed.ttl,
        icon,
        articles,
    }
}

fn convert_entry(entry: feed_rs::model::Entry, base_url: &str) -> ParsedArticle {
    let base = entry.base.as_deref().unwrap_or(base_url);
    let guid = Some(sanitize_text(entry.id.trim())).filter(|g| !g.is_empty());
    let title = entry
        .title
        .map(|t| clean_title(&t.content))
        .filter(|t| !t.is_empty());
    let link = pick_link(&entry.links, base);
    let author = entry
        .authors
        .iter()
        .filter_map(|p| {
            let name = p.name.as_deref().or(p.email.as_deref())?.trim();
            (!name.is_empty()).then(|| sanitize_text(name))
        })
        .next();
    let summary = entry
        .summary
        .map(|s| sanitize_owned(s.content))
        .filter(|s| !s.trim().is_empty());
    let content = entry
        .content
        .and_then(|c| c.body)
        .map(sanitize_owned)
        .filter(|b| !b.trim().is_empty());
    let categories: Vec<String> = entry
        .categories
        .iter()
        .map(|c| sanitize_text(c.label.as_deref().unwrap_or(&c.term).trim()))
        .filter(|c| !c.is_empty())
        .collect();
    let enclosures: Vec<Enclosure> = entry
        .media
        .iter()
        .flat_map(|m| m.content.iter())
        .filter_map(|c| {
            let url = c.url.as_ref()?.to_string();
            Some(Enclosure {
                url: sanitize_text(&url),
                mime_type: c.content_type.as_ref().map(|t| sanitize_text(t.as_ref())),
                length: c.size,
            })
        })
        .collect();
    // The images it shows: its body's (relative ones against xml:base, else
    // the article's own address), then image enclosures and thumbnails.
    let image_base = entry.base.as_deref().or(link.as_deref()).unwrap_or(base);
    let mut images = crate::images::find_in_html(
        content.as_deref().or(summary.as_deref()).unwrap_or(""),
        image_base,
    );
    let thumbnails: Vec<String> = entry
        .media
        .iter()
        .flat_map(|m| m.thumbnails.iter())
        .map(|t| sanitize_text(&t.image.uri))
        .collect();
    let extra = crate::images::from_enclosures(
        enclosures
            .iter()
            .map(|e| (e.url.as_str(), e.mime_type.as_deref()))
            .chain(thumbnails.iter().map(|t| (t.as_str(), Some("image/*")))),
    );
    for image in extra {
        if !images.iter().any(|i| i.url == image.url) {
            images.push(image);
        }
    }
    let published = entry.published.map(|d| d.timestamp());
    let updated = entry.updated.map(|d| d.timestamp());
    // Without id, link, title or date, everything the entry carries tells it apart.
    let mut rest: Vec<&str> = vec![content.as_deref().or(summary.as_deref()).unwrap_or("")];
    rest.extend(author.as_deref());
    rest.extend(enclosures.iter().map(|e: &Enclosure| e.url.as_str()));
    rest.extend(categories.iter().map(String::as_str));
    let guid_key = guid_key(
        guid.as_deref(),
        link.as_deref(),
        title.as_deref(),
        published.or(updated),
        &rest,
    );
    finish_article(ParsedArticle {
        guid_key,
        guid,
        title,
        link,
        author,
        published,
        updated,
        summary,
        content,
        categories,
        enclosures,
        images,
        ..ParsedArticle::default()
    })
}

/// Fills in the fields derived from the others (search text, fingerprint).
/// Done here, in the parse that runs on many threads, rather than in the one
/// writer, which is the serial part of a refresh.
pub fn finish_article(mut article: ParsedArticle) -> ParsedArticle {
    let body = article.content.as_deref().or(article.summary.as_deref());
    article.search_text = body.map(html_to_search_text).unwrap_or_default();
    // xxh3 is a stable, fast hash: this runs over every byte of every document.
    let mut h = Xxh3::new();
    for part in [
        &article.guid,
        &article.title,
        &article.link,
        &article.author,
        &article.summary,
        &article.content,
    ] {
        h.update(part.as_deref().unwrap_or("").as_bytes());
        h.update(&[0]);
    }
    h.update(&article.published.unwrap_or(0).to_le_bytes());
    h.update(&article.updated.unwrap_or(0).to_le_bytes());
    for category in &article.categories {
        h.update(category.as_bytes());
        h.update(&[0]);
    }
    for e in &article.enclosures {
        h.update(e.url.as_bytes());
        h.update(e.mime_type.as_deref().unwrap_or("").as_bytes());
        h.update(&e.length.unwrap_or(0).to_le_bytes());
    }
    article.fingerprint = format!("{:032x}", h.digest128());
    article
}

/// The stable identity of an entry within its feed: its id, else its normalised
/// link, else a hash of title and date, else a hash of everything else it has
/// (body, author, enclosures, categories).
pub fn guid_key(
    guid: Option<&str>,
    link: Option<&str>,
    title: Option<&str>,
    date: Option<i64>,
    rest: &[&str],
) -> String {
    if let Some(guid) = guid {
        return format!("id:{guid}");
    }
    if let Some(link) = link {
        return format!("link:{}", normalize_link(link));
    }
    if title.is_some() || date.is_some() {
        let date = date.map(|d| d.to_string()).unwrap_or_default();
        return format!("th:{}", short_hash(&[title.unwrap_or(""), &date]));
    }
    format!("c:{}", short_hash(rest))
}

fn normalize_link(link: &str) -> String {
    match url::Url::parse(link) {
        Ok(mut url) => {
            url.set_fragment(None);
            let mut s = url.to_string();
            if s.ends_with('/') && url.path() != "/" {
                s.pop();
            }
            s
        }
        Err(_) => link.trim().to_string(),
    }
}

fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Xxh3::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    format!("{:032x}", hasher.digest128())
}

/// The entry's main link: the alternate one (or one without `rel`), resolved.
fn pick_link(links: &[feed_rs::model::Link], base: &str) -> Option<String> {
    let link = links
        .iter()
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .or_else(|| links.iter().find(|l| l.rel.as_deref() != Some("self")))?;
    resolve_url(link.href.trim(), base)
}

/// The readable text of an HTML fragment, for the search index.
pub fn html_to_search_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        match rest[open..].find('>') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    if out.contains('&') {
        html_escape::decode_html_entities(&out).into_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://example.test/feed.xml";

    #[test]
    fn windows_1252_without_declaration_is_decoded() {
        let doc = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title></channel></rss>";
        let feed = parse_feed(doc, None, BASE).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Café"));
    }

    #[test]
    fn declared_latin1_is_decoded_once() {
        let doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>na\xefve</title></channel></rss>";
        let feed = parse_feed(doc, None, BASE).unwrap();
        assert_eq!(feed.title.as_deref(), Some("naïve"));
    }

    #[test]
    fn utf16_with_bom_parses_without_panic() {
        let text = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>Wide</title><item><title>é</title><guid>1</guid></item></channel></rss>";
        let mut bytes = vec![0xfe, 0xff];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        let feed = parse_feed(&bytes, None, BASE).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Wide"));
        assert_eq!(feed.articles[0].title.as_deref(), Some("é"));
    }

    #[test]
    fn rss_without_version_and_stray_ampersand_are_repaired() {
        let doc = b"<rss><channel><title>Tom & Jerry</title><item><title>A &amp; B</title><link>http://x.test/1</link></item></channel></rss>";
        let feed = parse_feed(doc, None, BASE).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Tom & Jerry"));
        assert_eq!(feed.articles[0].title.as_deref(), Some("A & B"));
    }

    #[test]
    fn control_characters_and_entities_are_cleaned_from_titles() {
        let doc = "<rss version=\"2.0\"><channel><title>t</title><item><title>Bell\u{7}\u{1b}[31m red \u{202e}x &amp;hellip;</title><guid>g</guid></item></channel></rss>";
        let feed = parse_feed(doc.as_bytes(), None, BASE).unwrap();
        assert_eq!(feed.articles[0].title.as_deref(), Some("Bell[31m red x …"));
    }

    #[test]
    fn entries_without_ids_get_stable_keys() {
        let doc = b"<rss version=\"2.0\"><channel><title>t</title><item><title>No id</title></item><item><description>only a body</description></item></channel></rss>";
        let first = parse_feed(doc, None, BASE).unwrap();
        let second = parse_feed(doc, None, BASE).unwrap();
        let keys: Vec<_> = first.articles.iter().map(|a| a.guid_key.clone()).collect();
        assert_eq!(
            keys,
            second
                .articles
                .iter()
                .map(|a| a.guid_key.clone())
                .collect::<Vec<_>>()
        );
        assert!(
            keys[0].starts_with("th:") && keys[1].starts_with("c:"),
            "{keys:?}"
        );
        assert!(first.articles.iter().all(|a| a.guid.is_none()));
    }

    #[test]
    fn relative_links_resolve_against_the_feed_and_file_links_are_dropped() {
        let doc = b"<rss version=\"2.0\"><channel><title>t</title><item><title>a</title><link>/posts/1</link></item><item><title>b</title><link>file:///etc/passwd</link></item></channel></rss>";
        let feed = parse_feed(doc, None, "http://example.test/blog/feed.xml").unwrap();
        assert_eq!(
            feed.articles[0].link.as_deref(),
            Some("http://example.test/posts/1")
        );
        assert_eq!(feed.articles[1].link, None);
    }

    #[test]
    fn html_pages_are_not_feeds() {
        let err =
            parse_feed(b"<!DOCTYPE html><html><body>hi</body></html>", None, BASE).unwrap_err();
        assert!(matches!(err, ParseError::NotAFeed(_)), "{err:?}");
    }

    #[test]
    fn search_text_drops_markup() {
        assert_eq!(
            html_to_search_text("<p>a&amp;b <em>c</em></p>")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["a&b", "c"]
        );
    }
}
