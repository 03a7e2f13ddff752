//! The store's side of sync on an in-memory cache: a change made here and
//! not yet pushed wins over the server's older state, a pushed change is
//! pushed once, an article fetched here before its feed was synced becomes
//! the server's copy instead of being listed twice, a feed the server
//! dropped is unsubscribed here (keeping its starred articles) without being
//! queued back, and a new account starts from no server ids.

use std::collections::HashSet;

use super::*;
use crate::config::RetentionConfig;
use crate::model::{ArticleId, FeedId, ParsedArticle};

fn parsed(key: &str) -> ParsedArticle {
    crate::parse::finish_article(ParsedArticle {
        guid_key: format!("id:{key}"),
        title: Some(format!("Post {key}")),
        link: Some(format!("https://example.org/{key}")),
        content: Some(format!("<p>{key}</p>")),
        published: Some(1_800_000_000),
        ..ParsedArticle::default()
    })
}

fn remote(id: RemoteId, key: &str, unread: bool, starred: bool) -> RemoteArticle {
    RemoteArticle {
        id,
        feed: 7,
        article: parsed(key),
        unread,
        starred,
    }
}

fn synced_store() -> (Store, FeedId) {
    let mut store = Store::open_in_memory().unwrap();
    store.use_sync_account("ttrss http://s/ u").unwrap();
    let feed = RemoteFeed {
        id: 7,
        url: "https://example.org/feed.xml".into(),
        title: "Synced".into(),
        category: None,
    };
    store.apply_remote_feeds(&[feed]).unwrap();
    let pulled = vec![remote(100, "a", true, false), remote(101, "b", true, false)];
    store
        .save_pulled_articles(pulled, 1_800_000_000, &RetentionConfig::default())
        .unwrap();
    let feed = store.feeds().unwrap()[0].id;
    (store, feed)
}

fn state(store: &Store, feed: FeedId) -> Vec<(String, bool, bool)> {
    let mut rows: Vec<_> = store
        .feed_articles(feed)
        .unwrap()
        .into_iter()
        .map(|a| (a.title.unwrap(), a.read, a.starred))
        .collect();
    rows.sort();
    rows
}

fn id_of(store: &Store, feed: FeedId, title: &str) -> ArticleId {
    store
        .feed_articles(feed)
        .unwrap()
        .into_iter()
        .find(|a| a.title.as_deref() == Some(title))
        .unwrap()
        .id
}

#[test]
fn a_change_waiting_here_wins_over_the_servers_older_state() {
    let (mut store, feed) = synced_store();
    let a = id_of(&store, feed, "Post a");
    store.set_read(a, true).unwrap();
    // The server still says unread (it has not heard), and says b is read now.
    let unread: HashSet<RemoteId> = [100].into();
    let (changed, missing) = store
        .apply_remote_state(feed, &unread, &HashSet::new())
        .unwrap();
    assert_eq!((changed, missing), (1, vec![]));
    assert_eq!(
        state(&store, feed),
        [
            ("Post a".into(), true, false),
            ("Post b".into(), true, false)
        ]
    );
    assert_eq!(store.pending_flags().unwrap().read, [100]);
    assert_eq!(store.feed_list().unwrap()[0].unread, 0);

    // Pushed: nothing waits; a toggle back during the push waits again.
    store.set_read(a, false).unwrap();
    store.confirm_pushed(&[100], Flag::Read, true).unwrap();
    assert_eq!(store.pending_flags().unwrap().unread, [100]);
    store.confirm_pushed(&[100], Flag::Read, false).unwrap();
    assert!(store.pending_flags().unwrap().is_empty());
    assert_eq!(store.sync_changes_waiting().unwrap(), 0);
}

