//! What identifies an entry and what is derived from it: the stable
//! [`guid_key`] that tells entries of a feed apart across refreshes, the
//! fingerprint that tells an updated entry from an unchanged one, and the plain
//! text the search index holds ([`finish_article`]). Everything here is a pure
//! function of the entry's fields: no randomness, no clock, so the same
//! document always gives the same keys.

use xxhash_rust::xxh3::Xxh3;

use crate::model::ParsedArticle;

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
        // Only when known, so that articles stored before it was kept keep
        // their fingerprint unless they have a duration to add.
        if let Some(duration) = e.duration_secs {
            h.update(b"duration\0");
            h.update(&duration.to_le_bytes());
        }
    }
    // Hashed only when there are, as the image below.
    if article.episode.is_some() || article.season.is_some() {
        h.update(b"episode\0");
        h.update(&article.episode.unwrap_or(0).to_le_bytes());
        h.update(&article.season.unwrap_or(0).to_le_bytes());
    }
    // Hashed only when there is one, so that the articles stored before the
    // field existed keep their fingerprint unless they have an image to add.
    if let Some(image) = &article.image {
        h.update(b"image\0");
        h.update(image.as_bytes());
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

/// The readable text of an HTML fragment, for the search index: its tags
/// become spaces and its entities are decoded. Runs over every body of a
/// refresh, so the tags are found with `memchr`.
pub(super) fn html_to_search_text(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let mut at = 0;
    while let Some(open) = memchr::memchr(b'<', &bytes[at..]).map(|i| at + i) {
        // `<` and `>` are ASCII, so both ends are character boundaries.
        out.push_str(&html[at..open]);
        out.push(' ');
        match memchr::memchr(b'>', &bytes[open..]) {
            Some(close) => at = open + close + 1,
            None => {
                at = bytes.len();
                break;
            }
        }
    }
    out.push_str(&html[at..]);
    if memchr::memchr(b'&', out.as_bytes()).is_some() {
        html_escape::decode_html_entities(&out).into_owned()
    } else {
        out
    }
}
