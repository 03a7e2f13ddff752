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
//! - **Entities a DOCTYPE declares**, which feed-rs leaves as written: their
//!   values replace them.
//!
//! It must not guess: a document without an old namespace is left as it is.

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::Engine;
use regex::{Captures, Regex};

const ATOM_03: &str = "http://purl.org/atom/ns#";
const ATOM_10: &str = "http://www.w3.org/2005/Atom";
const RSS_10: &str = "http://purl.org/rss/1.0/";

static ENTITY_DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>"#)
        .expect("valid regex")
});

/// An RSS 1.0 item with its `rdf:about` and its body.
static RDF_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)<item(\s[^>]*?\brdf:about\s*=\s*["']([^"']*)["'][^>]*)>(.*?)</item>"#)
        .expect("valid regex")
});

/// `text` in a form feed-rs reads, when it is in an old dialect; `None`
/// when it is not.
pub(super) fn modernise(text: &str) -> Option<String> {
    // Namespaces are declared on the root element, at the top.
    let head = super::head(text);
    let has = |needle: &str| memchr::memmem::find(head.as_bytes(), needle.as_bytes()).is_some();
    let expanded = has("<!ENTITY")
        .then(|| expand_declared_entities(text))
        .flatten();
    let text = expanded.as_deref().unwrap_or(text);
    if has(ATOM_03) {
        return Some(atom03_as_atom10(text));
    }
    if has(RSS_10) {
        return rdf_items_with_links(text).or(expanded);
    }
    expanded
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
fn rdf_items_with_links(text: &str) -> Option<String> {
    let mut changed = false;
    let out = RDF_ITEM.replace_all(text, |c: &Captures| {
        let body = &c[3];
        if body.contains("<link") {
            return c[0].to_string();
        }
        changed = true;
        let about = html_escape::encode_text(html_escape::decode_html_entities(&c[2]).as_ref())
            .into_owned();
        format!("<item{}><link>{about}</link>{body}</item>", &c[1])
    });
    changed.then(|| out.into_owned())
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
            let compact: String = body.split_whitespace().collect();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()
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