#[test]
fn an_article_fetched_here_becomes_the_servers_copy() {
    let mut store = Store::open_in_memory().unwrap();
    store.use_sync_account("ttrss http://s/ u").unwrap();
    let (feed, _) = store
        .add_feed(&NewSubscription {
            url: "https://example.org/feed.xml".into(),
            ..Default::default()
        })
        .unwrap();
    let update = FeedUpdate {
        parsed: Some(crate::model::ParsedFeed {
            articles: vec![parsed("a")],
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut record = crate::model::FetchRecord::default();
    store
        .save_fetch(
            feed,
            None,
            &update,
            &mut record,
            1_800_000_000,
            &RetentionConfig::default(),
        )
        .unwrap();
    store
        .set_starred(id_of(&store, feed, "Post a"), true)
        .unwrap();
    assert_eq!(store.feeds_to_subscribe().unwrap().len(), 1);
    assert!(store.link_feed(feed, 7).unwrap());
    let pulled = vec![
        remote(100, "a", false, false),
        remote(101, "b", true, false),
    ];
    let saved = store
        .save_pulled_articles(pulled, 1_800_000_100, &RetentionConfig::default())
        .unwrap();
    assert_eq!(saved.new, 1);
    // Read on the server, starred here: both kept, the star waits to be pushed.
    assert_eq!(
        state(&store, feed),
        [
            ("Post a".into(), true, true),
            ("Post b".into(), false, false)
        ]
    );
    assert_eq!(store.pending_flags().unwrap().starred, [100]);
}

#[test]
fn a_feed_the_server_dropped_goes_here_keeping_its_stars_and_is_not_queued_back() {
    let (mut store, feed) = synced_store();
    store
        .set_starred(id_of(&store, feed, "Post b"), true)
        .unwrap();
    let changes = store.apply_remote_feeds(&[]).unwrap();
    assert_eq!(changes.removed, 1);
    assert!(store.feeds().unwrap().is_empty());
    assert_eq!(store.saved_feeds().unwrap().len(), 1);
    assert!(store.queued_unsubscriptions().unwrap().is_empty());

    // An unsubscription made here is queued for the server.
    let (mut store, feed) = synced_store();
    store.remove_feed(feed, false).unwrap();
    assert_eq!(store.queued_unsubscriptions().unwrap().len(), 1);
    assert_eq!(store.queued_unsubscriptions().unwrap()[0].1, 7);
}

#[test]
fn another_account_starts_from_no_server_ids() {
    let (mut store, feed) = synced_store();
    store.set_last_pulled_article(101).unwrap();
    assert!(!store.use_sync_account("ttrss http://s/ u").unwrap());
    assert!(store.use_sync_account("ttrss http://other/ u").unwrap());
    assert_eq!(store.last_pulled_article().unwrap(), 0);
    assert!(store.known_counts().unwrap().is_empty());
    // Its feeds are offered to the new server; its articles stay.
    assert_eq!(
        store.feeds_to_subscribe().unwrap(),
        [(feed, "https://example.org/feed.xml".into())]
    );
    assert_eq!(state(&store, feed).len(), 2);
}

#[test]
fn a_synced_feeds_new_name_and_category_wait_for_the_server_the_latest_only() {
    let (mut store, feed) = synced_store();
    let feed_server = RemoteFeed {
        id: 7,
        url: "https://example.org/feed.xml".into(),
        title: "Synced".into(),
        category: Some("news".into()),
    };
    store.apply_remote_feeds(&[feed_server]).unwrap();
    assert_eq!(store.feeds().unwrap()[0].tags, ["news"]);
    store.set_feed_title(feed, Some("First name")).unwrap();
    store.set_feed_title(feed, Some("Second name")).unwrap();
    // A tag added beside the category keeps the category.
    store
        .set_feed_tags(feed, &["news".into(), "later".into()])
        .unwrap();
    let queued: Vec<FeedChange> = store
        .queued_feed_changes()
        .unwrap()
        .into_iter()
        .map(|(_, remote, change)| {
            assert_eq!(remote, 7);
            change
        })
        .collect();
    assert_eq!(queued, [FeedChange::Rename("Second name".into())]);
    // Its tag removed: the first tag left is the category; none: uncategorised.
    store.set_feed_tags(feed, &["later".into()]).unwrap();
    store.set_feed_tags(feed, &[]).unwrap();
    let last = store.queued_feed_changes().unwrap().pop().unwrap().2;
    assert_eq!(last, FeedChange::Category(None));
    assert_eq!(store.queued_feed_changes().unwrap().len(), 2);
    // A feed the server does not have yet queues nothing.
    let (local, _) = store
        .add_feed(&NewSubscription {
            url: "https://example.org/other.xml".into(),
            ..Default::default()
        })
        .unwrap();
    store.set_feed_title(local, Some("Mine")).unwrap();
    assert_eq!(store.queued_feed_changes().unwrap().len(), 2);
}

#[test]
fn a_name_or_category_changed_on_the_server_reaches_the_subscriptions_backup() {
    let (mut store, _) = synced_store();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = heard.clone();
    store.on_subscriptions_changed(Box::new(move |feeds| {
        let tags: Vec<(String, Vec<String>)> = feeds
            .iter()
            .map(|f| (f.display_name().to_string(), f.tags.clone()))
            .collect();
        log.lock().unwrap().push(tags);
    }));
    let feed = |title: &str, category: Option<&str>| RemoteFeed {
        id: 7,
        url: "https://example.org/feed.xml".into(),
        title: title.into(),
        category: category.map(str::to_string),
    };
    // Nothing changed: no new backup.
    store.apply_remote_feeds(&[feed("Synced", None)]).unwrap();
    assert!(heard.lock().unwrap().is_empty());
    store
        .apply_remote_feeds(&[feed("Renamed", Some("news"))])
        .unwrap();
    assert_eq!(
        heard.lock().unwrap().pop().unwrap(),
        [("Renamed".to_string(), vec!["news".to_string()])]
    );
}
