//! feed-rs's model → ours ([`ParsedFeed`], [`ParsedArticle`]), with every text
//! sanitised on the way: control and bidi characters stripped, entities in
//! titles decoded, links resolved against the entry's `xml:base` or the feed
//! URL and kept only when they are web or mailto addresses. This is the one
//! normalisation step: what leaves it may be stored and shown. It keeps at
//! most [`MAX_ITEMS_PER_FEED`] entries and the first of any repeated key. It
//! must not call the parser: it only reads what feed-rs built.
//!
//! Where feed-rs has no value, the extension pass's (`extensions`) fill in,
//! the first that has one winning:
//!
//! | field | after feed-rs's own |
//! |---|---|
//! | title | `dc:title`, `media:title`, `itunes:title` |
//! | author | `dc:creator`, `dc:author`, `itunes:author`, `atom:author`; see [`person_name`] |
//! | published | `dc:date`, `dcterms:issued`, `dcterms:created`, `atom:published`; in Atom, `updated` |
//! | updated | `dcterms:modified`, `atom:updated`, `dc:date` |
//! | summary | before feed-rs's: an RSS `<description>` holding unescaped HTML, as written; after: `dc:description`, `itunes:summary`, `media:description` (feed-rs's, then inside `media:group`) |
//! | summary, content | relative addresses in the HTML made absolute against the entry's `xml:base`, else the feed's address |
//! | content | (base64 decoded where its type says so) `content:encoded` (undeclared prefix), `atom:content` |
//! | categories | feed-rs's terms, then all the extension ones, each once |
//! | link | the last RSS `<link>` (text or `href`; never a comments link), `atom:link` (alternate), an `http(s)` entry id |
//! | id | `rdf:about` |
//! | image | the first thumbnail (`media:thumbnail`, `itunes:image`), an image it carries (`media:content`, an enclosure), JSON Feed's `image`, `banner_image`; then (in `images`) the body's first image |
//! | feed title, description, site | `dc:title`; `dc:description`, `itunes:summary`; the last RSS `<link>`, `atom:link` |
//! | feed icon | the logo, the icon, `itunes:image`, `media:thumbnail`, `media:content` of an image type; then (in `images`) the description's first image |

use std::collections::HashSet;
use std::sync::LazyLock;

use super::MAX_ITEMS_PER_FEED;
use super::extensions::{Extensions, Field, Found};
use super::identity::{finish_article, guid_key};
use crate::model::{Enclosure, EnclosureKind, ParsedArticle, ParsedFeed};
use crate::text::{clean_title, resolve_url, sanitize_owned, sanitize_text, web_url};

/// `extensions`: what the second pass found in an RSS document, applied as
/// the fallbacks in the table above.
pub(super) fn convert(
    feed: feed_rs::model::Feed,
    base_url: &str,
    extensions: Option<&Extensions>,
) -> ParsedFeed {
    let none = Found::default();
    let channel = extensions.map_or(&none, |e| &e.channel);
    // Extension values go to entries by position, so only when they line up.
    let items = extensions
        .map(|e| e.items.as_slice())
        .filter(|items| items.len() == feed.entries.len())
        .unwrap_or(&[]);
    let icon = [feed.logo.as_ref(), feed.icon.as_ref()]
        .into_iter()
        .flatten()
        .map(|image| image.uri.as_str())
        .chain(channel.thumbnail.as_deref())
        .chain(channel.image.as_deref())
        .find_map(|uri| web_url(uri, base_url));
    let kind = Kind::of(&feed.feed_type);
    let site_url = address(channel, &feed.links, base_url, kind)
        .filter(|l| !l.ends_with(".xml") && !l.ends_with(".rss") && !l.ends_with(".atom"));
    let mut articles = Vec::with_capacity(feed.entries.len().min(MAX_ITEMS_PER_FEED));
    let mut seen = HashSet::new();
    for (i, entry) in feed
        .entries
        .into_iter()
        .take(MAX_ITEMS_PER_FEED)
        .enumerate()
    {
        let mut article = convert_entry(entry, base_url, kind, items.get(i).unwrap_or(&none));
        // Entries known by their title alone (no id, link or date) are not
        // the same entry because their titles match: a second one with
        // other content gets a key of its own (the first keeps the key it
        // always had, so nothing stored is read as new).
        if article.guid_key.starts_with("th:") && seen.contains(&article.guid_key) {
            article.guid_key = format!("{}~{}", article.guid_key, &article.fingerprint[..16]);
        }
        // A document that repeats a guid keeps its first entry, as readers show it.
        if seen.insert(article.guid_key.clone()) {
            articles.push(article);
        }
    }
    ParsedFeed {
        title: feed
            .title
            .map(|t| t.content)
            .or_else(|| channel.first(&[Field::DcTitle]))
            .map(|t| clean_title(&t))
            .filter(|t| !t.is_empty()),
        site_url,
        description: feed
            .description
            .map(|d| d.content)
            .or_else(|| channel.first(&[Field::DcDescription, Field::ItunesSummary]))
            .map(|d| sanitize_text(d.trim()))
            .filter(|d| !d.is_empty()),
        ttl_minutes: feed.ttl,
        update_every_minutes: None,
        icon,
        articles,
        warning: None,
    }
}

