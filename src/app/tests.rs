//! `update` tests: keys (and progress, ticks, mouse) in, state and returned
//! effects out, over a real in-memory cache.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::testing::{NOW_MS, article, keys, screen, text_of, three_feeds};
use super::*;
use crate::config::MarkRead;
use crate::model::{ErrorKind, FetchRecord};
use crate::refresh::FeedDone;

fn selected_title(app: &App) -> String {
    app.articles
        .selected()
        .and_then(|a| a.title.clone())
        .unwrap_or_default()
}

fn unread_of(app: &App, name: &str) -> u64 {
    app.feeds
        .entries
        .iter()
        .find_map(|e| match e {
            FeedEntry::Feed(r) if r.feed.display_name() == name => Some(r.unread),
            _ => None,
        })
        .unwrap()
}

/// The feed list as text: virtual entries by name, `#tag` and `#Saved` headings.
pub(super) fn entry_names(app: &App) -> Vec<String> {
    app.feeds
        .entries
        .iter()
        .map(|e| match e {
            FeedEntry::Unread { .. } => "All unread".into(),
            FeedEntry::Starred { .. } => "Starred".into(),
            FeedEntry::Tag { name, .. } => format!("#{name}"),
            FeedEntry::Saved => "#Saved".into(),
            FeedEntry::Feed(r) => r.feed.display_name().into(),
            FeedEntry::Query { query, .. } => format!("?{}", query.name),
        })
        .collect()
}

#[test]
fn the_first_screen_shows_all_unread_newest_first() {
    let (f, _) = three_feeds();
    let app = f.app(120, 40);
    assert_eq!(app.focus, Focus::Feeds);
    assert!(matches!(
        app.feeds.entries[0],
        FeedEntry::Unread { count: 6 }
    ));
    assert_eq!(app.articles.source, ArticleSource::Unread);
    assert_eq!(app.articles.total, 6);
    assert_eq!(selected_title(&app), "Evening edition");
    // Untagged feeds first, then each tag's heading and feeds.
    let names = entry_names(&app);
    assert_eq!(
        names,
        [
            "All unread",
            "Starred",
            "Rust Blog",
            "Quiet",
            "#news",
            "Daily"
        ]
    );
}

#[test]
fn moving_in_the_feed_list_follows_with_the_article_list_and_a_tag_lists_its_feeds() {
    let (f, [rust, quiet, daily]) = three_feeds();
    let mut app = f.app(120, 40);
    let news = ArticleSource::Tag(crate::model::TagKey::of("news"));
    let cases: &[(&str, ArticleSource, u64)] = &[
        ("j", ArticleSource::Starred, 0),
        ("j", ArticleSource::Feed(rust), 3),
        ("j", ArticleSource::Feed(quiet), 1),
        ("j", news, 2), // the "news" heading: all its feeds' articles
        ("j", ArticleSource::Feed(daily), 2),
        ("j", ArticleSource::Feed(daily), 2), // the end: stays
        ("g", ArticleSource::Unread, 6),
        ("G", ArticleSource::Feed(daily), 2),
        ("k", news, 2),
    ];
    for (typed, source, total) in cases {
        assert!(keys(&mut app, typed).is_empty());
        assert_eq!(
            (app.articles.source, app.articles.total),
            (*source, *total),
            "after {typed}"
        );
    }
    // Enter on the heading folds it (its feeds hidden, its count kept), and unfolds it.
    keys(&mut app, "⏎");
    assert_eq!(entry_names(&app).last().unwrap(), "#news");
    assert!(matches!(
        app.feeds.selected(),
        Some(FeedEntry::Tag {
            folded: true,
            unread: 2,
            ..
        })
    ));
    keys(&mut app, "⏎");
    assert_eq!(entry_names(&app).last().unwrap(), "Daily");
}

fn _quiet(app: &App) -> FeedId {
    app.feeds
        .feed_ids()
        .map(|(_, id, _)| id)
        .find(|id| app.feed_name(*id) == "Quiet")
        .unwrap()
}

#[test]
fn opening_an_article_marks_it_read_and_q_steps_back_then_quits() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jj"); // Rust Blog
    keys(&mut app, "l");
    assert_eq!(app.focus, Focus::Articles);
    keys(&mut app, "j⏎");
    assert_eq!(app.focus, Focus::Article);
    let open = app.open.as_ref().unwrap();
    assert_eq!(
        open.article.title.as_deref(),
        Some("Inside Rust: the compiler")
    );
    assert_eq!(open.feed_title, "Rust Blog");
    assert!(
        open.rendered
            .lines
            .iter()
            .any(|l| l.to_string().contains("The body of"))
    );
    assert_eq!(unread_of(&app, "Rust Blog"), 2);
    assert!(app.articles.selected().unwrap().read);

    assert!(keys(&mut app, "q").is_empty());
    assert_eq!(app.focus, Focus::Articles);
    assert!(app.open.is_none());
    let effects = keys(&mut app, "q");
    assert!(matches!(effects.as_slice(), [Effect::Quit]));
    assert!(app.quit);
}

