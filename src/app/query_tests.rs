//! Query feeds in the reader over an in-memory cache: `Q` makes one from
//! `name: query` and lists its matches with their unread count, a wrong
//! query keeps the line open and says where, `e` edits it, `M` marks only
//! its matches read, `d` deletes it and leaves the articles be.

use super::testing::{keys, screen, text_of, three_feeds};
use super::tests::entry_names;
use super::*;

fn titles(app: &App) -> Vec<String> {
    let mut titles: Vec<String> = (0..app.articles.total)
        .filter_map(|i| app.articles.row(i))
        .map(|a| a.title.clone().unwrap_or_default())
        .collect();
    titles.sort();
    titles
}

#[test]
fn a_query_feed_is_made_edited_read_and_deleted_from_the_keyboard() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "QRust news: title =~ 'rust [0-9]|compiler'⏎");
    assert!(app.overlay.is_none(), "{:?}", app.notice);
    assert_eq!(entry_names(&app)[2], "?Rust news");
    assert_eq!(
        titles(&app),
        ["Announcing Rust 1.95", "Inside Rust: the compiler"]
    );
    let screen_text = text_of(&screen(&app));
    assert!(screen_text.contains("⌕ Rust news"), "{screen_text}");
    assert!(
        screen_text.contains("Rust news · 2 articles"),
        "{screen_text}"
    );
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("2 articles match, 2 unread")
    );

    // Edited: the line comes back filled in.
    keys(&mut app, "e");
    let Some(Overlay::Prompt(prompt)) = &app.overlay else {
        panic!("no prompt")
    };
    assert_eq!(prompt.input, "Rust news: title =~ 'rust [0-9]|compiler'");
    app.update(Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('u'),
        crossterm::event::KeyModifiers::CONTROL,
    )));
    keys(&mut app, "Rust news: title contains rust⏎");
    assert_eq!(titles(&app).len(), 3);

    // M marks only its matches read; the other feeds keep theirs.
    keys(&mut app, "M");
    app.update(Msg::Tick);
    let FeedEntry::Query { unread, .. } = &app.feeds.entries[2] else {
        panic!()
    };
    assert_eq!(*unread, 0);
    assert!(matches!(
        app.feeds.entries[0],
        FeedEntry::Unread { count: 3 }
    ));

    // d deletes the query feed; its articles stay in their feed.
    keys(&mut app, "d");
    assert!(!entry_names(&app).iter().any(|n| n.starts_with('?')));
    assert_eq!(app.store.article_total().unwrap(), 6);
}

#[test]
fn a_wrong_query_keeps_the_line_open_and_says_where() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "QBroken: title =~⏎");
    let notice = app.notice.as_ref().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, "column 17: expected a value after =~");
    assert!(matches!(app.overlay, Some(Overlay::Prompt(_))));
    keys(&mut app, "⎋");
    keys(&mut app, "Qno colon here⏎");
    assert!(app.notice.as_ref().unwrap().text.contains("name: query"));
    keys(&mut app, "⎋");
    // A query that catches every article says so.
    keys(&mut app, "QAll: age > 0⏎");
    assert!(app.notice.as_ref().unwrap().text.contains("every article"));
}
