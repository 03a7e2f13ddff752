//! The reader with sync on, over an in-memory cache holding a synced feed: an
//! empty reader syncs at start (the server has its feeds), the timer asks
//! the worker every minute, a subscription is pushed at once, a read waits
//! to be pushed and the status line says so, and a failed sync says why
//! without getting in the way of reading.

use super::testing::{Fixture, NOW, NOW_MS, article, keys, screen, text_of};
use super::*;
use crate::config::RetentionConfig;
use crate::store::{RemoteArticle, RemoteFeed, SyncRecord};

fn sync_config() -> Config {
    Config {
        sync: Some(
            toml::from_str("backend = \"ttrss\"\nurl = \"http://sync.example/\"\nuser = \"me\"")
                .unwrap(),
        ),
        ..Config::default()
    }
}

/// A reader whose cache holds one feed pulled from the server, two unread articles.
fn synced_reader() -> App {
    let mut f = Fixture::new();
    f.store
        .use_sync_account("ttrss http://sync.example/ me")
        .unwrap();
    let feed = RemoteFeed {
        id: 7,
        url: "https://example.org/feed.xml".into(),
        title: "Synced Feed".into(),
        category: Some("news".into()),
    };
    f.store.apply_remote_feeds(&[feed]).unwrap();
    let pulled = [
        ("s1", "First synced", 30, 100),
        ("s2", "Second synced", 60, 101),
    ]
    .into_iter()
    .map(|(key, title, minutes, id)| RemoteArticle {
        id,
        feed: 7,
        article: article(key, title, minutes),
        unread: true,
        starred: false,
    })
    .collect();
    f.store
        .save_pulled_articles(pulled, NOW, &RetentionConfig::default())
        .unwrap();
    let mut app = f.app_with(&sync_config(), 120, 40);
    app.update(Msg::Progress(Progress::Synced(Box::new(SyncRecord {
        started_at: NOW - 30,
        backend: "ttrss".into(),
        server: "http://sync.example/".into(),
        requests: 3,
        ..SyncRecord::default()
    }))));
    app
}

fn status_lines(app: &App) -> String {
    let text = text_of(&screen(app));
    text.lines().rev().take(2).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_empty_reader_with_sync_on_syncs_at_start_and_asks_every_minute() {
    let mut app = Fixture::new().app_with(&sync_config(), 120, 40);
    assert!(matches!(
        app.on_start(true).as_slice(),
        [Effect::Worker(Command::Refresh(None))]
    ));
    app.now_ms = NOW_MS + 59_000;
    assert!(app.update(Msg::Tick).is_empty());
    app.now_ms = NOW_MS + 60_000;
    assert!(matches!(
        app.update(Msg::Tick).as_slice(),
        [Effect::Worker(Command::SyncDue)]
    ));
    assert!(app.update(Msg::Tick).is_empty());
    // Without sync, an empty reader has nothing to refresh.
    let mut alone = Fixture::new().app(120, 40);
    assert!(alone.on_start(true).is_empty());
}

#[test]
fn a_read_waits_to_be_pushed_and_the_status_line_says_so() {
    let mut app = synced_reader();
    assert!(
        status_lines(&app).contains("synced 30 s ago"),
        "{}",
        status_lines(&app)
    );
    // The category is a tag; the article opens from the cache.
    assert!(text_of(&screen(&app)).contains("news"));
    keys(&mut app, "l⏎");
    app.update(Msg::Tick);
    assert_eq!(app.sync.waiting, 1);
    let status = status_lines(&app);
    assert!(status.contains("1 to push"), "{status}");
}

#[test]
fn a_failed_sync_says_why_and_reading_goes_on() {
    let mut app = synced_reader();
    app.update(Msg::Progress(Progress::Syncing));
    assert!(status_lines(&app).contains("syncing with http://sync.example/"));
    app.update(Msg::Progress(Progress::Synced(Box::new(SyncRecord {
        started_at: NOW,
        backend: "ttrss".into(),
        server: "http://sync.example/".into(),
        error_kind: Some("unreachable".into()),
        error: Some("cannot reach the sync server: connection refused".into()),
        changes_left: 2,
        ..SyncRecord::default()
    }))));
    let status = status_lines(&app);
    assert!(
        status.contains("sync failed: cannot reach the sync server"),
        "{status}"
    );
    assert!(status.contains("2 changes wait to be pushed"), "{status}");
    keys(&mut app, "l⏎");
    assert!(text_of(&screen(&app)).contains("The body of"));
}
