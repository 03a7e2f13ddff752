//! What the fuzz targets in `fuzz/` found, each a minimised input written
//! out here by hand (nothing is copied from ../shared) with the behaviour it
//! must have now: a sensible result or a clear error, never a panic. The
//! header findings are pinned beside their parsers in `src/fetch.rs` too.

use tidings::fetch::{MAX_HEADER_SECS, max_age, retry_after};
use tidings::parse::parse_feed;
use tidings::render::{ArticleStyles, render_article};
use tidings::subscriptions::parse_import;

const BASE: &str = "http://example.test/feed.xml";

/// fuzz target `feed`: an XML declaration past the start of the document
/// (past quick-xml's 64-byte prefix) that names another encoding made
/// feed-rs call quick-xml's `set_encoding` too late, which panics; a refresh
/// then called the feed crashed. The charset pass makes every declaration
/// say UTF-8 (the text is UTF-8 by then), so the document reads.
#[test]
fn a_second_xml_declaration_does_not_crash_the_parser() {
    let doc = r#"<rss version="2.0"><channel><title>One</title>
<item><title>a</title><guid>a</guid></item>
<?xml version="1.0" encoding="iso-8859-1"?>
<item><title>b</title><guid>b</guid></item></channel></rss>"#;
    let feed = parse_feed(doc.as_bytes(), None, BASE).expect("the document parses");
    let titles: Vec<_> = feed
        .articles
        .iter()
        .filter_map(|a| a.title.as_deref())
        .collect();
    assert_eq!(titles, ["a", "b"]);
}

