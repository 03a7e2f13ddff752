//! feed-rs's model → ours ([`ParsedFeed`], [`ParsedArticle`]), with every text
//! sanitised on the way: control and bidi characters stripped, entities in
//! titles decoded, links resolved against the entry's `xml:base` or the feed
//! URL and kept only when they are web or mailto addresses. This is the one
//! normalisation step: what leaves it may be stored and shown. It keeps at
//! most [`MAX_ITEMS_PER_FEED`] entries and the first of any repeated key. It
//! must not call the parser: it only reads what feed-rs built.

use std::collections::HashSet;

use super::MAX_ITEMS_PER_FEED;
use super::identity::{finish_article, guid_key};
use crate::model::{Enclosure, ParsedArticle, ParsedFeed};
use crate::text::{clean_title, resolve_url, sanitize_owned, sanitize_text};

pub(super) fn convert(feed: feed_rs::model::Feed, base_url: &str) -> ParsedFeed {
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
    // What the image finder needs beyond the rest: thumbnails and the entry's
    // own xml:base (against which its body's relative image addresses resolve).
    let thumbnails: Vec<String> = entry
        .media
        .iter()
        .flat_map(|m| m.thumbnails.iter())
        .map(|t| sanitize_text(&t.image.uri))
        .collect();
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
        xml_base: entry.base,
        thumbnails,
        ..ParsedArticle::default()
    })
}

/// The entry's main link: the alternate one (or one without `rel`), resolved.
fn pick_link(links: &[feed_rs::model::Link], base: &str) -> Option<String> {
    let link = links
        .iter()
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .or_else(|| links.iter().find(|l| l.rel.as_deref() != Some("self")))?;
    resolve_url(link.href.trim(), base)
}
