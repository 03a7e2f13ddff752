//! Store tests of the subscription writes: a feed unsubscribed from keeps its
//! starred articles as a saved feed (readable, searchable, never fetched) and
//! takes them back when subscribed to again; an import is one transaction (all
//! or nothing, and a small WAL); the subscriptions hook hears every change.

use std::sync::{Arc, Mutex};

use super::tests::{article, feed_of, save, sub};
use super::*;
use crate::config::RetentionConfig;
use crate::model::{ArticleSource, ArticleSummary};

/// A feed at `url` with articles a, b, c (c the newest), `a` starred.
fn feed_with_one_starred(store: &mut Store, url: &str) -> FeedId {
    let (feed, _) = store.add_feed(&sub(url)).unwrap();
    let articles = vec![
        article("a", "Zeppelin kept", 1),
        article("b", "Balloon gone", 2),
        article("c", "Airship gone", 3),
    ];
    save(
        store,
        feed,
        &feed_of(articles),
        10,
        &RetentionConfig::default(),
    );
    let a = articles_of(store, feed)
        .into_iter()
        .find(|a| a.title.as_deref() == Some("Zeppelin kept"))
        .unwrap();
    store.set_starred(a.id, true).unwrap();
    feed
}

fn articles_of(store: &Store, feed: FeedId) -> Vec<ArticleSummary> {
    let source = ArticleSource::Feed(feed);
    let total = store.count_articles(source, false).unwrap();
    store
        .article_page(source, false, true, (0, total), total)
        .unwrap()
}

#[test]
fn unsubscribing_keeps_the_starred_articles_in_a_saved_feed() {
    let mut store = Store::open_in_memory().unwrap();
    let feed = feed_with_one_starred(&mut store, "http://a.test/f");
    store.set_feed_tags(feed, &["news".to_string()]).unwrap();

    assert_eq!(
        store.remove_feed(feed, true).unwrap(),
        Removed::Saved { kept: 1 }
    );
    assert!(
        store.feeds().unwrap().is_empty(),
        "no longer a subscription"
    );
    assert!(
        store.fetch_targets(None).unwrap().is_empty(),
        "never fetched"
    );
    assert!(store.feed_stats(100).unwrap().is_empty());
    let saved = store.saved_feeds().unwrap();
    assert_eq!(saved.len(), 1);
    assert!(saved[0].saved && saved[0].tags.is_empty());
    let row = &store.feed_list().unwrap()[0];
    assert!(row.feed.saved);
    assert_eq!((row.unread, row.total), (1, 1));
    let kept = articles_of(&store, feed);
    assert_eq!(kept.len(), 1);
    assert!(kept[0].starred);
    assert!(
        store
            .article(kept[0].id)
            .unwrap()
            .unwrap()
            .content
            .is_some()
    );
    assert_eq!(
        store.count_articles(ArticleSource::Starred, false).unwrap(),
        1
    );
    assert_eq!(store.search("zeppelin", 10).unwrap().len(), 1);
    assert!(store.search("balloon", 10).unwrap().is_empty());
    assert_eq!(store.find_saved_feed("a.test").unwrap().len(), 1);
    assert!(store.find_feed("a.test").unwrap().is_empty());
    assert!(store.check_integrity().is_ok());
}

#[test]
fn subscribing_again_takes_the_saved_feed_back_and_a_refresh_adds_no_copy() {
    let mut store = Store::open_in_memory().unwrap();
    let other = store.add_feed(&sub("http://b.test/f")).unwrap().0;
    let feed = feed_with_one_starred(&mut store, "http://a.test/f");
    store.remove_feed(feed, true).unwrap();

    let (again, new) = store.add_feed(&sub("http://a.test/f")).unwrap();
    assert_eq!((again, new), (feed, true), "the same feed, to be fetched");
    let feeds = store.feeds().unwrap();
    assert_eq!(
        feeds.iter().map(|f| f.id).collect::<Vec<_>>(),
        [other, feed],
        "back as a subscription, at the end of the list"
    );
    assert!(!feeds[1].saved);
    assert!(store.saved_feeds().unwrap().is_empty());
    assert_eq!(store.fetch_targets(None).unwrap().len(), 2);

    // The feed still lists all three: the kept one is matched, not copied.
    let articles = vec![
        article("a", "Zeppelin kept", 1),
        article("b", "Balloon gone", 2),
        article("c", "Airship gone", 3),
    ];
    let counts = save(
        &mut store,
        feed,
        &feed_of(articles),
        20,
        &RetentionConfig::default(),
    );
    assert_eq!((counts.new, counts.total), (2, 3));
    let list = articles_of(&store, feed);
    assert_eq!(list.len(), 3);
    assert_eq!(list.iter().filter(|a| a.starred).count(), 1);
    assert_eq!(store.search("zeppelin", 10).unwrap().len(), 1);
}

