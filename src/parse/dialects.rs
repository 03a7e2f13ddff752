//! Old formats made readable for feed-rs before it sees them, by a quick look
//! at the document: only a document that names an old namespace is touched,
//! so the common case costs one substring search.
//!
//! - **Atom 0.3** (`http://purl.org/atom/ns#`), which feed-rs takes for an
//!   unknown Atom and reads as empty: its namespace becomes Atom 1.0's, and its
//!   elements their 1.0 names (`modified` → `updated`, `issued` → `published`,
//!   `created` → `published` when there is no `issued`, `tagline` →
//!   `subtitle`, `copyright` → `rights`). Its text constructs say how they are
//!   encoded with `mode` (`xml`, `escaped`, `base64`) and what they hold with a
//!   MIME `type`: they become the 1.0 `type` (`text`, `html`, `xhtml`), and a
//!   base64 body is decoded.
//!
//! - **RSS 1.0** items without a `<link>`, which feed-rs drops: their
//!   `rdf:about` becomes their link.
//!
//! - **RSS 0.90** (`http://my.netscape.com/rdf/simple/0.9/`), RSS 1.0 in all
//!   but its namespace: it gets RSS 1.0's. **RSS 2.0 in a namespace** (the
//!   Userland and Harvard ones, `http://backend.userland.com/rss2` …), which
//!   feed-rs reads as unknown elements: the namespace goes.
//!
//! - **CDF**, Microsoft's Channel Definition Format (`<CHANNEL HREF>` with
//!   `<ITEM HREF>`s, `TITLE`, `ABSTRACT`, `LASTMOD`): written as RSS 2.0.
//!
//! - **Entities a DOCTYPE declares**, which feed-rs leaves as written: their
//!   values replace them.
//!
//! It must not guess: a document without an old namespace is left as it is.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

const ATOM_03: &str = "http://purl.org/atom/ns#";
const ATOM_10: &str = "http://www.w3.org/2005/Atom";
const RSS_10: &str = "http://purl.org/rss/1.0/";

/// RSS 1.0 under its earlier names.
const RSS_09_NAMESPACES: &[&str] = &[
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://channel.netscape.com/rdf/simple/0.9/",
];

/// Namespaces RSS 2.0 documents were put in, which RSS 2.0 does not have.
const RSS_2_NAMESPACES: &[&str] = &[
    "http://backend.userland.com/rss2",
    "http://backend.userland.com/rss",
    "http://blogs.law.harvard.edu/tech/rss",
];

static ENTITY_DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>"#)
        .expect("valid regex")
});

/// What [`modernise`] looks for at the top of a document (found with the
/// extension pass's signs, in one scan: `parse::head_signs`). Each starts
/// with bytes that are rare in a document's top (not `http`, `xmlns` or
/// `<`), as the scan stops to look wherever a start matches.
pub(super) const SIGNS: &[&str] = &[
    "<!ENTITY",
    // Atom 0.3.
    "purl.org/atom/ns#",
    // RSS 1.0 as a namespace, not as the start of its modules' namespaces.
    "purl.org/rss/1.0/\"",
    "purl.org/rss/1.0/'",
    // RSS 0.90, under either of Netscape's addresses.
    "netscape.com/rdf/simple/0.9/",
    // RSS 2.0 in a namespace: Userland's (both, as one starts the other),
    // and Harvard's as a declaration (RSS 2.0's <docs> point at it too).
    "backend.userland.com/rss",
    "blogs.law.harvard.edu/tech/rss\"",
    "blogs.law.harvard.edu/tech/rss'",
];

/// `text` in a form feed-rs reads, when it is in an old dialect; `None`
/// when it is not.
/// `signs`: which of [`SIGNS`] the top of `text` holds.
pub(super) fn modernise(text: &str, signs: &[bool]) -> Option<String> {
    // Namespaces are declared on the root element, at the top.
    let head = super::head(text);
    let has = |i: usize| signs[i];
    let expanded = has(0).then(|| expand_declared_entities(text)).flatten();
    let mut text = Cow::Borrowed(expanded.as_deref().unwrap_or(text));
    let mut changed = expanded.is_some();
    if has(1) && text.contains(ATOM_03) {
        return Some(atom03_as_atom10(&text));
    }
    let mut rss_10 = has(2) || has(3);
    if has(4)
        && let Some(old) = RSS_09_NAMESPACES.iter().find(|ns| text.contains(*ns))
    {
        text = Cow::Owned(text.replacen(old, RSS_10, 1));
        changed = true;
        rss_10 = true;
    }
    if has(5) || has(6) || has(7) {
        for ns in RSS_2_NAMESPACES {
            for quote in ['"', '\''] {
                let declaration = format!(" xmlns={quote}{ns}{quote}");
                if text.contains(&declaration) {
                    text = Cow::Owned(text.replacen(&declaration, "", 1));
                    changed = true;
                }
            }
        }
    }
    if rss_10 {
        if let Some(linked) = rdf_items_with_links(&text) {
            return Some(linked);
        }
    } else if root_is_cdf(head) {
        return cdf_as_rss(&text);
    }
    changed.then(|| text.into_owned())
}

