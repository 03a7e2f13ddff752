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

/// Query parameters that only say where a reader came from: two links that
/// differ only in these are the same story.
const TRACKING: [&str; 12] = [
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref", "ref_src",
    "source", "cmpid", "yclid",
];

/// What makes two articles of different feeds the same story: the link with
/// its tracking parameters, fragment, `www.` and scheme removed, else a
/// global id (a URL or `tag:` URI), else the title on the same site the
/// same day. `None` when there is nothing to go by.
pub fn story_key(
    link: Option<&str>,
    guid: Option<&str>,
    title: Option<&str>,
    date: Option<i64>,
    feed_url: &str,
) -> Option<String> {
    if let Some(url) = link.and_then(|l| url::Url::parse(l).ok())
        && matches!(url.scheme(), "http" | "https")
    {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let host = host.strip_prefix("www.").unwrap_or(&host);
        let mut params: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                !k.starts_with("utm_") && !TRACKING.contains(&k.as_str())
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        params.sort();
        let path = url.path().trim_end_matches('/');
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        return Some(format!("l:{host}{path}?{}", query.join("&")));
    }
    if let Some(guid) = guid.filter(|g| g.starts_with("http") || g.starts_with("tag:")) {
        return Some(format!("g:{guid}"));
    }
    let title: String = title?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if title.is_empty() {
        return None;
    }
    let site = url::Url::parse(feed_url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        })
        .unwrap_or_default();
    Some(format!("t:{site}|{}|{title}", date? / 86_400))
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