/// Opening shows the article read at once and writes that after its frame,
/// before the next message: nothing is lost, and nothing waits for the disk.
#[test]
fn an_opened_article_is_written_read_after_its_frame_and_before_the_next_key() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl");
    let id = app.articles.selected().unwrap().id;
    let stored_read = |app: &App| app.store.article(id).unwrap().unwrap().read;
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert!(app.open.as_ref().unwrap().article.read);
    assert_eq!(unread_of(&app, "Rust Blog"), 2);
    assert!(!stored_read(&app), "written only after the frame");
    app.update(Msg::Tick);
    assert!(stored_read(&app), "written before the next message");
    // And by the loop's own step after the frame.
    keys(&mut app, "qj");
    let next = app.articles.selected().unwrap().id;
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    app.after_frame();
    assert!(app.store.article(next).unwrap().unwrap().read);
    assert_eq!(unread_of(&app, "Rust Blog"), 1);
}

/// The article under the cursor is read ahead of Enter, but a key that
/// changes it in between, or a refresh that stores a newer version, is
/// never hidden by that copy.
#[test]
fn what_is_read_ahead_never_hides_a_change_made_after_it() {
    let (f, [rust, _, _]) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl");
    assert_eq!(selected_title(&app), "Announcing Rust 1.95");
    assert!(
        app.ahead
            .as_ref()
            .is_some_and(|a| a.article.title.as_deref() == Some("Announcing Rust 1.95"))
    );
    // Marked read on the list, then opened: counted once.
    keys(&mut app, "m");
    assert_eq!(unread_of(&app, "Rust Blog"), 2);
    keys(&mut app, "⏎");
    assert_eq!(unread_of(&app, "Rust Blog"), 2);
    keys(&mut app, "qj");
    assert_eq!(selected_title(&app), "Inside Rust: the compiler");
    // A refresh stores a new version of the article under the cursor.
    let mut changed = article("r2", "Inside Rust: the compiler, revised", 90);
    changed.content = Some("<p>Revised body</p>".into());
    let mut writer = super::testing::Fixture {
        store: std::mem::replace(
            &mut app.store,
            crate::store::Store::open_in_memory().unwrap(),
        ),
    };
    writer.fetch(rust, "Rust Blog", vec![changed], 0);
    app.store = writer.store;
    app.update(Msg::Progress(Progress::FeedDone(FeedDone {
        feed_id: rust,
        title: "Rust Blog".into(),
        record: FetchRecord {
            updated_articles: 1,
            ..FetchRecord::default()
        },
    })));
    app.after_frame();
    keys(&mut app, "⏎");
    let open = app.open.as_ref().unwrap();
    assert_eq!(
        open.article.title.as_deref(),
        Some("Inside Rust: the compiler, revised")
    );
    assert!(
        open.rendered
            .lines
            .iter()
            .any(|l| l.to_string().contains("Revised body"))
    );
}

#[test]
fn under_the_on_leave_policy_an_article_is_read_when_left() {
    let (f, _) = three_feeds();
    let mut config = Config::default();
    config.ui.mark_read = MarkRead::OnLeave;
    let mut app = f.app_with(&config, 120, 40);
    keys(&mut app, "jjl⏎");
    assert_eq!(unread_of(&app, "Rust Blog"), 3);
    keys(&mut app, "h");
    assert_eq!(unread_of(&app, "Rust Blog"), 2);
}

#[test]
fn refresh_keys_return_worker_commands() {
    let (f, [rust, ..]) = three_feeds();
    let mut app = f.app(120, 40);
    assert!(matches!(
        keys(&mut app, "R").as_slice(),
        [Effect::Worker(Command::Refresh(None))]
    ));
    keys(&mut app, "jj");
    match keys(&mut app, "r").as_slice() {
        [Effect::Worker(Command::Refresh(Some(ids)))] => assert_eq!(ids, &[rust]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn read_star_mark_all_and_undo() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl"); // Rust Blog's list
    keys(&mut app, "m");
    assert_eq!(unread_of(&app, "Rust Blog"), 2);
    keys(&mut app, "m");
    assert_eq!(unread_of(&app, "Rust Blog"), 3);
    keys(&mut app, "s");
    assert!(app.articles.selected().unwrap().starred);
    assert!(matches!(
        app.feeds.entries[1],
        FeedEntry::Starred { count: 1 }
    ));

    keys(&mut app, "M");
    assert_eq!(unread_of(&app, "Rust Blog"), 0);
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("marked 3 articles read")
    );
    keys(&mut app, "u");
    assert_eq!(unread_of(&app, "Rust Blog"), 3);
    keys(&mut app, "u");
    assert_eq!(app.notice.as_ref().unwrap().text, "nothing to undo");
}

#[test]
fn unread_only_hides_read_articles_and_toggles_back() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎h"); // read the newest Rust article
    keys(&mut app, "U");
    assert_eq!(app.articles.total, 2);
    assert!(app.articles.unread_only);
    keys(&mut app, "U");
    assert_eq!(app.articles.total, 3);
}