/// The same, as two feeds run together, and behind a comment (where the
/// first declaration is not at the start either), with labels feed-rs
/// reads but the first pass did not (spaces, single quotes).
#[test]
fn declarations_anywhere_are_made_to_say_utf8() {
    let one = r#"<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>T</title><item><title>caf&#233;</title><guid>1</guid></item></channel></rss>"#;
    let commented = format!(
        "<!-- {} -->\n<?xml version='1.0' encoding=' latin1 '?>\n{}",
        "x".repeat(80),
        &one[one.find("<rss").unwrap()..]
    );
    for doc in [format!("{one}\n{one}"), commented] {
        match parse_feed(doc.as_bytes(), None, BASE) {
            Ok(feed) => assert!(
                feed.articles
                    .iter()
                    .all(|a| a.title.as_deref() == Some("café")),
                "{doc}"
            ),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

/// fuzz target `headers`: `max-age` or `Retry-After` past `i64::MAX` minus
/// the time overflowed the timestamps the refresher adds them to (a panic
/// in a debug build, a wait in the past in a release one). They are capped.
#[test]
fn huge_waits_in_headers_are_capped() {
    let now = chrono::Utc::now().timestamp();
    for value in [
        "9223372036854775807",
        "9223372035000000000",
        "18446744073709551615",
    ] {
        let secs = retry_after(value).expect("a number");
        assert_eq!(secs, MAX_HEADER_SECS, "{value}");
        assert!(now.checked_add(secs as i64).is_some());
        let secs = max_age(&format!("max-age={value}")).expect("a number");
        assert_eq!(secs, MAX_HEADER_SECS, "{value}");
    }
    assert_eq!(retry_after("120"), Some(120));
}

/// fuzz target `feed`: feed-rs 3.0 panicked (a string sliced inside a
/// character) on a person whose e-mail address has a non-ASCII character
/// right next to it, in RSS's `<webMaster>`, `<managingEditor>`,
/// `<author>` and `dc:creator`, and JSON Feed's author names. `parse::guard`
/// sets the address apart before feed-rs reads the document.
#[test]
fn an_address_next_to_a_non_ascii_character_does_not_crash_the_parser() {
    let rss = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>T</title><webMaster>email@example.org€ (Web Master)</webMaster>
<managingEditor>©ed@example.org</managingEditor>
<item><title>a</title><guid>1</guid><author>j@example.org&#8217;s desk</author></item>
<item><title>b</title><guid>2</guid><dc:creator><![CDATA[k@example.org…]]></dc:creator></item>
</channel></rss>"#;
    let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "T",
      "items": [{"id": "1", "title": "a", "authors": [{"name": "j@example.org\u2019s desk"}]}]}"#;
    for doc in [rss, json] {
        let feed = parse_feed(doc.as_bytes(), None, BASE).expect("the document parses");
        assert_eq!(feed.articles[0].title.as_deref(), Some("a"), "{doc}");
        let author = feed.articles[0].author.as_deref().unwrap_or_default();
        assert!(!author.is_empty(), "{doc}");
    }
}

/// Property test `hostile_feeds_give_sanitised_stable_entries`: the guard
/// decoded a person's text with quick-xml, which refuses an entity XML does
/// not define (`&hellip;`), so the address beside `&#x9b;` was not set apart
/// and feed-rs panicked.
#[test]
fn an_address_next_to_a_reference_and_an_undefined_entity_does_not_crash_the_parser() {
    let rss = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title></title><item><author>j@example.org&#x9b;&hellip;</author><dc:creator>j@example.org&#x9b;&hellip;</dc:creator></item></channel></rss>"#;
    let feed = parse_feed(rss.as_bytes(), None, BASE).expect("the document parses");
    assert_eq!(feed.articles.len(), 1);
    // feed-rs takes the address out of the name and keeps the rest.
    assert_eq!(feed.articles[0].author.as_deref(), Some("…"));
}

/// The same property test, in CI: a reference right before the address
/// (`&#x9b;j@example.org`) ends with `;`, which the guard's first look did not
/// take for the end of an entity, so it let the document through unspaced.
#[test]
fn an_address_right_after_a_character_reference_does_not_crash_the_parser() {
    let rss = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title></title><item><author>&#x9b;j@example.org</author><dc:creator>&#x9b;j@example.org</dc:creator></item></channel></rss>"#;
    let feed = parse_feed(rss.as_bytes(), None, BASE).expect("the document parses");
    assert_eq!(feed.articles.len(), 1);
}

/// Property test `article_lines_are_clean_and_fit_the_pane`: U+FE0F after
/// a character makes it two columns wide where each alone counts one and
/// none, so lines of them were broken too late, twice the pane's width.
#[test]
fn emoji_presentation_selectors_count_in_the_line_width() {
    let html = "8\u{fe0f}".repeat(40) + " -9223372036854775808\u{200b}\u{fe0f}\u{301}\u{20e3}x";
    for width in [20, 23, 77] {
        let rendered = render_article(&html, width, &ArticleStyles::plain());
        for line in &rendered.lines {
            assert!(line.width() <= usize::from(width), "{line:?} at {width}");
        }
    }
}

/// fuzz target `feed`, again: a declaration quick-xml reads up to a `?>`
/// far away, past its 64-byte prefix, with an encoding label in it (here
/// one whose own `?>` is missing). Every declaration is found as quick-xml
/// finds it, so this one says UTF-8 as well.
#[test]
fn a_long_unclosed_declaration_does_not_crash_the_parser() {
    let doc = format!(
        "<?xml version='1.0' encoding='iso-8859-1'??xml version='1.0' {}> ?>\n<rss version=\"2.0\"><channel><title>T</title></channel></rss>",
        "x".repeat(100)
    );
    match parse_feed(doc.as_bytes(), None, BASE) {
        Ok(feed) => assert_eq!(feed.title.as_deref(), Some("T")),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// fuzz target `import`: quick-xml's error for a malformed OPML document
/// quotes the document, control characters and all, and `tidings import`
/// prints it: an OPML file could drive the terminal. The message is
/// sanitised like every other text from outside.
#[test]
fn an_opml_error_does_not_carry_terminal_controls() {
    let doc = "<opml version=\"1.1\"><\u{1b}]0;owned\u{7}\u{1b}[2Jhead></head></opml>";
    let error = parse_import(doc).expect_err("a malformed document");
    let message = error.to_string();
    assert!(message.starts_with("not an OPML document"), "{message}");
    assert!(
        !message.chars().any(tidings::text::is_forbidden),
        "{message:?}"
    );
}
