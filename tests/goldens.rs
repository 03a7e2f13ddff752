//! gofeed's translator goldens (`../shared/corpora/gofeed/testdata/translator`)
//! field by field: every field of gofeed's answer that tidings' export also
//! carries is compared with what tidings parsed from the same document, and
//! the agreement per field is printed. The test holds the total to the floor
//! reached so far, so that no change reads these documents worse.
//!
//! Compared, where gofeed gives a value: the feed's title, site link and
//! description; each item's title, link, id, author, published and updated
//! dates, description (our summary), content, categories, enclosures and
//! cover image; the feed's image (our icon). An
//! item missing on either side counts each of its golden fields as a
//! disagreement. Titles and descriptions compare with whitespace runs folded
//! (tidings makes titles one line), links as parsed URLs.

mod support;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::Value;
use tidings::images::find_in_feed;
use tidings::model::{ParsedArticle, ParsedFeed};
use tidings::parse::parse_feed;

const BASE: &str = "http://corpus.test/feed.xml";

/// The share of compared fields that agree, in percent, below which the
/// test fails: what the parser reached when the floor was last raised.
const FLOOR_PERCENT: f64 = 99.0;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|t| !t.trim().is_empty())
}

fn fold(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The same text, white space runs folded.
fn same_text(ours: Option<&str>, theirs: &str) -> bool {
    ours.map(fold) == Some(fold(theirs))
}

/// The same URL, as parsed.
fn same_link(ours: Option<&str>, theirs: &str) -> bool {
    let parse = |u: &str| {
        url::Url::parse(u.trim())
            .map(|u| u.to_string())
            .unwrap_or_else(|_| u.trim().to_string())
    };
    ours.map(parse) == Some(parse(theirs))
}

fn date(v: &Value, key: &str) -> Option<i64> {
    text(v, key).and_then(|d| {
        chrono::DateTime::parse_from_rfc3339(&d)
            .ok()
            .map(|d| d.timestamp())
    })
}

/// Tallies per field: (agreeing, compared), and the disagreements.
#[derive(Default)]
struct Tally {
    fields: BTreeMap<&'static str, (usize, usize)>,
    misses: Vec<String>,
}

impl Tally {
    fn check(
        &mut self,
        case: &str,
        field: &'static str,
        agree: bool,
        detail: impl FnOnce() -> String,
    ) {
        let entry = self.fields.entry(field).or_default();
        entry.1 += 1;
        if agree {
            entry.0 += 1;
        } else {
            self.misses.push(format!("{case}: {field}: {}", detail()));
        }
    }

    /// Where gofeed gives `theirs`: whether ours is `same` (see
    /// [`same_text`], [`same_link`]).
    fn compare(
        &mut self,
        case: &str,
        field: &'static str,
        ours: Option<&str>,
        theirs: Option<String>,
        same: fn(Option<&str>, &str) -> bool,
    ) {
        if let Some(theirs) = theirs {
            self.check(case, field, same(ours, &theirs), || {
                format!("{ours:?}, gofeed {theirs:?}")
            });
        }
    }

    fn total(&self) -> (usize, usize) {
        self.fields
            .values()
            .fold((0, 0), |(a, c), (x, y)| (a + x, c + y))
    }
}

fn compare_feed(case: &str, want: &Value, got: Option<&ParsedFeed>, tally: &mut Tally) {
    let ours = |field: fn(&ParsedFeed) -> &Option<String>| got.and_then(|g| field(g).as_deref());
    tally.compare(
        case,
        "feed title",
        ours(|g| &g.title),
        text(want, "title"),
        same_text,
    );
    tally.compare(
        case,
        "feed link",
        ours(|g| &g.site_url),
        text(want, "link"),
        same_link,
    );
    tally.compare(
        case,
        "feed description",
        ours(|g| &g.description),
        text(want, "description"),
        same_text,
    );
    let image = want.get("image").and_then(|i| text(i, "url"));
    tally.compare(case, "feed image", ours(|g| &g.icon), image, same_link);
    let items = want.get("items").and_then(Value::as_array);
    let none = Vec::new();
    let ours = got.map_or(&none, |g| &g.articles);
    for (i, item) in items.into_iter().flatten().enumerate() {
        compare_item(&format!("{case} item {i}"), item, ours.get(i), tally);
    }
}

fn compare_item(case: &str, want: &Value, got: Option<&ParsedArticle>, tally: &mut Tally) {
    let ours = |field: fn(&ParsedArticle) -> &Option<String>| got.and_then(|g| field(g).as_deref());
    tally.compare(
        case,
        "title",
        ours(|g| &g.title),
        text(want, "title"),
        same_text,
    );
    tally.compare(
        case,
        "description",
        ours(|g| &g.summary),
        text(want, "description"),
        same_text,
    );
    tally.compare(
        case,
        "content",
        ours(|g| &g.content),
        text(want, "content"),
        same_text,
    );
    tally.compare(
        case,
        "link",
        ours(|g| &g.link),
        text(want, "link"),
        same_link,
    );
    if let Some(guid) = text(want, "guid") {
        let ours = got.and_then(|g| g.guid.as_deref());
        tally.check(case, "id", ours == Some(guid.as_str()), || {
            format!("{ours:?}, gofeed {guid:?}")
        });
    }
    if let Some(author) = want.get("author") {
        let theirs = text(author, "name").or_else(|| text(author, "email"));
        if let Some(theirs) = theirs {
            let ours = got.and_then(|g| g.author.as_deref());
            tally.check(case, "author", ours == Some(theirs.as_str()), || {
                format!("{ours:?}, gofeed {theirs:?}")
            });
        }
    }
    for (field, key, ours) in [
        (
            "published",
            "publishedParsed",
            got.and_then(|g| g.published),
        ),
        ("updated", "updatedParsed", got.and_then(|g| g.updated)),
    ] {
        if let Some(theirs) = date(want, key) {
            tally.check(case, field, ours == Some(theirs), || {
                format!("{ours:?}, gofeed {theirs}")
            });
        }
    }
    if let Some(categories) = want.get("categories").and_then(Value::as_array) {
        let theirs: Vec<&str> = categories.iter().filter_map(Value::as_str).collect();
        let ours: Vec<&str> = got.map_or(Vec::new(), |g| {
            g.categories.iter().map(String::as_str).collect()
        });
        tally.check(case, "categories", ours == theirs, || {
            format!("{ours:?}, gofeed {theirs:?}")
        });
    }
    let image = want.get("image").and_then(|i| text(i, "url"));
    tally.compare(case, "image", ours(|g| &g.image), image, same_link);
    if let Some(enclosures) = want.get("enclosures").and_then(Value::as_array) {
        let theirs: Vec<String> = enclosures.iter().filter_map(|e| text(e, "url")).collect();
        let ours: Vec<String> = got.map_or(Vec::new(), |g| {
            g.enclosures.iter().map(|e| e.url.clone()).collect()
        });
        tally.check(case, "enclosures", ours == theirs, || {
            format!("{ours:?}, gofeed {theirs:?}")
        });
    }
}

fn parse(bytes: Vec<u8>) -> Option<ParsedFeed> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut feed = parse_feed(&bytes, None, BASE).ok()?;
        find_in_feed(&mut feed, BASE);
        Some(feed)
    }))
    .ok()
    .flatten()
}

