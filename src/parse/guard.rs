//! Forms feed-rs panics on rather than refusing, made harmless before it
//! reads a document (found by fuzzing, see `fuzz/`). Unlike `repair`, this
//! runs before the first parse, since a panic gives no rejection to repair
//! after; each guard is a cheap scan that leaves other documents untouched.
//!
//! The one known: feed-rs 3.0 splits a person's text (`<author>`,
//! `<managingEditor>`, `<webMaster>`, `dc:creator`, JSON Feed's author
//! `name`) around an e-mail address by slicing one byte past the address on
//! either side, which panics when the character there is not ASCII
//! (`john@example.com’s`, `©john@example.com`). A space is put between the
//! address and such a character; an address next to ASCII is left as it is,
//! so the names feed-rs reads from common forms do not change.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// The text of a person element, up to its first child element: plain
/// text, entities and CDATA sections.
static PERSON_ELEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?s)(<(?:[A-Za-z_][\w.-]*:)?(?:author|managingEditor|webMaster|creator)(?:\s[^>]*)?>)((?:[^<]|<!\[CDATA\[.*?\]\]>)*)",
    )
    .expect("valid regex")
});
static CDATA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<!\[CDATA\[(.*?)\]\]>").expect("valid regex"));
/// A JSON string member named `name`, with its quotes.
static JSON_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""name"\s*:\s*("(?:[^"\\]|\\.)*")"#).expect("valid regex"));

/// An `@` written as a character reference or a JSON escape.
static ESCAPED_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"&#(?:0*64|[xX]0*40);|\\u0040").expect("valid regex"));

/// Whether some address in `text` may end up next to a non-ASCII character
/// once decoded: an `@` whose run of address characters (those of
/// [`spaced`]) is bordered by a non-ASCII byte, or by an entity or a JSON
/// escape that may stand for one, or else an `@` that is itself escaped
/// beside a plain one. Most documents have none, and the patterns below,
/// which cost a sixth of a parse, need not run over them.
fn may_need_spacing(text: &str) -> bool {
    let bytes = text.as_bytes();
    let in_run = |b: u8| b.is_ascii_alphanumeric() || b"._%+-@:<[(>])".contains(&b);
    // Before the run, an entity shows by the `;` that ends it; after it, by its `&`.
    let suspicious_before =
        |b: Option<&u8>| b.is_some_and(|&b| !b.is_ascii() || b == b';' || b == b'\\');
    let suspicious = |b: Option<&u8>| b.is_some_and(|&b| !b.is_ascii() || b == b'&' || b == b'\\');
    let mut seen_to = 0;
    let mut any = false;
    for at in memchr::memchr_iter(b'@', bytes) {
        any = true;
        if at < seen_to {
            continue;
        }
        let start = bytes[..at]
            .iter()
            .rposition(|&b| !in_run(b))
            .map_or(0, |p| p + 1);
        let end = bytes[at..]
            .iter()
            .position(|&b| !in_run(b))
            .map_or(bytes.len(), |p| at + p);
        seen_to = end;
        if suspicious_before(start.checked_sub(1).map(|i| &bytes[i])) || suspicious(bytes.get(end))
        {
            return true;
        }
    }
    any && ESCAPED_AT.is_match(text)
}

/// `text` with every person's e-mail address set apart from a non-ASCII
/// neighbour, or `None` when no address needs it.
pub(super) fn person_emails(text: &str) -> Option<String> {
    if !may_need_spacing(text) {
        return None;
    }
    let json = text.trim_start().starts_with(['{', '[']);
    let mut changed = false;
    let fixed = if json {
        JSON_NAME.replace_all(text, |c: &Captures| {
            let whole = c[0].to_string();
            let Ok(name) = serde_json::from_str::<String>(&c[1]) else {
                return whole;
            };
            match spaced(&name).and_then(|n| serde_json::to_string(&n).ok()) {
                Some(quoted) => {
                    changed = true;
                    whole.replacen(&c[1], &quoted, 1)
                }
                None => whole,
            }
        })
    } else {
        PERSON_ELEMENT.replace_all(text, |c: &Captures| {
            let body = match spaced_xml(&c[2]) {
                Some(body) => {
                    changed = true;
                    body
                }
                None => c[2].to_string(),
            };
            format!("{}{body}", &c[1])
        })
    };
    changed.then(|| fixed.into_owned())
}

