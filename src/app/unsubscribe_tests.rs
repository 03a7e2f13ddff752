//! The unsubscribe question (`d`) over a real in-memory cache: a feed with
//! starred articles is asked about them, keeps them under "Saved" by default
//! (Enter or `y`), deletes them with `a`; a saved feed's `d` asks whether to
//! delete what was kept. What the question shows is read from a drawn screen.

use super::testing::{Fixture, keys, three_feeds};
use super::tests::entry_names;
use super::*;

/// Three feeds, with Rust Blog's newest article starred; the app at Rust Blog.
fn starred_rust_blog() -> App {
    let (mut f, [rust, _, _]) = three_feeds();
    star_newest(&mut f, rust);
    let mut app = f.app(120, 40);
    keys(&mut app, "jj");
    assert_eq!(app.feeds.selected_feed().unwrap().feed.id, rust);
    app
}

fn star_newest(f: &mut Fixture, feed: FeedId) {
    let source = ArticleSource::Feed(feed);
    let page = f
        .store
        .article_page(source, false, true, (0, 1), 1)
        .unwrap();
    f.store.set_starred(page[0].id, true).unwrap();
}

fn screen_text(app: &App) -> String {
    super::testing::text_of(&super::testing::screen(app))
}

fn starred_count(app: &App) -> u64 {
    app.feeds
        .entries
        .iter()
        .find_map(|e| match e {
            FeedEntry::Starred { count } => Some(*count),
            _ => None,
        })
        .unwrap()
}

#[test]
fn the_question_offers_to_keep_starred_articles_and_enter_keeps_them_under_saved() {
    let mut app = starred_rust_blog();
    keys(&mut app, "d");
    match &app.overlay {
        Some(Overlay::ConfirmUnsubscribe(q)) => {
            assert_eq!(
                (q.name.as_str(), q.starred, q.saved),
                ("Rust Blog", 1, false)
            );
        }
        _ => panic!("no question"),
    }
    let screen = screen_text(&app);
    assert!(
        screen.contains("Its 1 starred article:") && screen.contains("Enter: keep under Saved"),
        "{screen}"
    );

    keys(&mut app, "⏎");
    assert!(app.overlay.is_none());
    assert_eq!(
        entry_names(&app),
        [
            "All unread",
            "Starred",
            "Quiet",
            "#news",
            "Daily",
            "#Saved",
            "Rust Blog"
        ]
    );
    assert_eq!(
        app.notice.as_ref().unwrap().text,
        "unsubscribed from Rust Blog; its 1 starred article is under Saved"
    );
    // The kept article: still starred, readable, found by search.
    assert_eq!(starred_count(&app), 1);
    let saved = app.feeds.selected_feed().unwrap();
    assert!(saved.feed.saved && saved.feed.display_name() == "Rust Blog");
    assert_eq!(saved.total, 1);
    assert_eq!(app.articles.total, 1);
    let kept = app.articles.selected().unwrap().clone();
    assert!(kept.starred);
    let body = app.store.article(kept.id).unwrap().unwrap();
    assert!(body.content.unwrap().contains("Announcing Rust 1.95"));
    let hits = app.store.search("announcing", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert!(app.store.search("compiler", 10).unwrap().is_empty());
    let screen = screen_text(&app);
    assert!(screen.contains("▾ Saved"));
    assert!(
        screen.contains("Rust Blog: kept from an unsubscribed feed, never fetched"),
        "the status line says what a saved feed is: {screen}"
    );
    // Nothing fetches it, and `r` says why.
    assert!(keys(&mut app, "r").is_empty());
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("a saved feed is not fetched")
    );
}

#[test]
fn a_deletes_the_starred_articles_too_and_other_keys_keep_the_subscription() {
    let mut app = starred_rust_blog();
    keys(&mut app, "dn");
    assert_eq!(app.notice.as_ref().unwrap().text, "kept the subscription");
    assert!(entry_names(&app).contains(&"Rust Blog".to_string()));

    keys(&mut app, "da");
    let names = entry_names(&app);
    assert!(!names.contains(&"Rust Blog".to_string()) && !names.contains(&"#Saved".to_string()));
    assert_eq!(starred_count(&app), 0);
    assert_eq!(
        app.notice.as_ref().unwrap().text,
        "unsubscribed from Rust Blog and deleted its 1 starred article"
    );
    assert!(app.store.search("announcing", 10).unwrap().is_empty());
}

#[test]
fn d_on_a_saved_feed_asks_before_deleting_what_was_kept() {
    let mut app = starred_rust_blog();
    keys(&mut app, "d⏎");
    // The cursor followed the feed to its place under Saved.
    assert!(app.feeds.selected_feed().unwrap().feed.saved);
    keys(&mut app, "d");
    assert!(matches!(&app.overlay, Some(Overlay::ConfirmUnsubscribe(q)) if q.saved));
    assert!(screen_text(&app).contains("Delete the 1 saved article of Rust Blog?"));
    keys(&mut app, "x");
    assert_eq!(
        app.notice.as_ref().unwrap().text,
        "kept the saved article of Rust Blog"
    );
    assert!(entry_names(&app).contains(&"#Saved".to_string()));

    keys(&mut app, "dy");
    assert!(!entry_names(&app).contains(&"#Saved".to_string()));
    assert_eq!(starred_count(&app), 0);
    assert_eq!(
        app.notice.as_ref().unwrap().text,
        "deleted the saved article of Rust Blog"
    );
}
