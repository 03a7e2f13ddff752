//! Feed discovery: the feeds a web page announces (`<link rel="alternate">`),
//! for `tidings add PAGE` and `a` in the reader, and whether a body is a web
//! page rather than a feed.

use url::Url;

/// A feed that a web page announces with `<link rel="alternate">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredFeed {
    pub url: String,
    pub title: Option<String>,
    pub mime_type: String,
}

/// The feeds an HTML page links to, in page order, resolved against `page_url`.
/// Only web addresses are returned: a page can never point tidings at a file.
pub fn discover_feeds(html: &str, page_url: &str) -> Vec<DiscoveredFeed> {
    const FEED_TYPES: &[&str] = &[
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "application/x.atom+xml",
        "application/x-atom+xml",
        "text/xml",
    ];
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("link[rel][href][type]").expect("valid selector");
    let base = document
        .select(&scraper::Selector::parse("base[href]").expect("valid selector"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| Url::parse(page_url).ok()?.join(href).ok())
        .map(|u| u.to_string())
        .unwrap_or_else(|| page_url.to_string());
    let mut found: Vec<DiscoveredFeed> = Vec::new();
    for link in document.select(&selector) {
        let el = link.value();
        let rel = el.attr("rel").unwrap_or_default().to_ascii_lowercase();
        if !rel.split_whitespace().any(|r| r == "alternate") {
            continue;
        }
        let mime = el
            .attr("type")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !FEED_TYPES.contains(&mime.as_str()) {
            continue;
        }
        let Some(url) = crate::text::web_url(el.attr("href").unwrap_or_default(), &base) else {
            continue;
        };
        if found.iter().any(|f| f.url == url) {
            continue;
        }
        let title = el
            .attr("title")
            .map(crate::text::clean_title)
            .filter(|t| !t.is_empty());
        found.push(DiscoveredFeed {
            url,
            title,
            mime_type: mime,
        });
    }
    found
}

/// Whether a body looks like an HTML page rather than a feed.
pub fn looks_like_html(body: &[u8], content_type: Option<&str>) -> bool {
    if content_type.is_some_and(|t| t.to_ascii_lowercase().contains("text/html")) {
        return true;
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_finds_alternate_feeds_and_ignores_files() {
        let html = r#"<html><head>
            <link rel="stylesheet" href="/s.css" type="text/css">
            <link rel="alternate" type="application/rss+xml" title="Posts &amp; news" href="/feed.xml">
            <link rel="alternate" type="application/atom+xml" href="https://other.test/atom">
            <link rel="alternate" type="application/rss+xml" href="file:///etc/passwd">
            <link rel="alternate" type="application/feed+json" href="feed.json">
            </head><body></body></html>"#;
        let found = discover_feeds(html, "http://blog.test/posts/");
        let urls: Vec<_> = found.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://blog.test/feed.xml",
                "https://other.test/atom",
                "http://blog.test/posts/feed.json"
            ]
        );
        assert_eq!(found[0].title.as_deref(), Some("Posts & news"));
    }
}