/// The family of formats a document is in, where they read differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Atom,
    Rss,
    /// JSON Feed, whose attachments feed-rs gives as links with a type and
    /// no `rel`.
    Json,
}

impl Kind {
    fn of(feed_type: &feed_rs::model::FeedType) -> Kind {
        use feed_rs::model::FeedType;
        match feed_type {
            FeedType::Atom => Kind::Atom,
            FeedType::JSON => Kind::Json,
            FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2 => Kind::Rss,
        }
    }
}

fn convert_entry(
    entry: feed_rs::model::Entry,
    base_url: &str,
    kind: Kind,
    found: &Found,
) -> ParsedArticle {
    let base = found
        .base
        .as_deref()
        .or(entry.base.as_deref())
        .unwrap_or(base_url);
    let guid = Some(entry.id.trim())
        .filter(|g| !g.is_empty())
        .or(found.rdf_about.as_deref())
        .map(sanitize_text);
    let title = entry
        .title
        .map(|t| t.content)
        .filter(|t| !t.trim().is_empty())
        .or_else(|| found.first(&[Field::DcTitle, Field::MediaTitle, Field::ItunesTitle]))
        .map(|t| clean_title(&t))
        .filter(|t| !t.is_empty());
    let link = address(found, &entry.links, base, kind).or_else(|| web_address(&entry.id, base));
    let author = entry
        .authors
        .iter()
        .filter_map(|p| p.name.as_deref().or(p.email.as_deref()))
        .chain(found.each(&[
            Field::DcCreator,
            Field::DcAuthor,
            Field::ItunesAuthor,
            Field::AtomAuthorName,
        ]))
        .find_map(person_name);
    let media_description = entry
        .media
        .iter()
        .find_map(|m| m.description.as_ref())
        .map(|d| d.content.clone());
    let summary = found
        .first(&[Field::DescriptionMarkup])
        .or(entry.summary.map(|s| s.content))
        .filter(|s| !s.trim().is_empty())
        .or_else(|| found.first(&[Field::DcDescription, Field::ItunesSummary]))
        .or(media_description)
        .or_else(|| found.first(&[Field::MediaDescription]))
        .map(sanitize_owned)
        .filter(|s| !s.trim().is_empty());
    let content = entry
        .content
        .and_then(decoded_body)
        .filter(|b| !b.trim().is_empty())
        .or_else(|| found.first(&[Field::ContentEncoded, Field::AtomContent]))
        .map(sanitize_owned)
        .filter(|b| !b.trim().is_empty());
    let summary = summary.map(|s| absolute_urls(s, base));
    let content = content.map(|c| absolute_urls(c, base));
    let mut categories: Vec<String> = Vec::new();
    let terms = entry
        .categories
        .iter()
        .map(category_name)
        .chain(found.categories.iter().map(String::as_str));
    for term in terms {
        let term = sanitize_text(term.trim());
        if !term.is_empty() && !categories.contains(&term) {
            categories.push(term);
        }
    }
    // How long the entry plays: iTunes' duration as written (feed-rs reads
    // `42:05` as 42 seconds, and keeps it only beside Media RSS), else a
    // media object's.
    let entry_duration = found
        .first(&[Field::ItunesDuration])
        .and_then(|text| read_duration(&text))
        .or_else(|| {
            entry
                .media
                .iter()
                .find_map(|m| m.duration)
                .map(|d| d.as_secs())
        });
    let mut enclosures: Vec<Enclosure> = entry
        .media
        .iter()
        .flat_map(|m| m.content.iter())
        .filter_map(|c| {
            let url = c.url.as_ref()?.to_string();
            Some(Enclosure {
                url: sanitize_text(&url),
                mime_type: c.content_type.as_ref().map(|t| sanitize_text(t.as_ref())),
                length: c.size,
                duration_secs: c.duration.map(|d| d.as_secs()).or(entry_duration),
            })
        })
        .collect();
    // Atom's rel="enclosure" links and JSON Feed's attachments.
    for l in entry.links.iter().filter(|l| is_enclosure(l, kind)) {
        let Some(url) = resolve_url(&l.href, base) else {
            continue;
        };
        if !enclosures.iter().any(|e| e.url == url) {
            enclosures.push(Enclosure {
                url,
                mime_type: l.media_type.as_deref().map(sanitize_text),
                length: l.length,
                duration_secs: None,
            });
        }
    }
    // One enclosure that plays: the entry's duration is its.
    if let [only] = enclosures.as_mut_slice()
        && only.duration_secs.is_none()
        && matches!(only.kind(), EnclosureKind::Audio | EnclosureKind::Video)
    {
        only.duration_secs = entry_duration;
    }
    // What the image finder needs beyond the rest: thumbnails and the entry's
    // own xml:base (against which its body's relative image addresses resolve).
    let mut thumbnails: Vec<String> = entry
        .media
        .iter()
        .flat_map(|m| m.thumbnails.iter())
        .map(|t| sanitize_text(&t.image.uri))
        .collect();
    if thumbnails.is_empty() {
        thumbnails.extend(found.thumbnail.as_deref().map(sanitize_text));
    }
    let image = cover_image(&thumbnails, &enclosures, found, base);
    // feed-rs's (from either namespace) where it kept them, else iTunes' as written.
    let number = |text: String| text.trim().parse::<u32>().ok().filter(|&n| n > 0);
    let episode = entry
        .media
        .iter()
        .find_map(|m| m.episode.as_ref())
        .map(|e| e.number)
        .filter(|&n| n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f32)
        .map(|n| n as u32)
        .or_else(|| found.first(&[Field::ItunesEpisode]).and_then(number));
    let season = entry
        .media
        .iter()
        .find_map(|m| m.season.as_ref())
        .map(|s| s.number)
        .filter(|&n| n > 0)
        .or_else(|| found.first(&[Field::ItunesSeason]).and_then(number));
    if let Some(image) = &image
        && !thumbnails.contains(image)
    {
        thumbnails.push(image.clone());
    }
    let published = entry.published.map(|d| d.timestamp()).or_else(|| {
        found
            .each(&[
                Field::DcDate,
                Field::DcTermsIssued,
                Field::DcTermsCreated,
                Field::AtomPublished,
            ])
            .find_map(super::read_date)
    });
    let updated = entry.updated.map(|d| d.timestamp()).or_else(|| {
        found
            .each(&[Field::DcTermsModified, Field::AtomUpdated, Field::DcDate])
            .find_map(super::read_date)
    });
    // Atom requires `updated` and makes `published` optional: an entry
    // without the one was published when it was last updated, as gofeed
    // reads it (RSS's optional dates are left as given).
    let published = published.or(updated.filter(|_| kind == Kind::Atom));
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
        image,
        episode,
        season,
        xml_base: found.base.clone().or(entry.base),
        thumbnails,
        ..ParsedArticle::default()
    })
}

