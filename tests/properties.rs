//! Property tests over the four ways untrusted bytes enter tidings, the short
//! version of the fuzz targets in `fuzz/` that runs with every `cargo test`:
//! feed bytes → `parse_feed` (charset, repairs, sanitising, guid keys);
//! article HTML → `render_article`; OPML and urls files → `parse_import`;
//! HTTP header values → `header_text`, `charset_of`, `max_age`,
//! `retry_after`. Inputs are arbitrary bytes and structured generators that
//! build documents from hostile pieces (terminal escapes, C1 and bidi
//! controls, character references to them, huge numbers, odd encoding
//! declarations, tag soup). The properties are the promises in
//! `tests/invariants` (nothing panics, stored text is sanitised, keys are
//! unique and stable, lines fit the pane outside `<pre>`, only web addresses
//! are imported) plus what each parser must read (a charset, a max-age, an
//! HTTP date as Retry-After). Case counts keep the whole file to a few
//! seconds in a debug build.

mod invariants;

use proptest::prelude::*;
use proptest::test_runner::Config;
use tidings::fetch::{charset_of, header_text, max_age, retry_after};
use tidings::parse::parse_feed;
use tidings::render::{ArticleStyles, render_article};
use tidings::subscriptions::parse_import;

const BASE: &str = "http://prop.test/feed.xml";

fn cases(n: u32) -> Config {
    Config {
        cases: n,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text a hostile or broken feed puts where text goes.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        Just("\u{1b}[31m".to_string()),
        Just("\u{1b}]0;title\u{7}".to_string()),
        Just("\u{9b}2J".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{2066}".to_string()),
        Just("\u{0}\u{8}\r\u{7f}".to_string()),
        Just("&#27;[2J".to_string()),
        Just("&#x9b;".to_string()),
        Just("&amp;#27;".to_string()),
        Just("&#xD800;".to_string()),
        Just("&#1114112;".to_string()),
        Just("&hellip;".to_string()),
        Just("&nosuch;".to_string()),
        Just("&".to_string()),
        Just("<b>bold</b>".to_string()),
        Just("<![CDATA[<p>x</p>]]>".to_string()),
        Just("]]>".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("漢字 👍🏽 ❤\u{fe0f} e\u{301}".to_string()),
        Just("\t\n".to_string()),
        Just("j@example.org".to_string()),
        Just("’".to_string()),
        "\\PC{0,6}",
    ];
    prop::collection::vec(piece, 0..5).prop_map(|v| v.concat())
}

fn date_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Wed, 21 Oct 2015 07:28:00 GMT".to_string()),
        Just("2015-10-21T07:28:00Z".to_string()),
        Just("2015-10-21".to_string()),
        Just("Fri, 31 Dec 9999 23:59:59 +2359".to_string()),
        Just("+275760-09-13T00:00:00Z".to_string()),
        Just("99999999999".to_string()),
        Just("yesterday".to_string()),
        hostile_text(),
    ]
}

