//! One story once, on a real cache: two feeds carrying the same three
//! stories (their links differing in tracking parameters, `www.` and a
//! trailing slash) show three articles in the unified lists and in search;
//! reading one reads it in both feeds; the article names the other feed; a
//! feed kept out of deduplication keeps its own.

use super::tests::{feed_of, save, sub};
use super::*;
use crate::config::RetentionConfig;
use crate::model::{ArticleSource, ParsedArticle};

const NOW: i64 = 1_800_000_000;

fn story(key: &str, title: &str, link: &str) -> ParsedArticle {
    crate::parse::finish_article(ParsedArticle {
        guid_key: format!("id:{key}"),
        guid: Some(key.into()),
        title: Some(title.into()),
        link: Some(link.into()),
        published: Some(NOW - 3600),
        content: Some(format!("<p>{title} zeppelins</p>")),
        ..Default::default()
    })
}

fn two_feeds_one_story_set(dedup_b: bool) -> (Store, FeedId, FeedId) {
    let mut store = Store::open_in_memory().unwrap();
    let retention = RetentionConfig::default();
    let (a, _) = store.add_feed(&sub("https://a.example/feed")).unwrap();
    let (b, _) = store.add_feed(&sub("https://b.example/feed")).unwrap();
    store
        .update_feed_settings(b, |s| s.dedup = dedup_b)
        .unwrap();
    let first = vec![
        story("a1", "Airships return", "https://news.example/airships"),
        story("a2", "Ports reopen", "https://news.example/ports?id=7"),
        story("a3", "Tides", "https://news.example/tides"),
    ];
    let second = vec![
        story(
            "b1",
            "Airships return",
            "https://www.news.example/airships/?utm_source=b",
        ),
        story(
            "b2",
            "Ports reopen",
            "http://news.example/ports?utm_medium=rss&id=7#top",
        ),
        story("b3", "Tides", "https://news.example/tides?fbclid=xyz"),
    ];
    save(&mut store, a, &feed_of(first), NOW, &retention);
    save(&mut store, b, &feed_of(second), NOW, &retention);
    store.set_feed_title(a, Some("Feed A")).unwrap();
    store.set_feed_title(b, Some("Feed B")).unwrap();
    (store, a, b)
}

#[test]
fn a_story_two_feeds_carry_is_listed_searched_and_read_once() {
    let (mut store, a, b) = two_feeds_one_story_set(true);
    assert_eq!(
        store.count_articles(ArticleSource::Unread, true).unwrap(),
        3
    );
    let unified = store
        .article_page(ArticleSource::Unread, true, true, (0, 10), 3)
        .unwrap();
    assert_eq!(unified.len(), 3);
    assert!(unified.iter().all(|x| x.feed_id == a));
    assert_eq!(store.search("zeppelins", 10).unwrap().len(), 3);
    // Each feed still lists its own.
    assert_eq!(
        store.count_articles(ArticleSource::Feed(b), false).unwrap(),
        3
    );

    // Read in feed B: read in feed A too, and the other way round.
    let b_articles = store.feed_articles(b).unwrap();
    store.set_read(b_articles[0].id, true).unwrap();
    let read_in_a = store
        .feed_articles(a)
        .unwrap()
        .iter()
        .filter(|x| x.read)
        .count();
    assert_eq!(read_in_a, 1);
    assert_eq!(
        store.count_articles(ArticleSource::Unread, true).unwrap(),
        2
    );
    // The article names the other feed.
    let opened = store.article(b_articles[0].id).unwrap().unwrap();
    assert_eq!(opened.also_in, ["Feed A"]);
    let original = store
        .article(store.feed_articles(a).unwrap()[0].id)
        .unwrap()
        .unwrap();
    assert_eq!(original.also_in, ["Feed B"]);
    // Marking feed A read marks B's copies.
    store.mark_all_read(ArticleSource::Feed(a)).unwrap();
    assert!(store.feed_articles(b).unwrap().iter().all(|x| x.read));
    let rows = store.feed_list().unwrap();
    assert!(rows.iter().all(|r| r.unread == 0), "{rows:?}");
}

#[test]
fn a_feed_kept_out_of_deduplication_keeps_its_own() {
    let (mut store, _, b) = two_feeds_one_story_set(false);
    assert_eq!(
        store.count_articles(ArticleSource::Unread, true).unwrap(),
        6
    );
    store
        .set_read(store.feed_articles(b).unwrap()[0].id, true)
        .unwrap();
    assert_eq!(
        store.count_articles(ArticleSource::Unread, true).unwrap(),
        5
    );
}

#[test]
fn the_story_key_ignores_what_only_tracks_readers() {
    let key = |link: &str| crate::parse::story_key(Some(link), None, None, None, "");
    assert_eq!(
        key("https://www.Example.org/a/b/?utm_campaign=x&q=1&fbclid=2#c"),
        key("http://example.org/a/b?q=1")
    );
    assert_ne!(
        key("https://example.org/a?q=1"),
        key("https://example.org/a?q=2")
    );
    // No link: a global id, else the title on the same site the same day.
    let by_title = |title: &str, feed: &str, at: i64| {
        crate::parse::story_key(None, Some("42"), Some(title), Some(at), feed)
    };
    assert_eq!(
        by_title("Big  News", "https://www.site.example/rss", NOW),
        by_title("big news", "https://site.example/atom", NOW + 60)
    );
    assert_ne!(
        by_title("Big News", "https://site.example/rss", NOW),
        by_title("Big News", "https://other.example/rss", NOW)
    );
}
