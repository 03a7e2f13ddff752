//! Subscription lists in and out: OPML 2.0 (folders ↔ tags) and newsboat's
//! `urls` file on import, detected from the content; OPML and the JSON export
//! (every feed with its cached articles) on export; the OPML backup kept
//! beside the database; and the welcome feed a first start subscribes to.
//!
//! Imported text is untrusted: titles and tags are sanitised, and only web
//! addresses are accepted. newsboat's `exec:` and `filter:` entries, and any
//! `file:` address, are skipped with a reason: a list someone else wrote must
//! never make tidings run a command or read a local file. Its `query:`
//! entries become query feeds.

use std::io::Write;

use quick_xml::events::Event;
use serde::Serialize;

use crate::model::{Article, Enclosure, Feed, FeedId};
use crate::report::rfc3339;
use crate::store::{NewSubscription, Store};
use crate::text::sanitize_text;

/// What an import file held.
#[derive(Debug, Default, PartialEq)]
pub struct ImportList {
    pub subscriptions: Vec<NewSubscription>,
    /// newsboat's query feeds (`"query:Name:expression"`): (name, query).
    pub queries: Vec<(String, String)>,
    /// Entries left out, each with the reason.
    pub skipped: Vec<Skipped>,
}

/// An entry of an import file that was not subscribed to.
#[derive(Debug, PartialEq)]
pub struct Skipped {
    pub entry: String,
    pub reason: &'static str,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImportError {
    #[error("not an OPML document: {0}")]
    BadOpml(String),
    #[error("the file holds no subscriptions")]
    Empty,
}

/// Reads an OPML document or a newsboat `urls` file, whichever `text` is.
pub fn parse_import(text: &str) -> Result<ImportList, ImportError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let list = if trimmed.starts_with('<') {
        parse_opml(trimmed)?
    } else {
        parse_urls(trimmed)
    };
    if list.subscriptions.is_empty() && list.skipped.is_empty() && list.queries.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(list)
}

/// OPML: outlines with `xmlUrl` are feeds; every enclosing outline without one
/// is a folder, and each folder level becomes a tag (as newsboat does), as do
/// the comma-separated names of a `category` attribute.
pub fn parse_opml(text: &str) -> Result<ImportList, ImportError> {
    read_opml(text, false)
}

/// tidings' own backup (see [`write_backup`]): OPML that may also hold the
/// local files and the welcome feed you subscribed to, which an import from
/// anywhere else skips. Commands stay refused.
pub fn parse_backup(text: &str) -> Result<ImportList, ImportError> {
    read_opml(text.trim_start_matches('\u{feff}').trim_start(), true)
}

fn read_opml(text: &str, own: bool) -> Result<ImportList, ImportError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut list = ImportList::default();
    // One entry per open <outline>: the folder name it adds, if any.
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut saw_opml = false;
    loop {
        // The message quotes the document: sanitised, as it is printed.
        let event = reader
            .read_event()
            .map_err(|e| ImportError::BadOpml(sanitize_text(&e.to_string())))?;
        let (element, is_empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                if e.local_name().as_ref().eq_ignore_ascii_case("outline") {
                    folders.pop();
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = element.local_name().as_ref().to_ascii_lowercase();
        if name == "opml" {
            saw_opml = true;
            continue;
        }
        if name != "outline" {
            continue;
        }
        let mut attrs = std::collections::HashMap::new();
        for attr in element.attributes().flatten() {
            let key = attr.key.local_name().as_ref().to_ascii_lowercase();
            if let Ok(value) = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                attrs.insert(key, sanitize_text(value.trim()));
            }
        }
        let label = ["text", "title"]
            .iter()
            .find_map(|k| attrs.get(*k).filter(|v| !v.is_empty()).cloned());
        match attrs.get("xmlurl").filter(|u| !u.is_empty()) {
            Some(url) => {
                let mut tags: Vec<String> = folders.iter().flatten().cloned().collect();
                if let Some(categories) = attrs.get("category") {
                    for tag in categories
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                    {
                        let tag = tag.trim_start_matches('/').to_string();
                        if !tags.contains(&tag) {
                            tags.push(tag);
                        }
                    }
                }
                let title = ["title", "text"]
                    .iter()
                    .find_map(|k| attrs.get(*k).filter(|v| !v.is_empty()).cloned());
                // tidings' own export marks a name the user gave the feed.
                let own_title = attrs.get("customtitle").filter(|v| !v.is_empty()).cloned();
                push_subscription(&mut list, url, own_title, title, tags, own);
                if !is_empty {
                    folders.push(None);
                }
            }
            None if !is_empty => folders.push(label),
            None => {}
        }
    }
    if !saw_opml {
        return Err(ImportError::BadOpml("no <opml> element".into()));
    }
    Ok(list)
}