/// The article's cover image: its first thumbnail (`media:thumbnail`,
/// `itunes:image`), else the first image it carries (`media:content`, an
/// enclosure, of an image type or with an image's file name), else the
/// extension pass's (`media:content medium="image"`, JSON Feed's `image`,
/// `banner_image`). Only a web address.
fn cover_image(
    thumbnails: &[String],
    enclosures: &[Enclosure],
    found: &Found,
    base: &str,
) -> Option<String> {
    let carried = enclosures
        .iter()
        .filter(|e| match &e.mime_type {
            Some(mime) => mime.starts_with("image/"),
            None => looks_like_an_image(&e.url),
        })
        .map(|e| e.url.as_str());
    thumbnails
        .iter()
        .map(String::as_str)
        .chain(carried)
        .chain(found.image.as_deref())
        .find_map(|url| web_url(url, base))
}

/// A running time as podcasts write it, in seconds: `1:02:03`, `62:03`,
/// `3723`, a fraction of a second or not.
fn read_duration(text: &str) -> Option<u64> {
    let whole = text.trim().split('.').next()?;
    let parts: Vec<&str> = whole.split(':').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    parts.iter().try_fold(0u64, |total, part| {
        total.checked_mul(60)?.checked_add(part.parse().ok()?)
    })
}