fn declaration() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(r#"<?xml version="1.0" encoding="utf-8"?>"#.to_string()),
        Just(r#"<?xml version="1.0" encoding="utf-16"?>"#.to_string()),
        Just(r#"<?xml version="1.0" encoding="UTF-16BE"?>"#.to_string()),
        Just(r#"<?xml version="1.0" encoding="iso-8859-1"?>"#.to_string()),
        Just(r#"<?xml version="1.0" encoding="windows-1252"?>"#.to_string()),
        Just(r#"<?xml version="1.0" encoding="shift_jis"?>"#.to_string()),
        Just(r#"<?xml version="1.0" encoding="x-bogus"?>"#.to_string()),
        Just(r#"<?xml version='1.1' encoding='utf-8' standalone='yes'?>"#.to_string()),
    ]
}

/// One RSS item or Atom entry, escaped or not, possibly without fields.
fn entry(atom: bool) -> impl Strategy<Value = String> {
    (
        prop::option::of(hostile_text()),
        prop::option::of(hostile_text()),
        prop::option::of(prop_oneof![
            Just("http://prop.test/a".to_string()),
            Just("/relative#frag".to_string()),
            Just("javascript:alert(1)".to_string()),
            Just("file:///etc/passwd".to_string()),
            hostile_text(),
        ]),
        prop::option::of(date_text()),
        prop::option::of(hostile_text()),
        prop::option::of(hostile_text()),
        any::<bool>(),
    )
        .prop_map(move |(title, guid, link, date, body, author, escape)| {
            let esc = |s: &str| {
                if escape {
                    s.replace('&', "&amp;").replace('<', "&lt;")
                } else {
                    s.to_string()
                }
            };
            let mut out = String::from(if atom { "<entry>" } else { "<item>" });
            if let Some(t) = title {
                out += &format!("<title>{}</title>", esc(&t));
            }
            if let Some(g) = guid {
                out += &if atom {
                    format!("<id>{}</id>", esc(&g))
                } else {
                    format!("<guid>{}</guid>", esc(&g))
                };
            }
            if let Some(l) = link {
                out += &if atom {
                    format!(r#"<link href="{}"/>"#, esc(&l).replace('"', "&quot;"))
                } else {
                    format!("<link>{}</link>", esc(&l))
                };
            }
            if let Some(d) = date {
                out += &if atom {
                    format!("<updated>{}</updated>", esc(&d))
                } else {
                    format!(
                        "<pubDate>{}</pubDate><dc:date>{}</dc:date>",
                        esc(&d),
                        esc(&d)
                    )
                };
            }
            if let Some(a) = author {
                out += &if atom {
                    format!("<author><name>{}</name></author>", esc(&a))
                } else {
                    format!(
                        "<author>{}</author><dc:creator>{}</dc:creator>",
                        esc(&a),
                        esc(&a)
                    )
                };
            }
            if let Some(b) = body {
                out += &if atom {
                    format!(r#"<content type="html">{}</content>"#, esc(&b))
                } else {
                    format!("<description>{}</description>", esc(&b))
                };
            }
            out += if atom { "</entry>" } else { "</item>" };
            out
        })
}

/// A feed document from random pieces: RSS or Atom, an encoding declaration
/// that may lie, hostile text everywhere, cut short or not.
fn feed_document() -> impl Strategy<Value = Vec<u8>> {
    any::<bool>().prop_flat_map(|atom| {
        (
            declaration(),
            hostile_text(),
            prop::option::of(0u64..u64::MAX),
            prop::collection::vec(entry(atom), 0..5),
            prop::option::of(0usize..2000),
        )
            .prop_map(move |(decl, title, ttl, entries, cut)| {
                let mut doc = decl;
                if atom {
                    doc += r#"<feed xmlns="http://www.w3.org/2005/Atom">"#;
                    doc += &format!("<title>{title}</title>");
                    doc += &entries.concat();
                    doc += "</feed>";
                } else {
                    doc += r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>"#;
                    doc += &format!("<title>{title}</title>");
                    if let Some(ttl) = ttl {
                        doc += &format!("<ttl>{ttl}</ttl>");
                    }
                    doc += &entries.concat();
                    doc += "</channel></rss>";
                }
                let mut bytes = doc.into_bytes();
                if let Some(cut) = cut {
                    bytes.truncate(cut);
                }
                bytes
            })
    })
}

fn check_document(bytes: &[u8], charset: Option<&str>) {
    if let Ok(feed) = parse_feed(bytes, charset, BASE) {
        invariants::check_feed(&feed);
        let again = parse_feed(bytes, charset, BASE).expect("parsed once, parses again");
        invariants::check_stable(&feed, &again);
    }
}

fn http_charset() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(vec![
        None,
        Some("utf-8"),
        Some("ISO-8859-1"),
        Some("utf-16"),
        Some("bogus"),
    ])
}

proptest! {
    #![proptest_config(cases(250))]

    #[test]
    fn any_bytes_parse_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..600), cs in http_charset()) {
        check_document(&bytes, cs);
    }
}

proptest! {
    #![proptest_config(cases(400))]

    #[test]
    fn hostile_feeds_give_sanitised_stable_entries(doc in feed_document(), cs in http_charset()) {
        check_document(&doc, cs);
    }
}

/// Tag soup: open and close tags out of order, attributes with hostile
/// values, wide and combining characters, long words.
fn tag_soup() -> impl Strategy<Value = String> {
    let tag = prop::sample::select(vec![
        "p",
        "div",
        "span",
        "b",
        "i",
        "em",
        "strong",
        "a",
        "img",
        "ul",
        "ol",
        "li",
        "table",
        "tr",
        "td",
        "th",
        "blockquote",
        "h1",
        "h3",
        "code",
        "br",
        "hr",
        "sup",
        "dl",
        "dt",
        "dd",
        "figure",
        "figcaption",
        "s",
        "q",
        "script",
        "style",
        "svg",
        "math",
        "video",
        "iframe",
    ]);
    let piece = prop_oneof![
        hostile_text(),
        "[a-z]{20,90}",
        Just("\u{200b}\u{fe0f}\u{301}\u{20e3}".to_string()),
        Just("ＷＩＤＥ全角文字".repeat(3)),
        Just("&nbsp;&#x1b;&#155;&lt;&gt;".to_string()),
        (tag.clone(), hostile_text()).prop_map(|(t, a)| format!(
            r#"<{t} href="http://x.test/{a}" src="{a}" alt="{a}" colspan="99999" style="white-space:nowrap">"#
        )),
        tag.prop_map(|t| format!("</{t}>")),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(cases(250))]

    #[test]
    fn article_lines_are_clean_and_fit_the_pane(html in tag_soup(), width in 0u16..160) {
        let rendered = render_article(&html, width, &ArticleStyles::plain());
        invariants::check_rendered(&html, width, &rendered);
    }

    #[test]
    fn any_text_renders(bytes in prop::collection::vec(any::<u8>(), 0..400), width in 0u16..100) {
        let html = String::from_utf8_lossy(&bytes);
        let rendered = render_article(&html, width, &ArticleStyles::colored());
        invariants::check_rendered(&html, width, &rendered);
    }
}

fn address() -> impl Strategy<Value = String> {
    prop_oneof![
        "https?://[a-z]{1,8}\\.test/[a-z0-9/]{0,8}",
        Just("HTTP://UPPER.TEST/".to_string()),
        Just("exec:rm -rf ~".to_string()),
        Just("filter:~/f.sh:http://x.test/".to_string()),
        Just("query:unread:unread = \"yes\"".to_string()),
        Just("file:///etc/passwd".to_string()),
        Just("|cat /etc/shadow".to_string()),
        Just("http://[::1".to_string()),
        Just("http://".to_string()),
        hostile_text(),
    ]
}

fn opml() -> impl Strategy<Value = String> {
    let outline = (address(), hostile_text(), hostile_text(), 0u8..3).prop_map(
        |(url, text, category, shape)| {
            let attr = |s: &str| {
                s.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('"', "&quot;")
            };
            let feed = format!(
                r#"<outline text="{}" xmlUrl="{}" category="{}"/>"#,
                attr(&text),
                attr(&url),
                attr(&category)
            );
            match shape {
                0 => feed,
                1 => format!(r#"<outline text="{}">{feed}</outline>"#, attr(&text)),
                _ => format!("<outline>{feed}"),
            }
        },
    );
    (prop::collection::vec(outline, 0..8), any::<bool>()).prop_map(|(outlines, close)| {
        let mut doc = String::from(r#"<?xml version="1.0"?><opml version="2.0"><body>"#);
        doc += &outlines.concat();
        if close {
            doc += "</body></opml>";
        }
        doc
    })
}

fn urls_file() -> impl Strategy<Value = String> {
    let line = (
        address(),
        prop::collection::vec(hostile_text(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(url, words, quote)| {
            let mut line = url;
            for w in words {
                line += if quote { " \"" } else { " " };
                line += &w;
                if quote {
                    line += "\"";
                }
            }
            line
        });
    prop::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(cases(300))]

    #[test]
    fn imports_hold_only_clean_web_addresses(text in prop_oneof![opml(), urls_file(), "\\PC{0,200}"]) {
        if let Ok(list) = parse_import(&text) {
            invariants::check_import(&list);
        }
    }

    #[test]
    fn each_web_address_in_a_urls_file_is_imported(
        hosts in prop::collection::btree_set("[a-z]{1,10}", 1..6),
        title in "[A-Za-z][A-Za-z ]{0,10}",
    ) {
        let text: String = hosts
            .iter()
            .map(|h| format!("https://{h}.test/feed tag \"~{title}\"\n"))
            .collect();
        let list = parse_import(&text).expect("a urls file");
        let urls: Vec<&str> = list.subscriptions.iter().map(|s| s.url.as_str()).collect();
        let expected: Vec<String> = hosts.iter().map(|h| format!("https://{h}.test/feed")).collect();
        prop_assert_eq!(urls, expected.iter().map(String::as_str).collect::<Vec<_>>());
        for s in &list.subscriptions {
            prop_assert_eq!(s.title.as_deref(), Some(title.as_str()));
            prop_assert_eq!(&s.tags, &vec!["tag".to_string()]);
        }
    }
}

/// Seconds read from a header must be addable to a timestamp, as the
/// refresher adds them.
fn fits_a_timestamp(secs: u64) -> bool {
    i64::try_from(secs).is_ok_and(|s| 4_102_444_800_i64.checked_add(s).is_some())
}

proptest! {
    #![proptest_config(cases(800))]

    #[test]
    fn header_values_never_panic(value in prop_oneof![
        "\\PC{0,60}",
        "[0-9]{1,30}",
        "max-age *= *\"?[0-9-]{1,25}\"?",
        "[A-Za-z]{3}, [0-9]{1,2} [A-Za-z]{3} [0-9]{1,6} [0-9:]{5,9} [A-Z+0-9-]{1,5}",
    ]) {
        if let Some(secs) = max_age(&value) {
            prop_assert!(fits_a_timestamp(secs), "max-age {} from {:?}", secs, value);
        }
        if let Some(secs) = retry_after(&value) {
            prop_assert!(fits_a_timestamp(secs), "Retry-After {} from {:?}", secs, value);
        }
        let _ = charset_of(&value);
    }

    #[test]
    fn header_bytes_become_text_that_can_be_sent_back(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let Ok(value) = reqwest::header::HeaderValue::from_bytes(&bytes) else {
            return Ok(());
        };
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ETAG, value);
        let text = header_text(&headers, reqwest::header::ETAG).expect("the header is there");
        prop_assert!(reqwest::header::HeaderValue::from_str(&text).is_ok(), "{:?}", text);
    }

    #[test]
    fn a_charset_parameter_is_read(
        mime in "(text|application)/[a-z+]{1,12}",
        charset in "[A-Za-z0-9_-]{1,16}",
        quoted in any::<bool>(),
        name in prop::sample::select(vec!["charset", "Charset", "CHARSET"]),
        space in " {0,2}",
    ) {
        let value = if quoted { format!("\"{charset}\"") } else { charset.clone() };
        let content_type = format!("{mime};{space}{name}={value}");
        prop_assert_eq!(charset_of(&content_type), Some(charset.as_str()));
    }

    #[test]
    fn max_age_is_read(n in 0u64..=u32::MAX as u64, before in "(public|private|no-transform)?") {
        let value = if before.is_empty() {
            format!("max-age={n}")
        } else {
            format!("{before}, MAX-AGE = {n}")
        };
        prop_assert_eq!(max_age(&value), Some(n));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates(n in 0u64..=u32::MAX as u64, ahead in 60i64..400_000_000) {
        prop_assert_eq!(retry_after(&n.to_string()), Some(n));
        // RFC 7231's IMF-fixdate, `ahead` seconds from now.
        let when = chrono::Utc::now() + chrono::Duration::seconds(ahead);
        let date = when.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let secs = retry_after(&date).expect("an HTTP date") as i64;
        prop_assert!((ahead - 2..=ahead).contains(&secs), "{} for {} s ahead ({})", secs, ahead, date);
        let past = (chrono::Utc::now() - chrono::Duration::seconds(ahead))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        prop_assert_eq!(retry_after(&past), Some(0));
    }
}