#[test]
fn n_walks_unread_articles_across_feeds() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎"); // reading the first of Rust Blog
    let mut seen = vec![app.open.as_ref().unwrap().article.title.clone().unwrap()];
    for _ in 0..5 {
        keys(&mut app, "n");
        seen.push(app.open.as_ref().unwrap().article.title.clone().unwrap());
    }
    assert_eq!(
        seen,
        [
            "Announcing Rust 1.95",
            "Inside Rust: the compiler",
            "This week in Rust",
            "A quiet note",
            "Evening edition",
            "Morning edition",
        ]
    );
    keys(&mut app, "n");
    assert_eq!(app.notice.as_ref().unwrap().text, "no unread articles left");
    assert!(matches!(
        app.feeds.entries[0],
        FeedEntry::Unread { count: 0 }
    ));
}

#[test]
fn space_pages_the_article_then_moves_to_the_next_unread() {
    let mut f = super::testing::Fixture::new();
    let long = format!("<p>{}</p>", "word ".repeat(3000));
    f.feed(
        "Long",
        &[],
        vec![
            super::testing::article_with_body("l1", "Long read", 10, &long),
            article("l2", "Short one", 20),
        ],
    );
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎");
    keys(&mut app, " ");
    assert!(app.open.as_ref().unwrap().scroll > 0);
    assert_eq!(
        app.open.as_ref().unwrap().article.title.as_deref(),
        Some("Long read")
    );
    for _ in 0..100 {
        keys(&mut app, " ");
    }
    assert_eq!(
        app.open.as_ref().unwrap().article.title.as_deref(),
        Some("Short one")
    );
}

#[test]
fn new_articles_from_a_refresh_keep_the_cursor_and_the_view_on_its_article() {
    let mut f = super::testing::Fixture::new();
    let articles = (0..40)
        .map(|i| article(&format!("a{i}"), &format!("Article {i}"), 10 + i * 10))
        .collect();
    let feed = f.feed("Busy", &[], articles);
    let mut app = f.app(80, 24);
    keys(&mut app, "jjl");
    for _ in 0..15 {
        keys(&mut app, "j");
    }
    assert_eq!(selected_title(&app), "Article 15");
    let row_on_screen = app.articles.cursor - app.articles.offset;

    // The worker saved two new articles (through the App's own connection here).
    let mut writer = super::testing::Fixture {
        store: std::mem::replace(
            &mut app.store,
            crate::store::Store::open_in_memory().unwrap(),
        ),
    };
    writer.fetch(
        feed,
        "Busy",
        vec![
            article("n1", "Brand new", 1),
            article("n2", "Newer still", 0),
        ],
        0,
    );
    app.store = writer.store;
    let effects = app.update(Msg::Progress(Progress::FeedDone(FeedDone {
        feed_id: feed,
        title: "Busy".into(),
        record: FetchRecord {
            new_articles: 2,
            ..Default::default()
        },
    })));
    assert!(effects.is_empty());
    assert_eq!(app.articles.total, 42);
    assert_eq!(selected_title(&app), "Article 15");
    assert_eq!(app.articles.cursor, 17);
    assert_eq!(app.articles.cursor - app.articles.offset, row_on_screen);
    assert_eq!(unread_of(&app, "Busy"), 42);
}

#[test]
fn progress_is_folded_into_the_status_and_offline_is_noticed() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    app.update(Msg::Progress(Progress::Started {
        total: 3,
        skipped: 0,
        resting: None,
    }));
    assert!(app.refresh.running());
    let failed = FetchRecord {
        error_kind: Some(ErrorKind::Connect),
        ..Default::default()
    };
    for feed_id in app
        .feeds
        .feed_ids()
        .map(|(_, id, _)| id)
        .collect::<Vec<_>>()
    {
        app.update(Msg::Progress(Progress::FeedDone(FeedDone {
            feed_id,
            title: String::new(),
            record: failed.clone(),
        })));
    }
    assert_eq!((app.refresh.done, app.refresh.failed), (3, 3));
    app.update(Msg::Progress(Progress::Finished(RunStats {
        feeds: 3,
        failed: 3,
        ..Default::default()
    })));
    assert!(!app.refresh.running());
    assert!(app.offline);
}

#[test]
fn a_run_that_fetches_nothing_because_feeds_rest_says_when_the_next_is_due() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    let now = app.now_ms / 1000;
    app.update(Msg::Progress(Progress::Started {
        total: 0,
        skipped: 3,
        resting: Some((3, now + 12 * 60)),
    }));
    app.update(Msg::Progress(Progress::Finished(RunStats::default())));
    let text = super::testing::text_of(&super::testing::screen(&app));
    assert!(
        text.contains("nothing fetched: all 3 feeds are resting as their servers asked")
            && text.contains("the next is due in 12 min"),
        "{text}"
    );
    assert!(!app.offline, "resting is not offline");
}

#[test]
fn search_lists_matches_and_opens_them() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "/");
    assert!(matches!(app.overlay, Some(Overlay::Prompt(_))));
    keys(&mut app, "edition⏎");
    assert!(app.overlay.is_none());
    assert_eq!(app.articles.search.as_deref(), Some("edition"));
    assert_eq!(app.articles.total, 2);
    assert_eq!(app.focus, Focus::Articles);
    keys(&mut app, "⏎");
    assert!(
        app.open
            .as_ref()
            .unwrap()
            .article
            .title
            .as_deref()
            .unwrap()
            .contains("edition")
    );
}