/// The addresses an HTML body gives (`href`, `src`, `srcset`), made
/// absolute against `base` (the entry's `xml:base`, else the feed's
/// address) where they are relative, so that its links open and its images
/// load wherever it is shown. A body with none is returned as it is.
pub fn absolute_urls(html: String, base: &str) -> String {
    static ATTRIBUTES: LazyLock<super::Signs> = LazyLock::new(|| {
        super::Signs::new(&[
            "href=\"",
            "href='",
            "src=\"",
            "src='",
            "srcset=\"",
            "srcset='",
        ])
    });
    let mut out = String::new();
    let mut copied = 0;
    ATTRIBUTES.each_match(&html, |_, start, pattern| {
        if start < copied {
            return;
        }
        let quote = html.as_bytes()[start - 1] as char;
        let Some(length) = html[start..].find(quote) else {
            return;
        };
        let value = &html[start..start + length];
        let rewritten = if pattern >= 4 {
            let candidates: Vec<String> = value
                .split(',')
                .map(|candidate| {
                    let candidate = candidate.trim();
                    let (url, descriptor) = candidate.split_once(' ').unwrap_or((candidate, ""));
                    match absolute(url, base) {
                        Some(url) if descriptor.is_empty() => url,
                        Some(url) => format!("{url} {}", descriptor.trim()),
                        None => candidate.to_string(),
                    }
                })
                .collect();
            let joined = candidates.join(", ");
            (joined != value).then_some(joined)
        } else {
            absolute(value, base)
        };
        if let Some(rewritten) = rewritten {
            out.push_str(&html[copied..start]);
            out.push_str(&rewritten);
            copied = start + length;
        }
    });
    if copied == 0 {
        return html;
    }
    out.push_str(&html[copied..]);
    out
}

/// `url` made absolute against `base`, when it is relative (no scheme).
/// `url` is an attribute's text, so it is read with its character references
/// decoded (`&#106;avascript:` and `&#9;javascript:` name a scheme too, and
/// would otherwise be joined to `base` as a path), and the address is
/// written back as attribute text.
fn absolute(url: &str, base: &str) -> Option<String> {
    // A scheme written plainly (most addresses) is no character reference.
    if has_scheme(url) {
        return None;
    }
    let url = html_escape::decode_html_entities(url);
    let url = url.trim();
    (!url.is_empty() && !has_scheme(url))
        .then(|| web_url(url, base))
        .flatten()
        .map(|url| html_escape::encode_quoted_attribute(&url).into_owned())
}