/// newsboat's `urls`: one feed a line, then tags; `"~Title"` renames the feed,
/// `#` starts a comment; quoted words may hold spaces.
pub fn parse_urls(text: &str) -> ImportList {
    let mut list = ImportList::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split_words(line);
        let Some((url, rest)) = words.split_first() else {
            continue;
        };
        if let Some(query) = url.strip_prefix("query:") {
            push_query(&mut list, query);
            continue;
        }
        let mut title = None;
        let mut tags = Vec::new();
        for word in rest {
            if let Some(t) = word.strip_prefix('~') {
                title = Some(sanitize_text(t)).filter(|t| !t.is_empty());
            } else if word.starts_with('!') {
                // newsboat's "hidden" marker: not a tag.
            } else if !word.is_empty() && !tags.contains(word) {
                tags.push(sanitize_text(word));
            }
        }
        push_subscription(&mut list, url, title, None, tags, false);
    }
    list
}

/// A newsboat query feed, `Name:expression`, when tidings can read the
/// expression (the query language understands newsboat's).
fn push_query(list: &mut ImportList, entry: &str) {
    let entry = sanitize_text(entry);
    let Some((name, query)) = entry.split_once(':') else {
        list.skipped.push(Skipped {
            entry: format!("query:{entry}"),
            reason: "a query without a name",
        });
        return;
    };
    match crate::query::parse(query) {
        Ok(_) => list
            .queries
            .push((name.trim().to_string(), query.trim().to_string())),
        Err(_) => list.skipped.push(Skipped {
            entry: format!("query:{entry}"),
            reason: "a query tidings cannot read (`tidings filter test` says why)",
        }),
    }
}

fn push_subscription(
    list: &mut ImportList,
    url: &str,
    title: Option<String>,
    feed_title: Option<String>,
    tags: Vec<String>,
    own: bool,
) {
    let url = sanitize_text(url.trim());
    let lower = url.to_ascii_lowercase();
    let reason = if ["exec:", "filter:", "|"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        Some("runs a command: tidings never does")
    } else if own && (lower.starts_with("file:") || url == crate::WELCOME_URL) {
        None
    } else if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        Some("not a web address")
    } else if url::Url::parse(&url).is_err() {
        Some("not a valid address")
    } else {
        None
    };
    if let Some(reason) = reason {
        list.skipped.push(Skipped { entry: url, reason });
        return;
    }
    if let Some(existing) = list.subscriptions.iter_mut().find(|s| s.url == url) {
        for tag in tags {
            if !existing.tags.contains(&tag) {
                existing.tags.push(tag);
            }
        }
        return;
    }
    list.subscriptions.push(NewSubscription {
        url,
        title,
        feed_title,
        tags,
    });
}

/// Splits a urls line into words: whitespace separates, double quotes group.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut has_word = false;
    let mut escaped = false;
    for c in line.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            // newsboat writes a quote inside quotes as \" (in its queries).
            '\\' if quoted => escaped = true,
            '"' => {
                quoted = !quoted;
                has_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if has_word {
                    words.push(std::mem::take(&mut current));
                    has_word = false;
                }
            }
            c => {
                current.push(c);
                has_word = true;
            }
        }
    }
    if has_word {
        words.push(current);
    }
    words
}