/// The entities a DOCTYPE declares (`<!ENTITY name "value">`), replaced by
/// their values throughout the document: XML parsers that do not read the
/// DOCTYPE would show `&name;` as written.
fn expand_declared_entities(text: &str) -> Option<String> {
    let doctype = text.find("<!DOCTYPE")?;
    let end = text[doctype..].find("]>").map(|e| doctype + e + 2)?;
    let entities: Vec<(String, String)> = ENTITY_DECLARATION
        .captures_iter(&text[doctype..end])
        .map(|c| {
            let value = c.get(2).or(c.get(3)).map_or("", |m| m.as_str());
            // The value is itself XML text: decode it once, escape it for where it goes.
            let plain = html_escape::decode_html_entities(value);
            (
                format!("&{};", &c[1]),
                html_escape::encode_text(&plain).into_owned(),
            )
        })
        .collect();
    if entities.is_empty() {
        return None;
    }
    let mut body = text[end..].to_string();
    for (reference, value) in &entities {
        body = body.replace(reference.as_str(), value);
    }
    Some(format!("{}{body}", &text[..end]))
}

/// RSS 1.0 items without a `<link>` get their `rdf:about` as one: feed-rs
/// drops an item without a link, and `rdf:about` is the item's address.
/// One scan from item to item; `None` when every item has its link.
fn rdf_items_with_links(text: &str) -> Option<String> {
    static ITEM: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("<item"));
    let mut out = String::new();
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = ITEM.find(&text.as_bytes()[at..]) {
        let start = at + found;
        at = start + "<item".len();
        if !text[at..].starts_with(|c: char| c.is_ascii_whitespace()) {
            continue;
        }
        let Some(tag_end) = text[start..].find('>').map(|e| start + e) else {
            break;
        };
        let Some(close) = text[tag_end..].find("</item>").map(|c| tag_end + c) else {
            break;
        };
        at = close;
        let tag = &text[start..tag_end];
        if tag.ends_with('/') || text[tag_end..close].contains("<link") {
            continue;
        }
        let Some(about) = ATTRIBUTE
            .captures_iter(tag)
            .find(|a| &a[1] == "rdf:about")
            .map(|a| a.get(2).or(a.get(3)).map_or("", |m| m.as_str()).to_string())
        else {
            continue;
        };
        let about = html_escape::encode_text(html_escape::decode_html_entities(&about).as_ref())
            .into_owned();
        out.push_str(&text[copied..=tag_end]);
        out.push_str(&format!("<link>{about}</link>"));
        copied = tag_end + 1;
    }
    (copied > 0).then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

/// Whether the document is CDF: its root is a `CHANNEL`.
fn root_is_cdf(head: &str) -> bool {
    super::repair::root_name(head).is_some_and(|root| root.eq_ignore_ascii_case("channel"))
}