#[test]
fn gofeed_translator_goldens_agree_field_by_field() {
    let test = "gofeed_translator_goldens_agree_field_by_field";
    let Some(shared) = support::shared_dir() else {
        support::skip(test, "../shared/corpora is not in this checkout");
        return;
    };
    let dir = shared.join("corpora/gofeed/testdata/translator");
    let cases = support::translator_cases(&dir);
    if cases.is_empty() {
        support::skip(
            test,
            "the gofeed translator goldens are not in ../shared/corpora",
        );
        return;
    }
    let mut tally = Tally::default();
    for (input, expected) in &cases {
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        let want: Value = serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap();
        let got = parse(std::fs::read(input).unwrap());
        compare_feed(&name, &want, got.as_ref(), &mut tally);
    }
    let (agree, compared) = tally.total();
    let percent = 100.0 * agree as f64 / compared.max(1) as f64;
    eprintln!(
        "gofeed translator goldens: {} cases, {agree} of {compared} fields agree ({percent:.1}%)",
        cases.len()
    );
    for (field, (a, c)) in &tally.fields {
        eprintln!("  {field:<18} {a:>4} of {c:<4}");
    }
    for miss in &tally.misses {
        eprintln!("  differs: {miss}");
    }
    assert!(
        compared > 100,
        "only {compared} fields compared: the goldens were not read"
    );
    assert!(
        percent >= FLOOR_PERCENT,
        "{percent:.1}% of the fields agree with gofeed, below the {FLOOR_PERCENT}% reached before"
    );
}
