//! Filters as articles arrive: a hidden article is gone and stays gone when
//! its feed lists it again, one marked read is never counted unread, one
//! starred or tagged says so; articles that were there before are left be.

use super::tests::{article, feed_of, save, sub};
use super::*;
use crate::config::RetentionConfig;
use crate::query::{Filter, FilterAction};

const NOW: i64 = 1_800_000_000;

fn rule(query: &str, action: FilterAction) -> Filter {
    Filter {
        query: crate::query::parse(query).unwrap(),
        action,
    }
}

fn state(store: &Store, feed: FeedId) -> Vec<(String, bool, bool, Vec<String>)> {
    let mut rows: Vec<_> = store
        .feed_articles(feed)
        .unwrap()
        .into_iter()
        .map(|a| (a.title.unwrap(), a.read, a.starred, a.categories))
        .collect();
    rows.sort();
    rows
}

#[test]
fn filters_hide_read_star_and_tag_what_arrives() {
    let mut store = Store::open_in_memory().unwrap();
    let retention = RetentionConfig::default();
    let (feed, _) = store.add_feed(&sub("https://news.example/feed")).unwrap();
    // Before any filter: an article that would match stays as it is.
    save(
        &mut store,
        feed,
        &feed_of(vec![article("old", "Sponsored: old", NOW - 60)]),
        NOW - 60,
        &retention,
    );
    store.use_config_filters(vec![rule("title =~ '^sponsored'", FilterAction::Hide)]);
    store
        .add_filter("title contains digest", &FilterAction::Read)
        .unwrap();
    store
        .add_filter("title contains rust", &FilterAction::Star)
        .unwrap();
    store
        .add_filter("title contains rust", &FilterAction::Tag("later".into()))
        .unwrap();
    let arrivals = vec![
        article("old", "Sponsored: old", NOW - 60),
        article("s1", "Sponsored: buy things", NOW),
        article("d1", "Weekly digest", NOW),
        article("r1", "Rust 2.0", NOW),
        article("p1", "Plain news", NOW),
    ];
    let counts = save(
        &mut store,
        feed,
        &feed_of(arrivals.clone()),
        NOW,
        &retention,
    );
    assert_eq!(counts.new, 3, "the hidden one is not new");
    assert_eq!(
        state(&store, feed),
        [
            ("Plain news".into(), false, false, vec![]),
            ("Rust 2.0".into(), false, true, vec!["later".to_string()]),
            ("Sponsored: old".into(), false, false, vec![]),
            ("Weekly digest".into(), true, false, vec![]),
        ]
    );
    let row = &store.feed_list().unwrap()[0];
    assert_eq!((row.unread, row.total), (3, 4));
    // Listed again: the hidden one stays hidden, nothing is tagged twice.
    save(&mut store, feed, &feed_of(arrivals), NOW + 60, &retention);
    assert_eq!(state(&store, feed).len(), 4);
    assert_eq!(store.search("buy", 10).unwrap().len(), 0);
    let rust = state(&store, feed)
        .into_iter()
        .find(|r| r.0 == "Rust 2.0")
        .unwrap();
    assert_eq!(rust.3, ["later"]);
}

#[test]
fn saved_filters_are_listed_and_removed() {
    let mut store = Store::open_in_memory().unwrap();
    let id = store
        .add_filter("author = bot", &FilterAction::Hide)
        .unwrap();
    let saved = store.saved_filters().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!((saved[0].id, saved[0].text.as_str()), (id, "author = bot"));
    assert!(store.remove_filter(id).unwrap());
    assert!(!store.remove_filter(id).unwrap());
}