/// Whether an address starts with a scheme (`https:`, `mailto:`, `data:`
/// …): letters before a colon that comes before any `/`, `?` or `#`.
fn has_scheme(url: &str) -> bool {
    match url.find([':', '/', '?', '#']) {
        Some(colon) if url.as_bytes()[colon] == b':' => {
            colon > 0
                && url[..colon]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        _ => false,
    }
}

/// A content element's body; base64 decoded where its type is a MIME type
/// neither text nor XML (RFC 4287 §4.1.3.3) and it decodes to text. A body
/// that does not is kept as written.
fn decoded_body(content: feed_rs::model::Content) -> Option<String> {
    let body = content.body?;
    let mime = content.content_type.essence().to_string();
    if mime.starts_with("text/") || mime.ends_with("xml") {
        return Some(body);
    }
    super::base64_text(&body).or(Some(body))
}

/// Whether an address names an image file by its extension.
fn looks_like_an_image(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The address of an entry or channel: an RSS `<link href>` that is the
/// last of its links (feed-rs skips that form), else the one
/// [`pick_link`] picks of feed-rs's `links`, else the extension pass's
/// `atom:link`. Resolved against `base`.
fn address(
    found: &Found,
    links: &[feed_rs::model::Link],
    base: &str,
    kind: Kind,
) -> Option<String> {
    found
        .href_link
        .as_deref()
        .filter(|_| kind == Kind::Rss)
        .and_then(|l| resolve_url(l.trim(), base))
        .or_else(|| pick_link(links, base, kind))
        .or_else(|| {
            found
                .atom_link
                .as_deref()
                .and_then(|l| resolve_url(l, base))
        })
}

/// The entry's main link: the alternate one (or one without `rel`), else any
/// but its own feed's address; never an enclosure. Resolved against `base`.
/// Of several RSS `<link>`s, the last, as feedparser and gofeed read them;
/// never a comments page or feed (`<comments>`, `wfw:commentRss`), which
/// feed-rs puts among them.
fn pick_link(links: &[feed_rs::model::Link], base: &str, kind: Kind) -> Option<String> {
    let candidates = || {
        links
            .iter()
            .filter(|l| !is_enclosure(l, kind) && l.target.is_none())
    };
    let alternate =
        |l: &&feed_rs::model::Link| matches!(l.rel.as_deref(), None | Some("alternate"));
    // An alternate in a feed format is the same feed elsewhere, not a page.
    let page = |l: &&feed_rs::model::Link| {
        alternate(l)
            && !l
                .media_type
                .as_deref()
                .is_some_and(|t| t.contains("rss") || t.contains("atom") || t.contains("rdf"))
    };
    let link = if kind == Kind::Rss {
        // RSS's own <link>s (no rel) first, the last of them; then atom:link.
        candidates()
            .rfind(|l| l.rel.is_none())
            .or_else(|| candidates().find(page))
    } else {
        candidates().find(page)
    }
    .or_else(|| candidates().find(|l| l.rel.as_deref() != Some("self")))?;
    resolve_url(link.href.trim(), base)
}

/// A category's name: its term, as feedparser and gofeed read it, unless the
/// term is a URI (a scheme's identifier, as Google's feeds write them) and a
/// label says it in words.
fn category_name(category: &feed_rs::model::Category) -> &str {
    let term = category.term.trim();
    match category.label.as_deref().map(str::trim) {
        Some(label) if !label.is_empty() && (term.is_empty() || term.contains("://")) => label,
        _ => term,
    }
}

/// `id` as the entry's address, when it is an absolute web address.
fn web_address(id: &str, base: &str) -> Option<String> {
    let id = id.trim();
    (id.starts_with("http://") || id.starts_with("https://"))
        .then(|| resolve_url(id, base))
        .flatten()
}

/// The name in a person field: "Name", "email (Name)", "Name (email)" and
/// "Name <email>" give the name; an address alone is kept as it is. Entities
/// left in it are decoded, and it is made one line.
fn person_name(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let name = if let Some((outside, rest)) = raw.split_once('(')
        && let Some(inside) = rest.strip_suffix(')')
    {
        // "email (Name)", or "Name (email)".
        if outside.contains('@') || outside.trim().is_empty() {
            inside
        } else if inside.contains('@') {
            outside
        } else {
            raw
        }
    } else if let Some((name, rest)) = raw.split_once('<')
        && rest.ends_with('>')
        && rest.contains('@')
        && !name.trim().is_empty()
    {
        name
    } else {
        raw
    };
    // Names are plain text, but feeds escape them twice often enough.
    let name = clean_title(name);
    (!name.is_empty()).then_some(name)
}

/// Whether a link is a file the entry carries rather than its address.
fn is_enclosure(link: &feed_rs::model::Link, kind: Kind) -> bool {
    link.rel.as_deref() == Some("enclosure") || (kind == Kind::Json && link.media_type.is_some())
}
