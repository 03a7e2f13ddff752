//! Parser tests on small inline documents: charsets, repairs, sanitising,
//! stable keys and links. Real-world documents are in `tests/corpora.rs`.

use super::identity::html_to_search_text;
use super::*;

const BASE: &str = "http://example.test/feed.xml";

#[test]
fn windows_1252_without_declaration_is_decoded() {
    let doc = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title></channel></rss>";
    let feed = parse_feed(doc, None, BASE).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Café"));
}

#[test]
fn declared_latin1_is_decoded_once() {
    let doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>na\xefve</title></channel></rss>";
    let feed = parse_feed(doc, None, BASE).unwrap();
    assert_eq!(feed.title.as_deref(), Some("naïve"));
}

#[test]
fn utf16_with_bom_parses_without_panic() {
    let text = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>Wide</title><item><title>é</title><guid>1</guid></item></channel></rss>";
    let mut bytes = vec![0xfe, 0xff];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    let feed = parse_feed(&bytes, None, BASE).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Wide"));
    assert_eq!(feed.articles[0].title.as_deref(), Some("é"));
}

#[test]
fn rss_without_version_and_stray_ampersand_are_repaired() {
    let doc = b"<rss><channel><title>Tom & Jerry</title><item><title>A &amp; B</title><link>http://x.test/1</link></item></channel></rss>";
    let feed = parse_feed(doc, None, BASE).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Tom & Jerry"));
    assert_eq!(feed.articles[0].title.as_deref(), Some("A & B"));
}

#[test]
fn control_characters_and_entities_are_cleaned_from_titles() {
    let doc = "<rss version=\"2.0\"><channel><title>t</title><item><title>Bell\u{7}\u{1b}[31m red \u{202e}x &amp;hellip;</title><guid>g</guid></item></channel></rss>";
    let feed = parse_feed(doc.as_bytes(), None, BASE).unwrap();
    assert_eq!(feed.articles[0].title.as_deref(), Some("Bell[31m red x …"));
}

#[test]
fn entries_without_ids_get_stable_keys() {
    let doc = b"<rss version=\"2.0\"><channel><title>t</title><item><title>No id</title></item><item><description>only a body</description></item></channel></rss>";
    let first = parse_feed(doc, None, BASE).unwrap();
    let second = parse_feed(doc, None, BASE).unwrap();
    let keys: Vec<_> = first.articles.iter().map(|a| a.guid_key.clone()).collect();
    assert_eq!(
        keys,
        second
            .articles
            .iter()
            .map(|a| a.guid_key.clone())
            .collect::<Vec<_>>()
    );
    assert!(
        keys[0].starts_with("th:") && keys[1].starts_with("c:"),
        "{keys:?}"
    );
    assert!(first.articles.iter().all(|a| a.guid.is_none()));
}

#[test]
fn relative_links_resolve_against_the_feed_and_file_links_are_dropped() {
    let doc = b"<rss version=\"2.0\"><channel><title>t</title><item><title>a</title><link>/posts/1</link></item><item><title>b</title><link>file:///etc/passwd</link></item></channel></rss>";
    let feed = parse_feed(doc, None, "http://example.test/blog/feed.xml").unwrap();
    assert_eq!(
        feed.articles[0].link.as_deref(),
        Some("http://example.test/posts/1")
    );
    assert_eq!(feed.articles[1].link, None);
}

/// A body's links are attribute text: a scheme hidden behind a character
/// reference is still a scheme, so `javascript:` links stay as written (and
/// are shown as text) instead of becoming addresses on the feed's host; a
/// relative link's references are decoded once and written back escaped.
#[test]
fn body_links_with_a_scheme_behind_a_character_reference_are_not_made_web_addresses() {
    let body = concat!(
        r#"<a href="&#106;avascript:alert(1)">a</a>"#,
        r#"<a href=" &#x09;javascript:alert(2)">b</a>"#,
        r#"<a href="javascript&#58;alert(3)">c</a>"#,
        r#"<a href="data&colon;text/html,x">d</a>"#,
        r#"<a href="rel?a=1&amp;copy=2&amp;q='x'">e</a>"#,
        r#"<img src="&#47;img/a.png">"#,
    );
    let doc = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title><guid>1</guid><description>{}</description></item></channel></rss>",
        html_escape::encode_text(body)
    );
    let feed = parse_feed(doc.as_bytes(), None, BASE).unwrap();
    let html = feed.articles[0].summary.as_deref().unwrap();
    for kept in [
        r#""&#106;avascript:alert(1)""#,
        r#"" &#x09;javascript:alert(2)""#,
        r#""javascript&#58;alert(3)""#,
        r#""data&colon;text/html,x""#,
    ] {
        assert!(html.contains(kept), "{kept} in {html}");
    }
    assert!(
        html.contains(r#""http://example.test/rel?a=1&amp;copy=2&amp;q=%27x%27""#),
        "{html}"
    );
    assert!(
        html.contains(r#""http://example.test/img/a.png""#),
        "{html}"
    );
}

#[test]
fn html_pages_are_not_feeds() {
    let err = parse_feed(b"<!DOCTYPE html><html><body>hi</body></html>", None, BASE).unwrap_err();
    assert!(matches!(err, ParseError::NotAFeed(_)), "{err:?}");
}

#[test]
fn search_text_drops_markup() {
    assert_eq!(
        html_to_search_text("<p>a&amp;b <em>c</em></p>")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["a&b", "c"]
    );
    assert_eq!(
        html_to_search_text("héllo<b>wörld</b> 1 > 0 &lt;tag&gt; <unclosed")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["héllo", "wörld", "1", ">", "0", "<tag>"]
    );
}

#[test]
fn the_syndication_module_says_how_often_a_feed_changes() {
    let doc = |period: &str, frequency: &str| {
        format!(
            r#"<rss xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
<sy:updatePeriod>{period}</sy:updatePeriod>{frequency}<item/></channel></rss>"#
        )
    };
    assert_eq!(update_every_minutes(&doc("hourly", "")), Some(60));
    assert_eq!(
        update_every_minutes(&doc(
            " daily ",
            "<sy:updateFrequency>2</sy:updateFrequency>"
        )),
        Some(12 * 60)
    );
    assert_eq!(
        update_every_minutes(&doc("weekly", "<sy:updateFrequency>0</sy:updateFrequency>")),
        Some(7 * 24 * 60)
    );
    assert_eq!(update_every_minutes(&doc("sometimes", "")), None);
    assert_eq!(update_every_minutes("<rss><channel></channel></rss>"), None);
}