/// OPML 2.0 of the subscriptions; a feed's tags become nested folders, so an
/// import of the file gives back the same feeds with the same tags.
pub fn write_opml(out: &mut impl Write, feeds: &[Feed]) -> std::io::Result<()> {
    use quick_xml::escape::escape;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<opml version="2.0">"#)?;
    writeln!(out, "  <head>\n    <title>tidings subscriptions</title>")?;
    writeln!(
        out,
        "    <dateCreated>{}</dateCreated>\n  </head>\n  <body>",
        chrono::Utc::now().to_rfc2822()
    )?;
    let mut open: Vec<&str> = Vec::new();
    let mut sorted: Vec<&Feed> = feeds.iter().collect();
    // Group feeds by tag path, keeping the list order within a path.
    sorted.sort_by(|a, b| a.tags.cmp(&b.tags));
    for feed in sorted {
        let path: Vec<&str> = feed.tags.iter().map(String::as_str).collect();
        let common = open.iter().zip(&path).take_while(|(a, b)| a == b).count();
        while open.len() > common {
            open.pop();
            writeln!(out, "{}</outline>", "  ".repeat(open.len() + 2))?;
        }
        for tag in &path[common..] {
            writeln!(
                out,
                r#"{}<outline text="{}" title="{}">"#,
                "  ".repeat(open.len() + 2),
                escape(*tag),
                escape(*tag)
            )?;
            open.push(tag);
        }
        let title = escape(feed.display_name());
        write!(
            out,
            r#"{}<outline type="rss" text="{title}" title="{title}" xmlUrl="{}""#,
            "  ".repeat(open.len() + 2),
            escape(feed.url.as_str())
        )?;
        if let Some(site) = &feed.site_url {
            write!(out, r#" htmlUrl="{}""#, escape(site.as_str()))?;
        }
        if feed.renamed {
            // Read back as the user's own name, which a refresh never replaces.
            write!(out, r#" customTitle="{title}""#)?;
        }
        writeln!(out, "/>")?;
    }
    while open.pop().is_some() {
        writeln!(out, "{}</outline>", "  ".repeat(open.len() + 2))?;
    }
    writeln!(out, "  </body>\n</opml>")
}

/// Rewrites the OPML backup of the subscriptions at `path` atomically: the
/// list goes to a temporary file beside it, is synced, and is renamed over
/// the old one, so a crash or a full disk leaves the last good backup whole.
pub fn write_backup(path: &std::path::Path, feeds: &[Feed]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&temp)?);
        write_opml(&mut out, feeds)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Keeps the OPML backup at `path` in step with the store's subscriptions
/// from now on (and writes it now if it is missing). A backup that cannot be
/// written is logged: the change it follows has been made all the same.
pub fn keep_backup(store: &mut Store, path: std::path::PathBuf) -> anyhow::Result<()> {
    let missing = !path.exists();
    let write = move |feeds: &[Feed]| {
        if let Err(e) = write_backup(&path, feeds) {
            tracing::warn!("cannot write the backup {}: {e}", path.display());
        }
    };
    if missing {
        let feeds = store.feeds()?;
        if !feeds.is_empty() {
            write(&feeds);
        }
    }
    store.on_subscriptions_changed(Box::new(write));
    Ok(())
}

/// One feed of the JSON export (`{"feeds": [...]}`), as the README documents it.
#[derive(Debug, Serialize)]
pub struct ExportFeed<'a> {
    pub url: &'a str,
    pub title: Option<&'a str>,
    pub site_url: Option<&'a str>,
    pub description: Option<&'a str>,
    pub tags: &'a [String],
    /// Unsubscribed from, kept for its starred articles.
    pub saved: bool,
    pub articles: Vec<ExportArticle<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ExportArticle<'a> {
    pub guid: Option<&'a str>,
    pub title: Option<&'a str>,
    pub link: Option<&'a str>,
    pub author: Option<&'a str>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub summary: Option<&'a str>,
    pub content: Option<&'a str>,
    pub categories: &'a [String],
    pub enclosures: &'a [Enclosure],
    pub image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub season: Option<u32>,
    pub read: bool,
    pub starred: bool,
}

impl<'a> ExportFeed<'a> {
    pub fn new(feed: &'a Feed, articles: &'a [Article]) -> ExportFeed<'a> {
        ExportFeed {
            url: &feed.url,
            title: feed.title.as_deref(),
            site_url: feed.site_url.as_deref(),
            description: feed.description.as_deref(),
            tags: &feed.tags,
            saved: feed.saved,
            articles: articles.iter().map(ExportArticle::new).collect(),
        }
    }
}

