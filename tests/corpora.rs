//! Every document of `../shared/corpora/` (feeds, pages and odd files that other
//! feed parsers and validators test themselves with) goes through the refresher's
//! own path: `parse_feed`, `images::find_in_feed`, then `Store::save_fetch`. The
//! invariants are ours, not the corpora's: a document parses or is rejected with
//! a clear error, never panics or hangs; what is stored holds no terminal control
//! character; a second ingest of the same document adds nothing. gofeed's
//! translator goldens then serve as an oracle for titles, links, ids, dates and
//! item counts. Gzip files are decoded first, as a `Content-Encoding: gzip`
//! response would be.
//!
//! Without `../shared` every test says it was skipped and passes. The tests at
//! the end pin real-world forms found here that need more than feed-rs gives
//! (RSS versions it does not know, odd `type` attributes, entries told apart
//! only by their enclosures).

mod support;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tidings::config::RetentionConfig;
use tidings::images::{find_covers, find_in_feed};
use tidings::model::{FetchRecord, ParsedFeed};
use tidings::parse::{ParseError, parse_feed};
use tidings::store::{FeedUpdate, NewSubscription, Store};
use tidings::text::is_forbidden;

const BASE: &str = "http://corpus.test/feed.xml";

/// Longer than any parse may take; a document past it has hung the parser.
const WATCHDOG: Duration = Duration::from_secs(30);

/// What became of one parse.
enum Outcome {
    Parsed(ParsedFeed),
    Rejected(ParseError),
    Panicked(String),
    Hung,
}

/// Parses `bytes` the way the refresher does (sync `parse_feed`, then
/// `find_in_feed`, panics caught),
/// on its own thread so that a hang is noticed instead of stalling the test.
fn parse_guarded(bytes: Vec<u8>) -> (Outcome, Duration) {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut feed = parse_feed(&bytes, None, BASE)?;
            find_in_feed(&mut feed, BASE);
            Ok(feed)
        }));
        let _ = tx.send(result);
    });
    let outcome = match rx.recv_timeout(WATCHDOG) {
        Ok(Ok(Ok(feed))) => Outcome::Parsed(feed),
        Ok(Ok(Err(e))) => Outcome::Rejected(e),
        Ok(Err(panic)) => Outcome::Panicked(panic_message(panic.as_ref())),
        // The thread is left running: it cannot be stopped, and the test fails anyway.
        Err(mpsc::RecvTimeoutError::Timeout) => Outcome::Hung,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Outcome::Panicked("the parse thread ended without an answer".into())
        }
    };
    (outcome, started.elapsed())
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

fn corpora_dir(test: &str) -> Option<PathBuf> {
    let Some(shared) = support::shared_dir() else {
        support::skip(test, "../shared/corpora is not in this checkout");
        return None;
    };
    let dir = shared.join("corpora");
    if !dir.is_dir() {
        support::skip(test, "../shared/corpora is not in this checkout");
        return None;
    }
    Some(dir)
}

/// Every file under `dir`, sorted, so failures always come in the same order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The bytes the refresher would hand the parser: a gzip file (as a server with
/// `Content-Encoding: gzip` would send it) is decoded first, through the same
/// function and limit the refresher uses.
fn document_bytes(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let limit = tidings::config::RefreshConfig::default().max_body_bytes;
        if let Ok(decoded) = tidings::fetch::decode_body(&raw, Some("gzip"), limit) {
            return decoded;
        }
    }
    raw
}