#[test]
fn links_open_and_copy_through_effects() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "l");
    match keys(&mut app, "o").as_slice() {
        [Effect::OpenUrl(url)] => assert_eq!(url, "https://example.org/d2"),
        other => panic!("{other:?}"),
    }
    match keys(&mut app, "y").as_slice() {
        [Effect::Copy(url)] => assert_eq!(url, "https://example.org/d2"),
        other => panic!("{other:?}"),
    }
    keys(&mut app, "⏎");
    assert!(keys(&mut app, "1").is_empty());
    assert!(app.notice.as_ref().unwrap().error);
}

#[test]
fn unsubscribing_asks_first() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jjjd");
    assert!(matches!(&app.overlay, Some(Overlay::ConfirmUnsubscribe(q))
        if q.name == "Quiet" && q.starred == 0 && !q.saved));
    keys(&mut app, "x");
    assert_eq!(app.feeds.feed_ids().count(), 3);
    keys(&mut app, "dy");
    assert_eq!(app.feeds.feed_ids().count(), 2);
    assert_eq!(app.notice.as_ref().unwrap().text, "unsubscribed from Quiet");
}

#[test]
fn editing_a_feed_sets_its_title_then_its_tags() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    let quiet = _quiet(&app);
    keys(&mut app, "jjje");
    // The prompt starts with the current title; Ctrl-u clears it.
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    keys(&mut app, "Calm⏎");
    assert!(
        matches!(&app.overlay, Some(Overlay::Prompt(p)) if p.kind == PromptKind::EditTags(quiet))
    );
    keys(&mut app, "later, slow⏎");
    let row = app.feeds.selected_feed().unwrap();
    assert_eq!(row.feed.display_name(), "Calm");
    assert_eq!(row.feed.tags, ["later", "slow"]);
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "?");
    let effects = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(matches!(effects.as_slice(), [Effect::Quit]));
}

#[test]
fn the_periodic_refresh_comes_when_due() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    app.now_ms = NOW_MS + 59 * 60_000;
    assert!(app.update(Msg::Tick).is_empty());
    app.now_ms = NOW_MS + 60 * 60_000;
    assert!(matches!(
        app.update(Msg::Tick).as_slice(),
        [Effect::Worker(Command::RefreshDue)]
    ));
    assert!(app.update(Msg::Tick).is_empty());
}

#[test]
fn a_refresh_by_another_process_shows_up_on_the_next_tick() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut writer = super::testing::Fixture {
        store: crate::store::Store::open(&path).unwrap(),
    };
    let feed = writer.feed("Cron", &[], vec![article("c1", "First", 10)]);
    let mut app = super::testing::Fixture {
        store: crate::store::Store::open(&path).unwrap(),
    }
    .app(120, 40);
    assert_eq!(app.articles.total, 1);
    app.needs_redraw = false;
    writer.fetch(feed, "Cron", vec![article("c2", "Second", 1)], 0);
    app.update(Msg::Tick);
    assert_eq!(app.articles.total, 2);
    assert!(app.needs_redraw);
}

#[test]
fn clicks_select_and_the_wheel_scrolls() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    let panes = app.panes();
    let feeds = panes.feeds.unwrap();
    let click = |column, row| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // The fourth row of the feed list: Quiet.
    app.update(click(feeds.x + 2, feeds.y + 4));
    assert_eq!(
        app.feeds.selected_feed().unwrap().feed.display_name(),
        "Quiet"
    );
    let list = panes.articles.unwrap();
    app.update(click(list.x + 5, list.y + 1));
    assert_eq!(app.focus, Focus::Articles);
    app.update(click(list.x + 5, list.y + 1));
    assert_eq!(app.focus, Focus::Article);
    assert_eq!(
        app.open.as_ref().unwrap().article.title.as_deref(),
        Some("A quiet note")
    );
}

#[test]
fn a_burst_of_finished_feeds_is_read_once_and_a_tick_catches_up() {
    let (f, [rust, quiet, _]) = three_feeds();
    let mut app = f.app(120, 40);
    let mut writer = super::testing::Fixture {
        store: std::mem::replace(
            &mut app.store,
            crate::store::Store::open_in_memory().unwrap(),
        ),
    };
    writer.fetch(rust, "Rust Blog", vec![article("r9", "Fresh", 0)], 0);
    writer.fetch(quiet, "Quiet", vec![article("q9", "Also fresh", 0)], 0);
    app.store = writer.store;
    let done = |feed_id| {
        Msg::Progress(Progress::FeedDone(FeedDone {
            feed_id,
            title: String::new(),
            record: FetchRecord {
                new_articles: 1,
                ..Default::default()
            },
        }))
    };
    app.update(done(rust));
    assert_eq!(app.articles.total, 8, "the first one is read at once");
    app.update(done(quiet));
    app.update(Msg::Progress(Progress::FeedDone(FeedDone {
        feed_id: quiet,
        title: String::new(),
        record: FetchRecord {
            error_kind: Some(ErrorKind::Timeout),
            ..Default::default()
        },
    })));
    // The failure mark shows at once, without a re-read.
    let quiet_row = app.feeds.entries.iter().find_map(|e| match e {
        FeedEntry::Feed(r) if r.feed.id == quiet => Some(r.clone()),
        _ => None,
    });
    assert!(quiet_row.unwrap().last_fetch.unwrap().error_kind.is_some());
    app.needs_redraw = false;
    app.update(Msg::Tick);
    assert!(app.needs_redraw);
    assert_eq!(unread_of(&app, "Quiet"), 2);
}

