//! Queries run on a real cache: each field and operator picks the articles a
//! person would expect, case is ignored (Unicode too), values never become
//! SQL, a regular expression runs in linear time, and search takes prefixes
//! and queries.

use super::tests::{article, feed_of, save, sub};
use super::*;
use crate::config::RetentionConfig;
use crate::model::{ArticleSource, Enclosure, ParsedArticle, QueryFeedId};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn with(mut a: ParsedArticle, edit: impl FnOnce(&mut ParsedArticle)) -> ParsedArticle {
    edit(&mut a);
    crate::parse::finish_article(a)
}

/// Two feeds: "Rust Blog" tagged `dev` (three posts), "Été" (two posts).
fn cache() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    let retention = RetentionConfig::default();
    let (rust, _) = store
        .add_feed(&NewSubscription {
            tags: vec!["dev".into()],
            ..sub("https://blog.rust-lang.org/feed.xml")
        })
        .unwrap();
    let posts = vec![
        with(article("r1", "Announcing Rust 1.95", NOW - DAY), |a| {
            a.categories = vec!["Release".into()];
            a.author = Some("The Rust Team".into());
        }),
        with(
            article("r2", "Inside Rust: async closures", NOW - 3 * DAY),
            |a| {
                a.enclosures = vec![Enclosure {
                    url: "https://cdn.example/talk.mp3".into(),
                    mime_type: Some("audio/mpeg".into()),
                    length: None,
                    duration_secs: None,
                }];
            },
        ),
        article("r3", "This week in Rust 600", NOW - 30 * DAY),
    ];
    save(&mut store, rust, &feed_of(posts), NOW, &retention);
    let (ete, _) = store.add_feed(&sub("https://ete.example/feed")).unwrap();
    let posts = vec![
        with(article("e1", "ÉTÉ INDIEN", NOW - 2 * DAY), |a| {
            a.content = Some("<p>Un été 'chaud'; DROP TABLE articles; --</p>".into());
        }),
        article("e2", "Hiver", NOW - 40 * DAY),
    ];
    save(&mut store, ete, &feed_of(posts), NOW, &retention);
    store.set_feed_title(ete, Some("Été")).unwrap();
    let r3 = store
        .feed_articles(rust)
        .unwrap()
        .into_iter()
        .find(|a| a.title.as_deref() == Some("This week in Rust 600"))
        .unwrap()
        .id;
    store.set_read(r3, true).unwrap();
    store.set_starred(r3, true).unwrap();
    store
}

fn titles(store: &Store, query: &str) -> Vec<String> {
    let q = crate::query::parse(query).unwrap_or_else(|e| panic!("{e}"));
    let mut titles: Vec<String> = store
        .query_hits(&q, NOW, 100)
        .unwrap()
        .into_iter()
        .map(|h| h.article.title.unwrap())
        .collect();
    titles.sort();
    titles
}

#[test]
fn each_field_and_operator_picks_what_it_says() {
    let store = cache();
    assert_eq!(
        titles(&store, "title =~ 'RUST [0-9]'"),
        ["Announcing Rust 1.95", "This week in Rust 600"]
    );
    assert_eq!(titles(&store, "title !~ rust"), ["Hiver", "ÉTÉ INDIEN"]);
    assert_eq!(
        titles(&store, "feed = été and content contains ÉTÉ"),
        ["ÉTÉ INDIEN"]
    );
    assert_eq!(titles(&store, "tag # dev and unread and age < 7d").len(), 2);
    assert_eq!(titles(&store, "tag != dev"), ["Hiver", "ÉTÉ INDIEN"]);
    assert_eq!(
        titles(&store, "category = release"),
        ["Announcing Rust 1.95"]
    );
    assert_eq!(
        titles(&store, "has enclosure"),
        ["Inside Rust: async closures"]
    );
    assert_eq!(
        titles(&store, "starred or age > 35d"),
        ["Hiver", "This week in Rust 600"]
    );
    assert_eq!(titles(&store, "date >= 2027-01-01").len(), 3);
    assert_eq!(
        titles(&store, "not (read or feedurl contains ete)").len(),
        2
    );
    assert_eq!(
        titles(&store, "author = 'the rust team'"),
        ["Announcing Rust 1.95"]
    );
    assert_eq!(titles(&store, "link contains /e2"), ["Hiver"]);
    // A value is a value, whatever it holds.
    assert_eq!(
        titles(
            &store,
            r#"content contains "'chaud'; DROP TABLE articles; --""#
        ),
        ["ÉTÉ INDIEN"]
    );
    assert_eq!(store.article_total().unwrap(), 5);
    let counts = store
        .query_counts(&crate::query::parse("feedurl contains rust").unwrap(), NOW)
        .unwrap();
    assert_eq!(
        counts,
        QueryCounts {
            total: 3,
            unread: 2
        }
    );
}