/// An element's text with its addresses set apart: outside CDATA sections
/// as feed-rs decodes it (entities), inside them as it is.
fn spaced_xml(body: &str) -> Option<String> {
    if !body.contains('@') {
        return None;
    }
    let mut out = String::with_capacity(body.len() + 8);
    let mut changed = false;
    let mut at = 0;
    // Text outside CDATA: decoded, set apart, encoded again.
    let text =
        |raw: &str| spaced(&decoded(raw)).map(|s| quick_xml::escape::escape(&s).into_owned());
    for section in CDATA.captures_iter(body) {
        let whole = section.get(0).expect("the match");
        let before = &body[at..whole.start()];
        let fixed = text(before);
        changed |= fixed.is_some();
        out.push_str(fixed.as_deref().unwrap_or(before));
        let inner = &section[1];
        let fixed = spaced(inner);
        changed |= fixed.is_some();
        out.push_str("<![CDATA[");
        out.push_str(fixed.as_deref().unwrap_or(inner));
        out.push_str("]]>");
        at = whole.end();
    }
    let fixed = text(&body[at..]);
    changed |= fixed.is_some();
    out.push_str(fixed.as_deref().unwrap_or(&body[at..]));
    changed.then_some(out)
}

/// Element text as feed-rs decodes it: character references and XML's five
/// entities; any other entity (`&hellip;`, which XML does not define) stays
/// as written, as it does in feed-rs's text. Escaped again, such an entity
/// reads the same.
fn decoded(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let reference = after.find(';').filter(|&end| end <= 32).and_then(|end| {
            let name = &after[..end];
            let c = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
            } else if let Some(decimal) = name.strip_prefix('#') {
                decimal.parse().ok().and_then(char::from_u32)
            } else {
                match name {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "apos" => Some('\''),
                    "quot" => Some('"'),
                    _ => None,
                }
            };
            c.map(|c| (c, end))
        });
        match reference {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text` with a space between each run that holds an address (the
/// characters feed-rs's address pattern, its `mailto:` and its delimiters
/// may take) and a non-ASCII character next to it.
fn spaced(text: &str) -> Option<String> {
    let in_run = |c: char| c.is_ascii_alphanumeric() || "._%+-@:<[(>])".contains(c);
    let mut out = String::with_capacity(text.len() + 4);
    let mut changed = false;
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        if !in_run(c) {
            out.push(c);
            before = Some(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let end = rest.find(|c: char| !in_run(c)).unwrap_or(rest.len());
        let (run, after) = rest.split_at(end);
        let address = run.contains('@');
        if address && before.is_some_and(|b| !b.is_ascii()) {
            out.push(' ');
            changed = true;
        }
        out.push_str(run);
        if address && after.chars().next().is_some_and(|a| !a.is_ascii()) {
            out.push(' ');
            changed = true;
        }
        before = run.chars().last();
        rest = after;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_next_to_non_ascii_are_set_apart() {
        assert_eq!(
            spaced("john@example.com’s"),
            Some("john@example.com ’s".into())
        );
        assert_eq!(spaced("©mailto:j@x.org"), Some("© mailto:j@x.org".into()));
        assert_eq!(spaced("John (john@example.com)"), None);
        assert_eq!(spaced("été, sans adresse"), None);
        let doc = "<item><author>j@x.org&#8217;s <![CDATA[k@y.org€]]></author></item>";
        assert_eq!(
            person_emails(doc).as_deref(),
            Some("<item><author>j@x.org ’s <![CDATA[k@y.org €]]></author></item>")
        );
        let json = r#"{"items":[{"authors":[{"name":"j@x.org\u2019s"}]}]}"#;
        assert_eq!(
            person_emails(json).as_deref(),
            Some(r#"{"items":[{"authors":[{"name":"j@x.org ’s"}]}]}"#)
        );
        assert_eq!(person_emails("<author>John (j@x.org)</author>"), None);
    }

    #[test]
    fn only_documents_where_an_address_may_meet_non_ascii_are_scanned() {
        // Non-ASCII elsewhere, addresses next to ASCII: nothing to look at.
        assert!(!may_need_spacing(
            "<title>été</title><author>John (j@x.org)</author>"
        ));
        assert!(!may_need_spacing("<title>sans adresse, été</title>"));
        // Next to a non-ASCII byte, an entity or a JSON escape.
        assert!(may_need_spacing("<author>j@x.org’s</author>"));
        assert!(may_need_spacing("<author>©j@x.org</author>"));
        assert!(may_need_spacing("<author>j@x.org&#8217;s</author>"));
        assert!(may_need_spacing("<author>&#x9b;j@x.org</author>"));
        assert!(may_need_spacing(r#"{"name":"j@x.org\u2019s"}"#));
        // An escaped @ beside a plain one: its run is only known once decoded.
        let json = r#"{"x":"a@b","items":[{"authors":[{"name":"j\u0040x.org\u2019s"}]}]}"#;
        assert!(may_need_spacing(json));
        assert_eq!(
            person_emails(json).as_deref(),
            Some(r#"{"x":"a@b","items":[{"authors":[{"name":"j@x.org ’s"}]}]}"#)
        );
    }
}