#[test]
fn a_long_article_is_set_on_another_thread_and_shown_when_ready() {
    let mut f = super::testing::Fixture::new();
    let long = format!(
        "<h2>Long</h2>{}",
        "<p>A paragraph of a long article.</p>".repeat(3000)
    );
    f.feed(
        "Big",
        &[],
        vec![super::testing::article_with_body(
            "b1",
            "Very long",
            10,
            &long,
        )],
    );
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl");
    let effects = keys(&mut app, "⏎");
    let Some(Effect::Render { key, html, styles }) = effects.into_iter().next() else {
        panic!("a long article is rendered off the UI thread");
    };
    let waiting = app.open.as_ref().unwrap().rendered.lines[0].to_string();
    assert!(
        waiting.starts_with("Setting this long article"),
        "{waiting}"
    );
    // What the loop does with the effect:
    let rendered = crate::render::render_article(&html, key.width, &styles);
    app.update(Msg::Rendered { key, rendered });
    let lines = &app.open.as_ref().unwrap().rendered.lines;
    assert!(lines.len() > 3000, "{} lines", lines.len());
    // Opened again: from the cache, at once.
    keys(&mut app, "q");
    assert!(keys(&mut app, "⏎").is_empty());
    assert!(app.open.as_ref().unwrap().rendered.lines.len() > 3000);
}

#[test]
fn subscribing_picks_among_a_pages_feeds_previews_then_saves_the_answer() {
    use crate::fetch::{DiscoveredFeed, Response};
    use crate::subscribe::{FeedPreview, Probe};
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    let effects = keys(&mut app, "aexample.org⏎");
    assert!(matches!(effects.as_slice(), [Effect::Probe(input)] if input == "example.org"));

    let found = ["posts", "comments"].map(|name| DiscoveredFeed {
        url: format!("https://example.org/{name}.xml"),
        title: Some(name.into()),
        mime_type: "application/rss+xml".into(),
    });
    app.update(Msg::Probed(Ok(Probe::Page(found.to_vec()))));
    assert!(matches!(
        &app.overlay,
        Some(Overlay::Pick { cursor: 0, .. })
    ));
    let effects = keys(&mut app, "j⏎");
    assert!(
        matches!(effects.as_slice(), [Effect::Probe(url)] if url == "https://example.org/comments.xml")
    );

    app.update(Msg::Probed(Ok(Probe::Feed(FeedPreview {
        url: "https://example.org/comments.xml".into(),
        title: Some("Comments".into()),
        newest: vec![("Nice post".into(), Some(super::testing::NOW))],
        articles: 1,
        answer: Box::new(Response::default()),
    }))));
    assert!(matches!(&app.overlay, Some(Overlay::Preview(_))));
    let effects = keys(&mut app, "y");
    let [Effect::Worker(Command::Subscribe(subscription))] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    let feed = &subscription.feed;
    assert_eq!(app.feeds.selected_feed().unwrap().feed.id, *feed);
    assert_eq!(
        app.feeds.selected_feed().unwrap().feed.display_name(),
        "Comments"
    );
    assert_eq!(app.feeds.feed_ids().count(), 4);

    // The worker saves the answer and reports the fetch like any other.
    app.update(Msg::Progress(Progress::FeedDone(FeedDone {
        feed_id: *feed,
        title: "Comments".into(),
        record: FetchRecord {
            error_kind: Some(ErrorKind::Http),
            error_message: Some("HTTP 500".into()),
            ..FetchRecord::default()
        },
    })));
    let notice = app.notice.as_ref().unwrap();
    assert!(
        notice.error && notice.text.contains("HTTP 500"),
        "{notice:?}"
    );

    // A page that announces nothing says so; Esc leaves a preview without subscribing.
    app.update(Msg::Probed(Ok(Probe::Page(Vec::new()))));
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("announces no feed")
    );
    app.update(Msg::Probed(
        Err("cannot fetch https://nowhere.test/".into()),
    ));
    assert!(app.notice.as_ref().unwrap().error);

    // What a proxy carried while looking is counted in its statistics.
    let carried = crate::fetch::proxy::ProxyUse {
        proxy: "socks5h://127.0.0.1:9050".into(),
        at_ms: app.now_ms,
        error_kind: None,
        ms: 40,
    };
    app.update(Msg::ProxiesCarried(vec![carried.clone(), carried]));
    let stats = app.store.proxy_stats().unwrap();
    assert_eq!((stats.len(), stats[0].requests), (1, 2));
}