impl<'a> ExportArticle<'a> {
    fn new(a: &'a Article) -> ExportArticle<'a> {
        ExportArticle {
            guid: a.guid.as_deref(),
            title: a.title.as_deref(),
            link: a.link.as_deref(),
            author: a.author.as_deref(),
            published: a.published.and_then(rfc3339),
            updated: a.updated.and_then(rfc3339),
            summary: a.summary.as_deref(),
            content: a.content.as_deref(),
            categories: &a.categories,
            enclosures: &a.enclosures,
            image: a.image.as_deref(),
            episode: a.episode,
            season: a.season,
            read: a.read,
            starred: a.starred,
        }
    }
}

/// On the very first start (no feeds, never welcomed), subscribes to the
/// built-in welcome feed; it is fetched from the binary like any feed.
pub fn add_welcome_feed(store: &mut Store) -> anyhow::Result<Option<FeedId>> {
    if store.setting("welcomed")?.is_some() || !store.feeds()?.is_empty() {
        return Ok(None);
    }
    let (feed, _) = store.add_feed(&NewSubscription {
        url: crate::WELCOME_URL.into(),
        feed_title: Some("Welcome to tidings".into()),
        ..Default::default()
    })?;
    store.set_setting("welcomed", "yes")?;
    Ok(Some(feed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FeedId;

    #[test]
    fn urls_files_give_tags_titles_and_skip_commands() {
        let text = "http://a.test/feed.xml ~title tag1 tag2\n# comment\nhttp://b.test/\t\"~Other title\"  \"two words\"\n\"exec:curl x | sed y\"\nfile:///etc/passwd\n";
        let list = parse_import(text).unwrap();
        assert_eq!(list.subscriptions.len(), 2);
        assert_eq!(list.subscriptions[0].title.as_deref(), Some("title"));
        assert_eq!(list.subscriptions[0].tags, ["tag1", "tag2"]);
        assert_eq!(list.subscriptions[1].title.as_deref(), Some("Other title"));
        assert_eq!(list.subscriptions[1].tags, ["two words"]);
        assert_eq!(list.skipped.len(), 2, "{:?}", list.skipped);
    }

    #[test]
    fn newsboat_query_lines_become_query_feeds() {
        let text = "\"query:Unread News:unread = \\\"yes\\\" and tags # \\\"news\\\"\" ignored-tag\n\
                    \"query:Broken:title =~\"\n\
                    \"query:no name\"\n";
        let list = parse_import(text).unwrap();
        assert_eq!(
            list.queries,
            [(
                "Unread News".to_string(),
                "unread = \"yes\" and tags # \"news\"".to_string()
            )]
        );
        let reasons: Vec<&str> = list.skipped.iter().map(|s| s.reason).collect();
        assert_eq!(
            reasons,
            [
                "a query tidings cannot read (`tidings filter test` says why)",
                "a query without a name"
            ]
        );
    }

    #[test]
    fn opml_folders_become_tags_at_every_level() {
        let text = r#"<?xml version="1.0"?><opml version="2.0"><head/><body>
            <outline text="Blogs" title="ignored"><outline title="friends">
              <outline xmlUrl="https://m.test/rss" title="Mike &amp; co" type="rss"/></outline></outline>
            <outline type="rss" xmlUrl="http://n.test/" category="tag one,tag/two"/>
            </body></opml>"#;
        let list = parse_import(text).unwrap();
        assert_eq!(list.subscriptions[0].tags, ["Blogs", "friends"]);
        assert_eq!(
            list.subscriptions[0].feed_title.as_deref(),
            Some("Mike & co")
        );
        assert_eq!(list.subscriptions[1].tags, ["tag one", "tag/two"]);
        assert!(matches!(
            parse_import("<not-opml><outline xmlUrl=\"http://x.test/\"/></not-opml>"),
            Err(ImportError::BadOpml(_))
        ));
    }

    #[test]
    fn exported_opml_imports_to_the_same_subscriptions() {
        let feed = |id, url: &str, tags: &[&str]| Feed {
            id: FeedId(id),
            url: url.into(),
            fetch_url: url.into(),
            title: Some(format!("Feed <{id}> & \"co\"")),
            site_url: None,
            description: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            gone: false,
            saved: false,
            renamed: id == 2,
            synced: false,
        };
        let feeds = vec![
            feed(1, "http://a.test/1?x=1&y=2", &[]),
            feed(2, "http://a.test/2", &["Programming", "Rust"]),
            feed(3, "http://a.test/3", &["Programming"]),
            feed(4, "http://a.test/4", &["News"]),
        ];
        let mut out = Vec::new();
        write_opml(&mut out, &feeds).unwrap();
        let list = parse_import(&String::from_utf8(out).unwrap()).unwrap();
        let mut got: Vec<_> = list
            .subscriptions
            .iter()
            .map(|s| (s.url.clone(), s.tags.clone(), s.feed_title.clone()))
            .collect();
        got.sort();
        let mut want: Vec<_> = feeds
            .iter()
            .map(|f| (f.url.clone(), f.tags.clone(), f.title.clone()))
            .collect();
        want.sort();
        assert_eq!(got, want);
        // The renamed one (only) comes back with the name as its own.
        let own: Vec<_> = list
            .subscriptions
            .iter()
            .filter_map(|s| Some((s.url.as_str(), s.title.as_deref()?)))
            .collect();
        assert_eq!(own, [("http://a.test/2", "Feed <2> & \"co\"")]);
    }
}