#[test]
fn a_regular_expression_cannot_hang_the_cache() {
    let mut store = cache();
    let long = "a".repeat(20_000);
    let (feed, _) = store.add_feed(&sub("https://long.example/feed")).unwrap();
    let posts = vec![article("l1", &long, NOW)];
    save(
        &mut store,
        feed,
        &feed_of(posts),
        NOW,
        &RetentionConfig::default(),
    );
    // Catastrophic for a backtracking engine; linear for the regex crate.
    let started = std::time::Instant::now();
    assert_eq!(titles(&store, "title =~ '(a+)+b'").len(), 0);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn search_takes_prefixes_and_queries() {
    let store = cache();
    let hits = |q: &str| {
        let mut t: Vec<String> = store
            .search(q, 20)
            .unwrap()
            .into_iter()
            .map(|h| h.article.title.unwrap())
            .collect();
        t.sort();
        t
    };
    assert_eq!(hits("annou*"), ["Announcing Rust 1.95"]);
    assert!(hits("annou").is_empty());
    assert_eq!(
        hits("title =~ hiver or has enclosure"),
        ["Hiver", "Inside Rust: async closures"]
    );
    // One flag word is a word to look for, not every read article.
    assert!(hits("read").is_empty());
}

/// A query feed's matches (read through the query index when it answers
/// the query or the age leaves few articles, else the table), its unread
/// matches (the unread index), its counts and search agree, for every kind
/// of query: the index's negated times mean what the table's plain ones do.
#[test]
fn every_way_of_reading_matches_finds_the_same_articles() {
    let mut store = cache();
    for (n, text) in [
        "age < 2d",
        "age <= 3d",
        "age > 2d",
        "age < 4d and title =~ rust",
        "title contains rust",
        "tag = dev or feed contains été",
        "(age < 2d or age > 6d) and not starred",
        "content contains café and age < 30d",
        "date > 2026-01-01 or unread",
        "date < 2027-01-10 and age < 3d",
    ]
    .into_iter()
    .enumerate()
    {
        let query = crate::query::parse(text).unwrap();
        let id = store.save_query_feed(&format!("q{n}"), text).unwrap();
        let all = store.query_matches(id, &query, NOW, false).unwrap();
        let unread = store.query_matches(id, &query, NOW, true).unwrap();
        let counts = store.query_counts(&query, NOW).unwrap();
        let hits = titles(&store, text);
        assert_eq!(all.len() as u64, counts.total, "{text}");
        assert_eq!(unread.len() as u64, counts.unread, "{text}");
        assert_eq!(hits.len() as u64, counts.total, "{text}");
        let mut times: Vec<(i64, i64)> = all.iter().map(|&(id, t)| (t, id)).collect();
        times.sort_by(|a, b| b.cmp(a));
        let newest_first: Vec<(i64, i64)> = all.iter().map(|&(id, t)| (t, id)).collect();
        assert_eq!(newest_first, times, "{text}: newest first");
    }
}

/// While a bulk first refresh has the indexes by date dropped, query feeds
/// and the list of all unread articles read the table instead and find the
/// same articles in the same order; the indexes come back, once.
#[test]
fn lists_and_query_feeds_read_the_same_without_the_indexes_by_date() {
    let mut store = cache();
    let texts = [
        "age < 2d",
        "age < 4d and title =~ rust",
        "title contains rust",
        "tag = dev or feed contains été",
    ];
    let ids: Vec<QueryFeedId> = texts
        .iter()
        .enumerate()
        .map(|(n, text)| store.save_query_feed(&format!("q{n}"), text).unwrap())
        .collect();
    let read = |store: &Store| -> Vec<String> {
        let mut out = Vec::new();
        for (&id, text) in ids.iter().zip(texts) {
            let query = crate::query::parse(text).unwrap();
            let all = store.query_matches(id, &query, NOW, false).unwrap();
            let unread = store.query_matches(id, &query, NOW, true).unwrap();
            let counts = store.query_counts(&query, NOW).unwrap();
            out.push(format!("{text}: {all:?} {unread:?} {counts:?}"));
        }
        let total = store.count_articles(ArticleSource::Unread, true).unwrap();
        let page = store
            .article_page(ArticleSource::Unread, true, true, (0, 10), total)
            .unwrap();
        let page: Vec<i64> = page.iter().map(|a| a.id.0).collect();
        out.push(format!("unread: {total} {page:?}"));
        out
    };
    let with_indexes = read(&store);
    assert!(with_indexes.last().unwrap().starts_with("unread: 4 "));
    assert!(!store.build_date_indexes().unwrap(), "both are there");
    store.drop_date_indexes().unwrap();
    // The same matches are kept while nothing is written: read them again.
    store.query_cache.borrow_mut().clear();
    assert_eq!(read(&store), with_indexes);
    assert!(store.build_date_indexes().unwrap());
    assert!(!store.build_date_indexes().unwrap());
    assert_eq!(read(&store), with_indexes);
}