#[test]
fn i_then_a_number_opens_that_image_and_i_again_the_one_on_screen() {
    use super::testing::image_outcome;
    use crate::model::ImageStatus;
    let html = r#"<img src="/one.png" alt="One"><p>Text.</p><img src="/two.png" alt="Two"><img src="/three.png">"#;
    let mut f = super::testing::Fixture::new();
    let (_, images) = f.article_showing("Three", html);
    let one = image_outcome(
        images[0].id,
        ImageStatus::Cached,
        Some("one.png"),
        (10, 10),
        200,
    );
    let two = image_outcome(
        images[1].id,
        ImageStatus::Cached,
        Some("two.png"),
        (10, 10),
        200,
    );
    f.store
        .save_images(&[&one, &two], super::testing::NOW)
        .unwrap();
    let mut app = f.app(120, 40);
    app.image_dir = std::path::PathBuf::from("/cache/images");
    keys(&mut app, "jjl⏎");
    assert!(keys(&mut app, "i").is_empty());
    match keys(&mut app, "2").as_slice() {
        [Effect::OpenFile(path)] => assert_eq!(path, std::path::Path::new("/cache/images/two.png")),
        other => panic!("{other:?}"),
    }
    match keys(&mut app, "ii").as_slice() {
        [Effect::OpenFile(path)] => assert_eq!(path, std::path::Path::new("/cache/images/one.png")),
        other => panic!("{other:?}"),
    }
    // Image 3 is not cached; a 2 without i opens link 2 as always.
    assert!(keys(&mut app, "i3").is_empty());
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("not in the cache")
    );
    assert!(
        !keys(&mut app, "2")
            .iter()
            .any(|e| matches!(e, Effect::OpenFile(_)))
    );
}