/// A CDF channel written as RSS 2.0: its title, abstract and address, and
/// each item's (with its `LASTMOD` as the publication date). Nested
/// channels give their items to the one feed. `None` when there is no item
/// and no title.
fn cdf_as_rss(text: &str) -> Option<String> {
    use quick_xml::events::Event;

    #[derive(Default)]
    struct Element {
        href: Option<String>,
        lastmod: Option<String>,
        title: Option<String>,
        abstract_: Option<String>,
    }
    let attribute = |start: &quick_xml::events::BytesStart, name: &str| {
        start
            .attributes()
            .flatten()
            .find(|a| a.key.as_ref().eq_ignore_ascii_case(name))
            .and_then(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.trim().to_string())
            })
            .filter(|v| !v.is_empty())
    };
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut channel: Option<Element> = None;
    let mut items: Vec<Element> = Vec::new();
    let mut in_item = false;
    let mut capture: Option<(bool, String)> = None; // (is the title, text)
    loop {
        match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(Event::Start(start)) | Ok(Event::Empty(start)) => {
                let name = start.name().as_ref().to_ascii_lowercase();
                match name.as_str() {
                    "channel" if channel.is_none() => {
                        channel = Some(Element {
                            href: attribute(&start, "href"),
                            lastmod: attribute(&start, "lastmod"),
                            ..Element::default()
                        });
                    }
                    "item" => {
                        in_item = true;
                        items.push(Element {
                            href: attribute(&start, "href"),
                            lastmod: attribute(&start, "lastmod"),
                            ..Element::default()
                        });
                    }
                    "title" | "abstract" => capture = Some((name == "title", String::new())),
                    _ => {}
                }
            }
            Ok(Event::Text(t)) => {
                if let Some((_, buffer)) = capture.as_mut() {
                    buffer.push_str(&t.xml10_content());
                }
            }
            Ok(Event::CData(t)) => {
                if let Some((_, buffer)) = capture.as_mut() {
                    buffer.push_str(&t.xml10_content());
                }
            }
            Ok(Event::GeneralRef(reference)) => {
                if let Some((_, buffer)) = capture.as_mut() {
                    super::extensions::push_reference(buffer, &reference);
                }
            }
            Ok(Event::End(end)) => {
                let name = end.name().as_ref().to_ascii_lowercase();
                if name == "item" {
                    in_item = false;
                } else if let Some((is_title, buffer)) = capture.take() {
                    let target = if in_item {
                        items.last_mut()
                    } else {
                        channel.as_mut()
                    };
                    if let Some(target) = target {
                        let slot = if is_title {
                            &mut target.title
                        } else {
                            &mut target.abstract_
                        };
                        let value = buffer.trim();
                        if slot.is_none() && !value.is_empty() {
                            *slot = Some(value.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let channel = channel?;
    if items.is_empty() && channel.title.is_none() {
        return None;
    }
    let element = |name: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|v| format!("<{name}>{}</{name}>", html_escape::encode_text(v)))
            .unwrap_or_default()
    };
    let date = |value: &Option<String>| element("pubDate", &value.as_deref().and_then(cdf_date));
    let mut out =
        String::from(r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>"#);
    out.push_str(&element("title", &channel.title));
    out.push_str(&element("link", &channel.href));
    out.push_str(&element("description", &channel.abstract_));
    for item in &items {
        out.push_str("<item>");
        out.push_str(&element("title", &item.title));
        out.push_str(&element("link", &item.href));
        out.push_str(&element("description", &item.abstract_));
        out.push_str(&date(&item.lastmod));
        out.push_str("</item>");
    }
    out.push_str("</channel></rss>");
    Some(out)
}

/// A CDF `LASTMOD` (ISO 8601, often without seconds or zone, read as UTC)
/// as RFC 2822.
fn cdf_date(value: &str) -> Option<String> {
    let seconds = super::read_date(value)?;
    Some(chrono::DateTime::from_timestamp(seconds, 0)?.to_rfc2822())
}

/// Start and end tags of the Atom 0.3 elements that 1.0 renamed, with any prefix.
static RENAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<(/?)((?:[A-Za-z_][\w.-]*:)?)(modified|issued|created|tagline|copyright)\b")
        .expect("valid regex")
});

/// A text construct, whole: its start tag's attributes and its body.
static TEXT_CONSTRUCT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?s)<((?:[A-Za-z_][\w.-]*:)?)(title|subtitle|rights|summary|content|info)(\s[^>]*?)?(/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?(?:title|subtitle|rights|summary|content|info)\s*>)",
    )
    .expect("valid regex")
});

static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("valid regex")
});

fn atom03_as_atom10(text: &str) -> String {
    let text = text.replace(ATOM_03, ATOM_10);
    // `created` stands in for `issued` only in an entry that has none; a
    // second `published` would be refused.
    let has_issued = text.contains("issued>");
    let renamed = RENAMED.replace_all(&text, |c: &Captures| {
        let new_name = match &c[3] {
            "modified" => "updated",
            "issued" => "published",
            "created" if has_issued => "created",
            "created" => "published",
            "tagline" => "subtitle",
            _ => "rights",
        };
        format!("<{}{}{new_name}", &c[1], &c[2])
    });
    TEXT_CONSTRUCT
        .replace_all(&renamed, |c: &Captures| text_construct(c))
        .into_owned()
}