#[test]
fn without_starred_articles_or_asked_to_drop_them_the_feed_goes() {
    let mut store = Store::open_in_memory().unwrap();
    let plain = store.add_feed(&sub("http://a.test/plain")).unwrap().0;
    assert_eq!(store.remove_feed(plain, true).unwrap(), Removed::Deleted);

    let starred = feed_with_one_starred(&mut store, "http://a.test/f");
    assert_eq!(store.remove_feed(starred, false).unwrap(), Removed::Deleted);
    assert!(store.feed_list().unwrap().is_empty());
    assert_eq!(
        store.count_articles(ArticleSource::Starred, false).unwrap(),
        0
    );
    assert!(store.search("zeppelin", 10).unwrap().is_empty());
    assert_eq!(store.remove_feed(starred, true).unwrap(), Removed::Nothing);

    // A saved feed asked to keep them stays; asked to drop them, it goes.
    let saved = feed_with_one_starred(&mut store, "http://a.test/g");
    store.remove_feed(saved, true).unwrap();
    assert_eq!(
        store.remove_feed(saved, true).unwrap(),
        Removed::Saved { kept: 1 }
    );
    assert_eq!(store.saved_feeds().unwrap().len(), 1);
    assert_eq!(store.remove_feed(saved, false).unwrap(), Removed::Deleted);
    assert!(store.saved_feeds().unwrap().is_empty());
}

fn three_hundred() -> Vec<NewSubscription> {
    (0..300)
        .map(|i| NewSubscription {
            url: format!("http://feeds.test/{i}.xml"),
            feed_title: Some(format!("Feed number {i} with a longish title")),
            tags: vec![format!("tag {}", i % 7), "imported".into()],
            ..Default::default()
        })
        .collect()
}

fn wal_bytes(path: &std::path::Path) -> u64 {
    let wal = format!("{}-wal", path.display());
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

#[test]
fn an_import_is_one_transaction_and_leaves_a_small_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut store = Store::open(&path).unwrap();
    store.truncate_wal().unwrap();
    let added = store.add_feeds(&three_hundred()).unwrap();
    assert_eq!(added.len(), 300);
    assert!(added.iter().all(|(_, new)| *new));
    assert_eq!(store.feeds().unwrap().len(), 300);
    // A commit per feed wrote 6 MB of log here (measured); one commit a
    // few hundred KB.
    let wal = wal_bytes(&path);
    assert!(wal < 1024 * 1024, "the import left a {wal}-byte WAL");
    store.truncate_wal().unwrap();
    assert_eq!(wal_bytes(&path), 0);
    // The second time adds nothing and changes nothing.
    let again = store.add_feeds(&three_hundred()).unwrap();
    assert!(again.iter().all(|(_, new)| !*new));
    assert_eq!(store.feeds().unwrap().len(), 300);
}

#[test]
fn an_import_that_fails_half_way_adds_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    store.add_feed(&sub("http://before.test/")).unwrap();
    store
        .conn
        .execute_batch(
            "CREATE TRIGGER fail_import BEFORE INSERT ON feeds
             WHEN NEW.url = 'http://feeds.test/150.xml'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    let err = store.add_feeds(&three_hundred()).unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    let urls: Vec<String> = store.feeds().unwrap().into_iter().map(|f| f.url).collect();
    assert_eq!(urls, ["http://before.test/"]);
    assert!(store.all_tags().unwrap().is_empty());
}

#[test]
fn the_hook_hears_every_change_to_the_subscriptions() {
    let mut store = Store::open_in_memory().unwrap();
    let heard: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let log = Arc::clone(&heard);
    store.on_subscriptions_changed(Box::new(move |feeds| {
        let names = feeds.iter().map(|f| f.display_name().to_string()).collect();
        log.lock().unwrap().push(names);
    }));
    let take = || std::mem::take(&mut *heard.lock().unwrap());

    let (a, _) = store.add_feed(&sub("http://a.test/")).unwrap();
    assert_eq!(take(), [vec!["http://a.test/"]]);
    store
        .add_feeds(&[sub("http://b.test/"), sub("http://c.test/")])
        .unwrap();
    assert_eq!(take().len(), 1, "one import, one backup");
    store.set_feed_title(a, Some("Alpha")).unwrap();
    assert_eq!(take(), [vec!["Alpha", "http://b.test/", "http://c.test/"]]);
    store.set_feed_tags(a, &["x".to_string()]).unwrap();
    assert_eq!(take().len(), 1);
    store.remove_feed(a, true).unwrap();
    assert_eq!(take(), [vec!["http://b.test/", "http://c.test/"]]);
    // Reading and starring are no change to the subscriptions.
    store.set_setting("k", "v").unwrap();
    assert!(take().is_empty());
}
