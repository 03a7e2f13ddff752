//! The promises tidings makes about what it reads from untrusted bytes, as
//! checks that panic with the broken promise named: shared by the property
//! tests (`tests/properties.rs`) and the fuzz targets (`fuzz/`, which include
//! this file by path), so both hold the code to the same rules. Each check
//! asserts only what the code documents: sanitised text fields (the
//! ingestion rule of design.md), single-line titles, unique and stable entry
//! keys, web-only links, import lists of web addresses only, article lines
//! no wider than the pane outside `<pre>` blocks, and header text that can be
//! sent back as it was stored.
#![allow(dead_code)]

use tidings::model::ParsedFeed;
use tidings::render::{MIN_WIDTH, Rendered};
use tidings::subscriptions::ImportList;
use tidings::text::is_forbidden;

/// Panics when `text` holds a character that must never reach a terminal.
pub fn assert_clean(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|c| is_forbidden(*c)) {
        panic!("{what} holds U+{:04X}: {text:?}", c as u32);
    }
}

fn assert_clean_opt(what: &str, text: Option<&str>) {
    if let Some(text) = text {
        assert_clean(what, text);
    }
}

/// A title is one plain line.
fn assert_title(what: &str, title: Option<&str>) {
    if let Some(title) = title {
        assert_clean(what, title);
        assert!(!title.contains('\n'), "{what} spans lines: {title:?}");
        assert!(!title.is_empty(), "{what} is empty rather than None");
    }
}

/// Links that may be opened: http(s) and mailto only.
fn assert_openable(what: &str, link: Option<&str>) {
    if let Some(link) = link {
        assert_clean(what, link);
        assert!(
            ["http://", "https://", "mailto:"]
                .iter()
                .any(|s| link.starts_with(s)),
            "{what} is not a web address: {link:?}"
        );
    }
}

/// What `parse::parse_feed` promises of a feed it returns.
pub fn check_feed(feed: &ParsedFeed) {
    assert_title("feed title", feed.title.as_deref());
    assert_clean_opt("feed description", feed.description.as_deref());
    assert_openable("feed site_url", feed.site_url.as_deref());
    assert_clean_opt("feed icon", feed.icon.as_deref());
    let mut keys = std::collections::HashSet::new();
    for a in &feed.articles {
        assert!(!a.guid_key.is_empty(), "an empty guid_key");
        assert!(
            keys.insert(a.guid_key.as_str()),
            "two entries share the guid_key {:?}",
            a.guid_key
        );
        assert_clean_opt("guid", a.guid.as_deref());
        assert_title("article title", a.title.as_deref());
        assert_openable("article link", a.link.as_deref());
        assert_clean_opt("author", a.author.as_deref());
        assert_clean_opt("summary", a.summary.as_deref());
        assert_clean_opt("content", a.content.as_deref());
        for c in &a.categories {
            assert_clean("category", c);
        }
        for e in &a.enclosures {
            assert_clean("enclosure url", &e.url);
            assert_clean_opt("enclosure type", e.mime_type.as_deref());
        }
        for t in &a.thumbnails {
            assert_clean("thumbnail", t);
        }
        if let Some(image) = &a.image {
            assert_clean("image", image);
            assert!(
                image.starts_with("http://") || image.starts_with("https://"),
                "the cover image is not a web address: {image:?}"
            );
        }
    }
    assert!(feed.articles.len() <= tidings::parse::MAX_ITEMS_PER_FEED);
}

/// A second parse of the same bytes gives the same entries with the same
/// keys: a second refresh of an unchanged feed adds nothing.
pub fn check_stable(first: &ParsedFeed, second: &ParsedFeed) {
    let keys = |f: &ParsedFeed| -> Vec<(String, String)> {
        f.articles
            .iter()
            .map(|a| (a.guid_key.clone(), a.fingerprint.clone()))
            .collect()
    };
    assert_eq!(keys(first), keys(second), "a second parse gives other keys");
}

/// Whether html2text may keep a line of `html` wider than the pane: the
/// lines of a `<pre>` block are never broken (`render::lines`).
pub fn may_hold_pre(html: &str) -> bool {
    html.to_ascii_lowercase().contains("pre")
}

/// What `render::render_article` promises for `html` at `width`.
pub fn check_rendered(html: &str, width: u16, rendered: &Rendered) {
    let width = usize::from(width.max(MIN_WIDTH));
    let wide_ok = may_hold_pre(html);
    for (i, line) in rendered.lines.iter().enumerate() {
        for span in &line.spans {
            assert_clean("a rendered span", &span.content);
            assert!(!span.content.contains('\n'), "a span holds a newline");
        }
        if !wide_ok {
            assert!(
                line.width() <= width,
                "line {i} is {} columns wide, the pane {width}: {line:?}",
                line.width()
            );
        }
    }
    for image in &rendered.images {
        assert!(
            image.line < rendered.lines.len(),
            "image placeholder line {} past the {} lines",
            image.line,
            rendered.lines.len()
        );
        assert_clean("image src", &image.src);
        assert_clean("image alt", &image.alt);
    }
    for link in &rendered.links {
        assert_clean("link target", link);
    }
}

/// What `subscriptions::parse_import` promises of a list it returns.
pub fn check_import(list: &ImportList) {
    for s in &list.subscriptions {
        let lower = s.url.to_ascii_lowercase();
        assert!(
            lower.starts_with("http://") || lower.starts_with("https://"),
            "imported a non-web address: {:?}",
            s.url
        );
        assert!(url::Url::parse(&s.url).is_ok(), "imported {:?}", s.url);
        assert_clean("imported url", &s.url);
        assert_clean_opt("imported title", s.title.as_deref());
        assert_clean_opt("imported feed title", s.feed_title.as_deref());
        for t in &s.tags {
            assert_clean("imported tag", t);
        }
    }
    for skipped in &list.skipped {
        assert_clean("skipped entry", &skipped.entry);
    }
    let mut urls: Vec<&str> = list.subscriptions.iter().map(|s| s.url.as_str()).collect();
    urls.sort_unstable();
    let n = urls.len();
    urls.dedup();
    assert_eq!(n, urls.len(), "an address imported twice");
}