/// A 0.3 text construct as 1.0 has it: `type` from the MIME type and `mode`,
/// a base64 body decoded (and escaped, so that it reads as what it was).
fn text_construct(c: &Captures) -> String {
    let (prefix, name) = (&c[1], &c[2]);
    let attributes = c.get(3).map_or("", |m| m.as_str());
    let mut mime = String::new();
    let mut mode = String::new();
    let mut kept = String::new();
    for a in ATTRIBUTE.captures_iter(attributes) {
        let value = a.get(2).or(a.get(3)).map_or("", |m| m.as_str());
        match &a[1] {
            "type" => mime = value.to_ascii_lowercase(),
            "mode" => mode = value.to_ascii_lowercase(),
            _ => kept.push_str(&format!(" {}", &a[0])),
        }
    }
    let Some(body) = c.get(5).map(|m| m.as_str()) else {
        return format!("<{prefix}{name}{kept}/>");
    };
    let html = mime.contains("html");
    let (kind, body) = match mode.as_str() {
        "escaped" if html => ("html", Cow::Borrowed(body)),
        "escaped" => ("text", Cow::Borrowed(body)),
        "base64" => {
            let decoded = super::base64_bytes(body)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default();
            let escaped = html_escape::encode_text(&decoded).into_owned();
            (if html { "html" } else { "text" }, Cow::Owned(escaped))
        }
        // mode="xml", the default: markup inline, as 1.0's xhtml holds it.
        _ if mime.contains("xhtml") || (html && body.contains('<')) => (
            "xhtml",
            Cow::Owned(format!(
                "<div xmlns=\"http://www.w3.org/1999/xhtml\">{body}</div>"
            )),
        ),
        _ if html => ("html", Cow::Borrowed(body)),
        _ => ("text", Cow::Borrowed(body)),
    };
    format!("<{prefix}{name}{kept} type=\"{kind}\">{body}</{prefix}{name}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pass as `parse_feed` runs it, with the signs of the document's top.
    fn modernise(text: &str) -> Option<String> {
        super::modernise(text, &crate::parse::head_signs(text)[..SIGNS.len()])
    }

    #[test]
    fn a_document_in_a_current_dialect_is_not_copied() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>"#;
        assert_eq!(modernise(atom), None);
    }

    #[test]
    fn atom_03_elements_and_text_constructs_become_atom_10() {
        let doc = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><tagline>Tag</tagline><copyright>C</copyright><modified>2004-01-01T00:00:00Z</modified>
<entry><created>2003-12-31T00:00:00Z</created><summary type="text/html" mode="escaped">&lt;b&gt;bold&lt;/b&gt;</summary><content type="text/plain" mode="base64">SGVsbG8gPHdvcmxkPg==</content></entry></feed>"#;
        let out = modernise(doc).unwrap();
        assert!(
            out.contains(r#"xmlns="http://www.w3.org/2005/Atom""#),
            "{out}"
        );
        assert!(
            out.contains(r#"<subtitle type="text">Tag</subtitle>"#),
            "{out}"
        );
        assert!(out.contains(r#"<rights type="text">C</rights>"#), "{out}");
        assert!(
            out.contains("<updated>2004-01-01T00:00:00Z</updated>"),
            "{out}"
        );
        assert!(
            out.contains("<published>2003-12-31T00:00:00Z</published>"),
            "{out}"
        );
        assert!(
            out.contains(r#"<summary type="html">&lt;b&gt;bold&lt;/b&gt;</summary>"#),
            "{out}"
        );
        assert!(
            out.contains(r#"<content type="text">Hello &lt;world&gt;</content>"#),
            "{out}"
        );
    }

    #[test]
    fn rss_10_items_without_a_link_get_their_rdf_about() {
        let doc = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item rdf:about="http://e.org/1?a=1&amp;b=2"><title>One</title></item><item rdf:about="http://e.org/2"><link>http://e.org/two</link></item></rdf:RDF>"#;
        let out = modernise(doc).unwrap();
        assert!(
            out.contains(r#"<link>http://e.org/1?a=1&amp;b=2</link><title>One</title>"#),
            "{out}"
        );
        assert_eq!(out.matches("<link>").count(), 2, "{out}");
    }

    #[test]
    fn created_gives_way_to_issued() {
        let doc = r#"<feed xmlns="http://purl.org/atom/ns#"><entry><issued>2004-01-02T00:00:00Z</issued><created>2004-01-01T00:00:00Z</created></entry></feed>"#;
        let out = modernise(doc).unwrap();
        assert_eq!(out.matches("<published>").count(), 1, "{out}");
        assert!(out.contains("<published>2004-01-02T00:00:00Z</published>"));
    }
}