/// Each stored text that holds a forbidden character (or, in a title, an HTML
/// entity left undecoded), named by where it is.
fn forbidden_texts(store: &Store, feed: tidings::model::FeedId) -> Vec<String> {
    let stored = store
        .feeds()
        .unwrap()
        .into_iter()
        .find(|f| f.id == feed)
        .expect("the feed is stored");
    let articles = store.feed_articles(feed).unwrap();
    let mut bad = Vec::new();
    // Titles are plain text: an entity left in one shows on screen as `&hellip;`.
    let entity =
        regex::Regex::new(r"&(?:[A-Za-z][A-Za-z0-9]{1,7}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
            .unwrap();
    for title in std::iter::once(&stored.title)
        .chain(articles.iter().map(|a| &a.title))
        .flatten()
    {
        if let Some(m) = entity.find(title) {
            bad.push(format!(
                "title with the entity {} left in it: {:?}",
                m.as_str(),
                shorten(title)
            ));
        }
    }
    let mut check = |what: &str, text: Option<&str>| {
        if let Some(text) = text
            && let Some(c) = text.chars().find(|c| is_forbidden(*c))
        {
            bad.push(format!(
                "{what} holds U+{:04X}: {:?}",
                c as u32,
                shorten(text)
            ));
        }
    };
    check("feed title", stored.title.as_deref());
    check("feed description", stored.description.as_deref());
    check("feed site_url", stored.site_url.as_deref());
    for a in &articles {
        check("guid", a.guid.as_deref());
        check("title", a.title.as_deref());
        check("link", a.link.as_deref());
        check("author", a.author.as_deref());
        check("summary", a.summary.as_deref());
        check("content", a.content.as_deref());
        for c in &a.categories {
            check("category", Some(c));
        }
        for e in &a.enclosures {
            check("enclosure url", Some(&e.url));
            check("enclosure type", e.mime_type.as_deref());
        }
    }
    bad
}

fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

fn ingest(
    store: &mut Store,
    feed: tidings::model::FeedId,
    parsed: &ParsedFeed,
) -> tidings::store::SaveCounts {
    store
        .save_fetch(
            feed,
            None,
            &FeedUpdate {
                parsed: Some(parsed.clone()),
                ..Default::default()
            },
            &mut FetchRecord::default(),
            1_000,
            &RetentionConfig::default(),
        )
        .unwrap()
}

#[test]
fn every_corpus_document_parses_or_fails_cleanly_and_stores_clean_text() {
    let Some(corpora) =
        corpora_dir("every_corpus_document_parses_or_fails_cleanly_and_stores_clean_text")
    else {
        return;
    };
    let files = files_under(&corpora);
    let db_dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db_dir.path().join("corpus.db")).unwrap();

    let mut failures: Vec<String> = Vec::new();
    let mut parsed_ok: BTreeMap<PathBuf, ParsedFeed> = BTreeMap::new();
    let mut rejected = 0usize;
    let mut articles = 0usize;
    // Parsed documents that held raw control characters: proof that the
    // clean-text check met some.
    let mut hostile = 0usize;
    let mut slowest: (Duration, PathBuf) = (Duration::ZERO, PathBuf::new());

    for (i, path) in files.iter().enumerate() {
        let name = path.strip_prefix(&corpora).unwrap().display().to_string();
        let bytes = document_bytes(path);
        let (outcome, took) = parse_guarded(bytes.clone());
        if took > slowest.0 {
            slowest = (took, path.clone());
        }
        let parsed = match outcome {
            Outcome::Parsed(feed) => feed,
            Outcome::Rejected(e) => {
                let message = e.to_string();
                // "not a feed: " etc. followed by a reason, on text safe to print.
                let reason = message
                    .split_once(": ")
                    .map(|(_, r)| r.trim())
                    .unwrap_or("");
                if reason.is_empty() || message.chars().any(is_forbidden) {
                    failures.push(format!("{name}: unclear rejection {message:?}"));
                }
                rejected += 1;
                continue;
            }
            Outcome::Panicked(why) => {
                failures.push(format!("{name}: the parser panicked: {why}"));
                continue;
            }
            Outcome::Hung => {
                failures.push(format!("{name}: no answer within {} s", WATCHDOG.as_secs()));
                continue;
            }
        };

        let (feed, _) = store
            .add_feed(&NewSubscription {
                url: format!("file:///corpus/{i}"),
                ..Default::default()
            })
            .unwrap();
        let first = ingest(&mut store, feed, &parsed);
        if first.new as usize != parsed.articles.len() || first.total != first.new {
            failures.push(format!(
                "{name}: {} entries parsed but the first save counted {first:?}",
                parsed.articles.len()
            ));
        }
        // A second refresh of the same document: parsed again from the bytes, so
        // that a key invented afresh at each parse would show as a new article.
        match parse_guarded(bytes).0 {
            Outcome::Parsed(again) => {
                let second = ingest(&mut store, feed, &again);
                if second.new != 0 || second.updated != 0 {
                    let keys: Vec<_> = again
                        .articles
                        .iter()
                        .map(|a| a.guid_key.as_str())
                        .take(5)
                        .collect();
                    failures.push(format!(
                        "{name}: the second ingest of the same document gave {} new and {} updated articles (keys {keys:?})",
                        second.new, second.updated
                    ));
                }
            }
            _ => failures.push(format!("{name}: parsed once, but not the second time")),
        }
        for bad in forbidden_texts(&store, feed) {
            failures.push(format!("{name}: stored {bad}"));
        }
        articles += parsed.articles.len();
        let bytes = document_bytes(path);
        if tidings::parse::to_utf8(&bytes, None)
            .chars()
            .any(is_forbidden)
        {
            hostile += 1;
        }
        parsed_ok.insert(path.clone(), parsed);
    }

    eprintln!(
        "corpora: {} files · {} parsed ok · {} rejected with a clear error · {} articles · {} parsed documents held raw control characters · slowest {} ms ({})",
        files.len(),
        parsed_ok.len(),
        rejected,
        articles,
        hostile,
        slowest.0.as_millis(),
        slowest
            .1
            .strip_prefix(&corpora)
            .unwrap_or(&slowest.1)
            .display()
    );
    assert!(
        failures.is_empty(),
        "{} of {} documents broke an invariant:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );

    // Sanity floors from the data itself: every feed-looking XML or JSON Feed
    // document is counted, and most of them must have parsed.
    let feedlike = files
        .iter()
        .filter(|p| {
            let text = String::from_utf8_lossy(&document_bytes(p)).to_string();
            text.contains("<rss") || text.contains("<feed") || text.contains("jsonfeed.org/version")
        })
        .count();
    assert!(
        parsed_ok.len() * 2 > feedlike,
        "only {} of {feedlike} feed-looking documents parsed",
        parsed_ok.len()
    );
    assert!(
        articles > parsed_ok.len() / 2,
        "{articles} articles from {} feeds",
        parsed_ok.len()
    );
    assert!(
        hostile > 0,
        "no parsed document held a control character: the clean-text check met none"
    );

    // The known traps of the corpora README, found by content rather than by name.
    let traps: Vec<(&str, Vec<&PathBuf>)> = vec![
        (
            "<rss> without a version attribute",
            files
                .iter()
                .filter(|p| {
                    let text = String::from_utf8_lossy(&document_bytes(p)).to_string();
                    text.contains("<rss>") && text.contains("<channel>") && text.contains("</rss>")
                })
                .collect(),
        ),
        (
            "bytes that are not UTF-8 in an RSS document (legacy 8-bit encodings, declared wrongly or not at all)",
            files
                .iter()
                .filter(|p| {
                    let bytes = document_bytes(p);
                    let text = String::from_utf8_lossy(&bytes);
                    std::str::from_utf8(&bytes).is_err()
                        && text.contains("<rss")
                        && text.contains("</rss>")
                })
                .collect(),
        ),
    ];
    for (trap, found) in traps {
        assert!(
            !found.is_empty(),
            "the corpora hold no document with {trap}"
        );
        let failed: Vec<String> = found
            .iter()
            .filter(|p| !parsed_ok.contains_key(**p))
            .map(|p| p.strip_prefix(&corpora).unwrap().display().to_string())
            .collect();
        assert!(
            failed.is_empty(),
            "documents with {trap} were rejected: {failed:?}"
        );
        eprintln!("trap {trap}: {} documents, all parsed", found.len());
    }
    // Legacy 8-bit text is decoded, not replaced: no U+FFFD in what a reader shows.
    for (path, feed) in &parsed_ok {
        let raw = std::fs::read(path).unwrap();
        if std::str::from_utf8(&raw).is_ok() || raw.starts_with(&[0x1f, 0x8b]) {
            continue;
        }
        let titles = std::iter::once(&feed.title).chain(feed.articles.iter().map(|a| &a.title));
        for title in titles.flatten() {
            assert!(
                !title.contains('\u{fffd}'),
                "{}: the title {title:?} lost characters in decoding",
                path.display()
            );
        }
    }
    let pound =
        corpora.join("w3c-feedvalidator/testcases/xml/must/xml_declares_wrong_encoding.xml");
    if let Some(feed) = parsed_ok.get(&pound) {
        // The byte A3 in a document that claims us-ascii: windows-1252's pound sign.
        assert_eq!(feed.title.as_deref(), Some("£"), "{}", pound.display());
    }
}

/// UTF-16 documents that declare `encoding="utf-16"` made feed-rs panic (corpora
/// README). This checkout of the corpora holds no UTF-16 file, so each RSS and
/// Atom document of newsboat's folder is re-encoded here as UTF-16 (big- and
/// little-endian, with and without a BOM) and must parse to what the UTF-8
/// original parses to.
#[test]
fn utf16_copies_of_corpus_feeds_parse_like_the_originals() {
    let Some(corpora) = corpora_dir("utf16_copies_of_corpus_feeds_parse_like_the_originals") else {
        return;
    };
    let mut compared = 0;
    let mut failures = Vec::new();
    for path in files_under(&corpora.join("newsboat/test/data")) {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let Outcome::Parsed(original) = parse_guarded(bytes.clone()).0 else {
            continue;
        };
        if original.articles.is_empty() {
            continue;
        }
        // Say UTF-16 in the declaration, adding one if the document had none.
        let declared = match text.find("?>") {
            Some(end) if text.trim_start().starts_with("<?xml") => {
                let decl = &text[..end];
                let decl = match decl.find("encoding=") {
                    Some(at) => {
                        let quote = decl[at + 9..].chars().next().unwrap();
                        let close = decl[at + 10..].find(quote).unwrap() + at + 10;
                        format!("{}encoding=\"utf-16\"{}", &decl[..at], &decl[close + 1..])
                    }
                    None => format!("{decl} encoding=\"utf-16\""),
                };
                format!("{decl}{}", &text[end..])
            }
            _ => format!("<?xml version=\"1.0\" encoding=\"utf-16\"?>\n{text}"),
        };
        let units: Vec<u16> = declared.encode_utf16().collect();
        let variants: [(&str, Vec<u8>); 4] = [
            (
                "UTF-16BE with BOM",
                [
                    &[0xfe, 0xff][..],
                    &units
                        .iter()
                        .flat_map(|u| u.to_be_bytes())
                        .collect::<Vec<_>>(),
                ]
                .concat(),
            ),
            (
                "UTF-16LE with BOM",
                [
                    &[0xff, 0xfe][..],
                    &units
                        .iter()
                        .flat_map(|u| u.to_le_bytes())
                        .collect::<Vec<_>>(),
                ]
                .concat(),
            ),
            (
                "UTF-16BE without BOM",
                units.iter().flat_map(|u| u.to_be_bytes()).collect(),
            ),
            (
                "UTF-16LE without BOM",
                units.iter().flat_map(|u| u.to_le_bytes()).collect(),
            ),
        ];
        let name = path.strip_prefix(&corpora).unwrap().display().to_string();
        for (variant, wide) in variants {
            match parse_guarded(wide).0 {
                Outcome::Parsed(feed) if feed == original => {}
                Outcome::Parsed(feed) => failures.push(format!(
                    "{name} as {variant}: parsed differently (title {:?} vs {:?}, {} vs {} entries)",
                    feed.title,
                    original.title,
                    feed.articles.len(),
                    original.articles.len()
                )),
                Outcome::Rejected(e) => failures.push(format!("{name} as {variant}: rejected: {e}")),
                Outcome::Panicked(why) => failures.push(format!("{name} as {variant}: the parser panicked: {why}")),
                Outcome::Hung => failures.push(format!("{name} as {variant}: hung")),
            }
        }
        compared += 1;
    }
    assert!(compared > 0, "no newsboat feed parsed to compare with");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("utf-16: {compared} documents re-encoded 4 ways, all parsed like the originals");
}

// ---- gofeed's translator goldens ----------------------------------------------------

/// One golden item's fields that our model can be held to.
#[derive(Debug, Default)]
struct GoldenItem {
    guid: Option<String>,
    title: Option<String>,
    link: Option<String>,
    published: Option<i64>,
    updated: Option<i64>,
}

#[derive(Debug)]
struct Golden {
    title: Option<String>,
    items: Vec<GoldenItem>,
}

fn golden(json: &serde_json::Value) -> Golden {
    let text = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .filter(|t| !t.trim().is_empty())
    };
    let date = |v: &serde_json::Value, key: &str| {
        text(v, key).map(|d| {
            chrono::DateTime::parse_from_rfc3339(&d)
                .expect("gofeed writes RFC 3339")
                .timestamp()
        })
    };
    Golden {
        title: text(json, "title"),
        items: json
            .get("items")
            .and_then(|i| i.as_array())
            .map(|items| {
                items
                    .iter()
                    .map(|i| GoldenItem {
                        guid: text(i, "guid"),
                        title: text(i, "title"),
                        link: text(i, "link"),
                        published: date(i, "publishedParsed"),
                        updated: date(i, "updatedParsed"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Cases where gofeed and tidings knowingly differ, with the reason. Their
/// disagreements are printed, not failed; every other case must agree.
const KNOWN_DIVERGENCES: &[(&str, &str)] = &[(
    "feed_item_updated_-_atom03_feed_entry_modified.xml",
    "gofeed copies an Atom entry's updated date into an empty published; feedparser and tidings leave it empty",
)];

fn same_link(ours: Option<&str>, theirs: &str) -> bool {
    // "http://example.org" and "http://example.org/" are the same address.
    let parse = |u: &str| {
        url::Url::parse(u)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| u.to_string())
    };
    ours.map(parse) == Some(parse(theirs))
}

/// gofeed's universal model as an oracle for ours, held to the fields both
/// models mean the same way:
/// - the feed title and each item's title, with whitespace runs folded (we make
///   titles one line; gofeed keeps the document's line breaks);
/// - the number of items, and each item's id, link and published/updated dates
///   where gofeed gives them. Links compare as parsed URLs.
///
/// Left out, and why:
/// - items with several candidate links (`*_links_*`): gofeed takes the last
///   `<link>`, we take the first alternate one; neither is wrong;
/// - the cases in [`KNOWN_DIVERGENCES`].
#[test]
fn gofeed_translator_goldens_agree_on_titles_links_ids_dates_and_counts() {
    let test = "gofeed_translator_goldens_agree_on_titles_links_ids_dates_and_counts";
    let Some(corpora) = corpora_dir(test) else {
        return;
    };
    let cases = support::translator_cases(&corpora.join("gofeed/testdata/translator"));
    assert!(
        cases.len() > 50,
        "only {} translator cases found",
        cases.len()
    );
    let fold = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut failures = Vec::new();
    let mut known = Vec::new();
    let mut compared: BTreeMap<&str, usize> = BTreeMap::new();
    for (input, expected) in &cases {
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        let want = golden(&serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap());
        let bytes = std::fs::read(input).unwrap();
        let mut disagree: Vec<String> = Vec::new();
        match parse_guarded(bytes.clone()).0 {
            Outcome::Parsed(got) => {
                if let Some(title) = &want.title {
                    *compared.entry("titles").or_default() += 1;
                    if got.title.as_deref().map(fold) != Some(fold(title)) {
                        disagree.push(format!("feed title {:?}, gofeed {title:?}", got.title));
                    }
                }
                *compared.entry("item counts").or_default() += 1;
                if got.articles.len() != want.items.len() {
                    disagree.push(format!(
                        "{} items, gofeed {}",
                        got.articles.len(),
                        want.items.len()
                    ));
                }
                let several_links = name.contains("_links_");
                for (i, (ours, theirs)) in got.articles.iter().zip(&want.items).enumerate() {
                    if let Some(title) = &theirs.title {
                        *compared.entry("titles").or_default() += 1;
                        if ours.title.as_deref().map(fold) != Some(fold(title)) {
                            disagree
                                .push(format!("item {i} title {:?}, gofeed {title:?}", ours.title));
                        }
                    }
                    if let Some(link) = theirs.link.as_deref().filter(|_| !several_links) {
                        *compared.entry("links").or_default() += 1;
                        if !same_link(ours.link.as_deref(), link) {
                            disagree
                                .push(format!("item {i} link {:?}, gofeed {link:?}", ours.link));
                        }
                    }
                    if let Some(guid) = &theirs.guid {
                        *compared.entry("ids").or_default() += 1;
                        if ours.guid.as_deref() != Some(guid.as_str()) {
                            disagree.push(format!("item {i} id {:?}, gofeed {guid:?}", ours.guid));
                        }
                    }
                    for (what, ours, theirs) in [
                        ("published", ours.published, theirs.published),
                        ("updated", ours.updated, theirs.updated),
                    ] {
                        if theirs.is_some() {
                            *compared.entry("dates").or_default() += 1;
                            if ours != theirs {
                                disagree
                                    .push(format!("item {i} {what} {ours:?}, gofeed {theirs:?}"));
                            }
                        }
                    }
                }
            }
            Outcome::Rejected(e) => disagree.push(format!("gofeed parses it, we reject it: {e}")),
            Outcome::Panicked(why) => disagree.push(format!("the parser panicked: {why}")),
            Outcome::Hung => disagree.push("the parser hung".into()),
        }
        if disagree.is_empty() {
            continue;
        }
        match KNOWN_DIVERGENCES.iter().find(|(case, _)| *case == name) {
            Some((_, why)) => known.push(format!("{name} ({why}): {}", disagree.join("; "))),
            None => failures.extend(disagree.into_iter().map(|d| format!("{name}: {d}"))),
        }
    }
    eprintln!(
        "gofeed translator: {} cases · compared {compared:?} · {} known divergences:",
        cases.len(),
        known.len()
    );
    for line in &known {
        eprintln!("  {line}");
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with gofeed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for (what, floor) in [
        ("titles", 10),
        ("links", 3),
        ("ids", 2),
        ("dates", 3),
        ("item counts", 50),
    ] {
        let n = compared.get(what).copied().unwrap_or(0);
        assert!(
            n >= floor,
            "only {n} {what} compared: the goldens were not read as expected"
        );
    }
}

// ---- forms that need more than feed-rs gives ----------------------------------------

fn parse_corpus_file(corpora: &Path, rel: &str) -> Result<ParsedFeed, String> {
    match parse_guarded(document_bytes(&corpora.join(rel))).0 {
        Outcome::Parsed(feed) => Ok(feed),
        Outcome::Rejected(e) => Err(format!("{rel}: rejected: {e}")),
        Outcome::Panicked(why) => Err(format!("{rel}: panicked: {why}")),
        Outcome::Hung => Err(format!("{rel}: hung")),
    }
}

/// feed-rs knows only RSS versions 0.91, 0.92 and 2.0 and calls anything else
/// "not a feed"; `parse::repair` reads an `<rss>` of any other or no `version`
/// as 2.0, so a real RSS 0.94 channel is kept.
#[test]
fn rss_with_an_unknown_version_number_parses() {
    let Some(corpora) = corpora_dir("rss_with_an_unknown_version_number_parses") else {
        return;
    };
    for rel in [
        "newsboat/test/data/rss_094_with_bracket_author.xml",
        "newsboat/test/data/rss_094_with_empty_author.xml",
    ] {
        let feed = parse_corpus_file(&corpora, rel).unwrap_or_else(|e| panic!("{e}"));
        assert!(!feed.articles.is_empty(), "{rel}: no entries");
    }
}

/// One `type` attribute feed-rs does not accept on a text element (an Atom
/// title or summary, an MRSS `media:title`) makes it reject the whole document
/// (corpora README); on "unsupported content type" `parse::repair` turns the
/// offending attributes into the nearest accepted type, or drops them, and the
/// document is parsed again.
#[test]
fn one_odd_type_attribute_does_not_reject_the_whole_feed() {
    let Some(corpora) = corpora_dir("one_odd_type_attribute_does_not_reject_the_whole_feed") else {
        return;
    };
    let mut failures = Vec::new();
    for rel in [
        "w3c-feedvalidator/testcases/ext/media/invalid_title_type.xml",
        "w3c-feedvalidator/testcases/atom/must/entry_summary_type4.xml",
        "w3c-feedvalidator/testcases/atom/must/entry_title_type_blank.xml",
        "gofeed/testdata/parser/atom/atom10_feed_entry_title_custom_type.xml",
    ] {
        match parse_corpus_file(&corpora, rel) {
            Ok(feed) if !feed.articles.is_empty() => {}
            Ok(_) => failures.push(format!("{rel}: no entries")),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Entries with no id, link, title or date are keyed by a hash of everything
/// else they carry (`parse::guid_key`: body, author, enclosure URLs,
/// categories), and `parse::mapping` keeps only the first entry of a key. So
/// podcast items that carry only an enclosure stay apart.
#[test]
fn entries_without_title_or_body_are_not_merged() {
    let doc = br#"<rss version="2.0"><channel><title>Pod</title>
        <item><enclosure url="http://pod.test/1.mp3" type="audio/mpeg" length="1"/></item>
        <item><enclosure url="http://pod.test/2.mp3" type="audio/mpeg" length="2"/></item>
        </channel></rss>"#;
    let feed = parse_feed(doc, None, BASE).unwrap();
    assert_eq!(feed.articles.len(), 2, "{:#?}", feed.articles);
    let Some(corpora) = corpora_dir("entries_without_title_or_body_are_not_merged") else {
        return;
    };
    let rel =
        "gofeed/testdata/translator/rss/feed_item_fallbacks_-_rss_channel_item_extensions.xml";
    let feed = parse_corpus_file(&corpora, rel).unwrap();
    assert_eq!(feed.articles.len(), 3, "gofeed reads 3 items from {rel}");
}

/// With images not cached, a refresh looks for each article's cover image only
/// (`find_covers`), parsing one image tag at a time instead of the body: on
/// every corpus feed it must choose the cover `find_in_feed` chooses.
#[test]
fn cover_images_found_alone_are_those_found_with_every_image() {
    let Some(corpora) = corpora_dir("cover_images_found_alone_are_those_found_with_every_image")
    else {
        return;
    };
    let (mut compared, mut with_cover) = (0, 0);
    let mut differ = Vec::new();
    for path in files_under(&corpora) {
        let bytes = document_bytes(&path);
        let Ok(Ok(parsed)) = catch_unwind(|| parse_feed(&bytes, None, BASE)) else {
            continue;
        };
        let mut all = parsed.clone();
        find_in_feed(&mut all, BASE);
        let mut covers = parsed;
        find_covers(&mut covers, BASE);
        for (a, c) in all.articles.iter().zip(&covers.articles) {
            compared += 1;
            with_cover += usize::from(a.image.is_some());
            if a.image != c.image {
                differ.push(format!("{}: {:?} / {:?}", path.display(), a.image, c.image));
            }
        }
        if all.icon != covers.icon {
            differ.push(format!(
                "{} icon: {:?} / {:?}",
                path.display(),
                all.icon,
                covers.icon
            ));
        }
    }
    eprintln!("{compared} articles compared, {with_cover} with a cover image");
    assert!(with_cover > 100, "too few covers to tell: {with_cover}");
    assert!(
        differ.is_empty(),
        "{} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}