#[test]
fn a_link_past_nine_opens_by_its_digits_then_enter_or_a_pause() {
    let html: String = (1..=21)
        .map(|n| format!(r#"<p><a href="https://example.org/link/{n}">link {n}</a></p>"#))
        .collect();
    let mut f = super::testing::Fixture::new();
    f.article_showing("Many links", &html);
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎");
    let opened = |effects: Vec<Effect>| match effects.as_slice() {
        [Effect::OpenUrl(url)] => url.clone(),
        other => panic!("{other:?}"),
    };
    // 1 could start 10–19: it waits, saying so; 2 makes 12, and no link
    // has three digits, so it opens at once.
    assert!(keys(&mut app, "1").is_empty());
    assert!(app.notice.as_ref().unwrap().text.contains("link 1…"));
    assert_eq!(opened(keys(&mut app, "2")), "https://example.org/link/12");
    // Enter opens what is typed; 3 cannot start a number up to 21.
    assert!(keys(&mut app, "2").is_empty());
    assert_eq!(opened(keys(&mut app, "⏎")), "https://example.org/link/2");
    assert_eq!(opened(keys(&mut app, "3")), "https://example.org/link/3");
    // A pause opens it too; Esc drops it; past the last link is an error.
    assert!(keys(&mut app, "1").is_empty());
    assert!(app.update(Msg::Tick).is_empty());
    app.now_ms += 1_000;
    assert_eq!(opened(app.update(Msg::Tick)), "https://example.org/link/1");
    assert!(keys(&mut app, "1⎋").is_empty());
    app.now_ms += 1_000;
    assert!(app.update(Msg::Tick).is_empty());
    assert!(keys(&mut app, "29").is_empty());
    assert!(app.notice.as_ref().unwrap().error);
    // The list at the end says how.
    let rendered = &app.open.as_ref().unwrap().rendered;
    assert!(rendered.lines.iter().any(|line| {
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        text.starts_with("Links:") && text.contains("1 2 then Enter for [12]")
    }));
}

#[test]
fn i_then_two_digits_opens_image_twelve() {
    use super::testing::image_outcome;
    use crate::model::ImageStatus;
    let html: String = (1..=12)
        .map(|n| format!(r#"<p>Picture {n}</p><img src="/{n}.png" alt="{n}">"#))
        .collect();
    let mut f = super::testing::Fixture::new();
    let (_, images) = f.article_showing("Twelve pictures", &html);
    let twelfth = image_outcome(
        images[11].id,
        ImageStatus::Cached,
        Some("twelve.png"),
        (10, 10),
        200,
    );
    f.store
        .save_images(&[&twelfth], super::testing::NOW)
        .unwrap();
    let mut app = f.app(120, 40);
    app.image_dir = std::path::PathBuf::from("/cache/images");
    keys(&mut app, "jjl⏎");
    assert!(keys(&mut app, "i1").is_empty());
    match keys(&mut app, "2").as_slice() {
        [Effect::OpenFile(path)] => {
            assert_eq!(path, std::path::Path::new("/cache/images/twelve.png"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn enclosures_are_listed_under_the_header_and_p_plays_one() {
    use crate::model::Enclosure;
    let mut episode = super::testing::article("ep", "Episode 12", 30);
    episode.episode = Some(12);
    episode.season = Some(2);
    episode.enclosures = vec![
        Enclosure {
            url: "https://cdn.example.org/shows/episode-12.mp3".into(),
            mime_type: Some("audio/mpeg".into()),
            length: Some(48_213_000),
            duration_secs: Some(3723),
        },
        Enclosure {
            url: "https://cdn.example.org/shows/episode-12-video.mp4".into(),
            mime_type: None,
            length: None,
            duration_secs: None,
        },
    ];
    let episode = crate::parse::finish_article(episode);
    let mut f = super::testing::Fixture::new();
    f.feed("Cast", &[], vec![episode]);
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎");
    let text = super::testing::text_of(&super::testing::screen(&app));
    assert!(
        text.contains("[1] ♪ audio · episode-12.mp3 · 48.2 MB · 1:02:03  p or D, then its number"),
        "{text}"
    );
    assert!(
        text.contains("[2] ▶ video · episode-12-video.mp4"),
        "{text}"
    );
    // The body starts below them.
    let lines: Vec<&str> = text.lines().collect();
    let rule = lines
        .iter()
        .position(|l| l.contains("[2] ▶ video"))
        .unwrap()
        + 1;
    assert!(lines[rule].contains("────"), "{text}");
    assert!(keys(&mut app, "p").is_empty());
    match keys(&mut app, "2").as_slice() {
        [Effect::Play(url)] => {
            assert_eq!(url, "https://cdn.example.org/shows/episode-12-video.mp4")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn p_plays_the_only_enclosure_at_once_and_says_when_there_is_none() {
    use crate::model::Enclosure;
    let mut episode = super::testing::article("ep", "Episode 1", 30);
    episode.enclosures = vec![Enclosure {
        url: "https://cdn.example.org/one.mp3".into(),
        mime_type: Some("audio/mpeg".into()),
        length: None,
        duration_secs: None,
    }];
    let plain = super::testing::article("plain", "No audio", 60);
    let mut f = super::testing::Fixture::new();
    f.feed(
        "Cast",
        &[],
        vec![crate::parse::finish_article(episode), plain],
    );
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎");
    match keys(&mut app, "p").as_slice() {
        [Effect::Play(url)] => assert_eq!(url, "https://cdn.example.org/one.mp3"),
        other => panic!("{other:?}"),
    }
    keys(&mut app, "qj⏎");
    assert!(keys(&mut app, "p").is_empty());
    assert!(app.notice.as_ref().unwrap().text.contains("no enclosure"));
}

#[test]
fn d_downloads_an_enclosure_and_then_p_and_the_downloads_list_play_the_file() {
    use crate::model::{DownloadStatus, Enclosure};
    let url = "https://cdn.example.org/shows/episode-7.mp3";
    let mut episode = super::testing::article("ep", "Episode 7", 30);
    episode.enclosures = vec![Enclosure {
        url: url.into(),
        mime_type: Some("audio/mpeg".into()),
        length: Some(3_000_000),
        duration_secs: None,
    }];
    let mut f = super::testing::Fixture::new();
    f.feed("Cast", &[], vec![crate::parse::finish_article(episode)]);
    let mut app = f.app(120, 40);
    let dir = tempfile::tempdir().unwrap();
    app.downloads_dir = dir.path().to_path_buf();
    keys(&mut app, "jjl⏎");
    let job = match keys(&mut app, "D").as_slice() {
        [Effect::Download(job)] => job.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!((job.url.as_str(), job.feed_title.as_str()), (url, "Cast"));
    // A second D while it runs starts nothing.
    assert!(keys(&mut app, "D").is_empty());
    app.update(Msg::DownloadProgress {
        url: url.into(),
        done: 1_500_000,
        total: Some(3_000_000),
    });
    let text = super::testing::text_of(&super::testing::screen(&app));
    assert!(text.contains("downloading 50%"), "{text}");
    // It ends: recorded, marked, and p plays the file instead of the address.
    std::fs::write(dir.path().join("episode-7.mp3"), b"audio").unwrap();
    app.update(Msg::DownloadEnded(crate::model::DownloadRecord {
        url: url.into(),
        article_id: Some(job.article),
        title: job.title.clone(),
        feed_title: Some(job.feed_title.clone()),
        file: Some("episode-7.mp3".into()),
        status: DownloadStatus::Complete,
        bytes: 5,
        total: Some(5),
        error: None,
        updated_at: super::testing::NOW,
    }));
    assert!(app.downloading.is_empty());
    assert_eq!(
        app.store.download_of(url).unwrap().unwrap().status,
        DownloadStatus::Complete
    );
    let text = super::testing::text_of(&super::testing::screen(&app));
    assert!(text.contains("· downloaded"), "{text}");
    let file = dir.path().join("episode-7.mp3");
    match keys(&mut app, "p").as_slice() {
        [Effect::PlayFile(path)] => assert_eq!(path, &file),
        other => panic!("{other:?}"),
    }
    // The list of downloads plays it too, and closes with P.
    assert!(keys(&mut app, "P").is_empty());
    let text = super::testing::text_of(&super::testing::screen(&app));
    assert!(
        text.contains("Downloads") && text.contains("Episode 7 · Cast · episode-7.mp3"),
        "{text}"
    );
    match keys(&mut app, "⏎").as_slice() {
        [Effect::PlayFile(path)] => assert_eq!(path, &file),
        other => panic!("{other:?}"),
    }
    keys(&mut app, "P");
    assert!(app.overlay.is_none());
    // d twice in the list deletes the file and forgets the download; p
    // streams the address again.
    keys(&mut app, "Pd");
    assert!(file.exists(), "one d only asks");
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("d again deletes episode-7.mp3")
    );
    keys(&mut app, "d");
    assert!(!file.exists());
    assert!(app.store.download_of(url).unwrap().is_none());
    keys(&mut app, "⎋");
    match keys(&mut app, "p").as_slice() {
        [Effect::Play(played)] => assert_eq!(played, url),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_cover_image_the_body_does_not_show_comes_first_and_once() {
    let mut covered = super::testing::article("c1", "With a cover", 30);
    covered.image = Some("https://cdn.example.org/covers/show.jpg?size=large".into());
    let mut shown = super::testing::article_with_body(
        "c2",
        "Cover in the body",
        60,
        r#"<p>Text</p><img src="/covers/inline.png" alt="Inline">"#,
    );
    shown.image = Some("https://example.org/covers/inline.png".into());
    let mut f = super::testing::Fixture::new();
    f.feed("Pictures", &[], vec![covered, shown]);
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎");
    let open = app.open.as_ref().unwrap();
    assert_eq!(open.rendered.images.len(), 1);
    assert_eq!(
        open.rendered.images[0].src,
        "https://cdn.example.org/covers/show.jpg?size=large"
    );
    let text = super::testing::text_of(&super::testing::screen(&app));
    let cover = text.find("[image 1: cover").expect(&text);
    assert!(cover < text.find("The body of").unwrap(), "{text}");
    // The body shows its cover itself: it is not drawn twice.
    keys(&mut app, "qj⏎");
    let open = app.open.as_ref().unwrap();
    assert_eq!(open.article.title.as_deref(), Some("Cover in the body"));
    assert_eq!(open.rendered.images.len(), 1);
    assert!(open.rendered.images[0].src.ends_with("/covers/inline.png"));
}

#[test]
fn the_help_names_the_configuration_file_this_reader_reads() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    app.config_file = std::path::PathBuf::from("/home/ada/.config/tidings/config.toml");
    keys(&mut app, "?");
    // The end of the help, where the file is named.
    for _ in 0..60 {
        keys(&mut app, "j");
    }
    let text = super::testing::text_of(&super::testing::screen(&app));
    assert!(
        text.contains("/home/ada/.config/tidings/config.toml"),
        "{text}"
    );
}

/// `F` on an article asks the worker for its page; once read, the article
/// shows the page's text with a line saying so, and `F` switches between
/// the two texts. On a feed, `F` turns full text on and off for it.
#[test]
fn f_reads_an_articles_page_and_switches_between_its_two_texts() {
    let (f, [rust, _, _]) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎");
    let id = app.open.as_ref().unwrap().article.id;
    let effects = keys(&mut app, "F");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Worker(Command::FetchPage(a)) if *a == id)),
        "{effects:?}"
    );
    // What the worker does with it.
    let outcome = crate::fulltext::PageOutcome {
        content: Ok("<p>The whole story, from the page.</p>".into()),
        final_url: "https://rust.example/1".into(),
        http_status: Some(200),
        bytes: 100,
        ms: 3,
    };
    app.store.save_page(id, &outcome, &[], 0).unwrap();
    app.update(Msg::Progress(Progress::PageDone {
        article: id,
        error: None,
    }));
    let text = |app: &App| text_of(&screen(app));
    assert!(text(&app).contains("The whole story, from the page."));
    assert!(text(&app).contains("Full text, read from the article's page"));
    keys(&mut app, "F");
    assert!(!text(&app).contains("The whole story"));
    assert!(text(&app).contains("The feed's text"));
    keys(&mut app, "F");
    assert!(text(&app).contains("The whole story"));

    // On the feed list: the feed's setting.
    keys(&mut app, "qhh");
    assert_eq!(app.focus, Focus::Feeds);
    let selected = app.feeds.selected_feed().unwrap().feed.id;
    assert_eq!(selected, rust);
    keys(&mut app, "F");
    assert_eq!(app.store.feed_full_text(rust).unwrap(), Some(true));
    keys(&mut app, "F");
    assert_eq!(app.store.feed_full_text(rust).unwrap(), Some(false));
}

/// "last refresh 5 min ago" moves on by itself: a tick redraws when a
/// relative time's text changes, and only then.
#[test]
fn relative_times_tick_without_a_key() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jj"); // a feed, with its last fetch in the status line
    app.update(Msg::Tick);
    app.needs_redraw = false;
    app.update(Msg::Tick);
    assert!(!app.needs_redraw, "nothing changed");
    let before = text_of(&screen(&app));
    app.now_ms += 10 * 60 * 1000;
    app.update(Msg::Tick);
    assert!(app.needs_redraw);
    let after = text_of(&screen(&app));
    assert_ne!(before, after);
    assert!(after.contains("min ago"), "{after}");
}
