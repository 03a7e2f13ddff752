//! Screen snapshots: the real App over an in-memory cache, drawn into
//! ratatui's `TestBackend` at fixed sizes and a fixed clock, compared with
//! insta. The real-world article of `../shared/fixtures/seed/` is checked by
//! what the screen shows (its text is not copied into a snapshot here).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use crate::app::testing::{
    Fixture, NOW_MS, article, article_with_body, image_outcome, keys, screen, text_of, three_feeds,
};
use crate::app::{App, Msg};
use crate::config::Background;
use crate::model::{ErrorKind, FetchRecord};
use crate::refresh::{FeedDone, Progress};

/// The text of the screen row that shows `needle`, and the foreground colour
/// where `needle` starts.
fn shown(terminal: &Terminal<TestBackend>, needle: &str) -> (String, Option<Color>) {
    let buffer = terminal.backend().buffer();
    for y in 0..buffer.area.height {
        let mut row = String::new();
        let mut starts = Vec::new();
        for x in 0..buffer.area.width {
            starts.push((row.len(), x));
            row.push_str(buffer[(x, y)].symbol());
        }
        if let Some(at) = row.find(needle) {
            let x = starts.iter().rev().find(|(i, _)| *i <= at).unwrap().1;
            return (row, Some(buffer[(x, y)].fg));
        }
    }
    panic!("{needle:?} is not on the screen:\n{}", text_of(terminal))
}

const RECOVERED: &str = "recovered: an unclosed CDATA section; read 8 entries before byte 12345";

/// Three feeds: "Daily" last read with a warning, "Quiet" failed.
fn a_warning_and_a_failure() -> Fixture {
    let (mut f, [_, quiet, daily]) = three_feeds();
    f.fetch_with_warning(daily, "Daily", vec![article("d3", "Late", 1)], 1, RECOVERED);
    f.fail(quiet, ErrorKind::Timeout, None, "no answer within 20 s");
    f
}

/// A first start: only the built-in welcome feed, as the worker saves it.
fn first_run() -> Fixture {
    let mut f = Fixture::new();
    let feed = crate::subscriptions::add_welcome_feed(&mut f.store)
        .unwrap()
        .unwrap();
    let mut parsed =
        crate::parse::parse_feed(crate::WELCOME_FEED, None, crate::WELCOME_URL).unwrap();
    crate::images::find_in_feed(&mut parsed, crate::WELCOME_URL);
    f.fetch(feed, "Welcome to tidings", parsed.articles, 0);
    f
}

#[test]
fn first_run_shows_the_welcome_feed() {
    let app = first_run().app(120, 40);
    insta::assert_snapshot!(screen(&app).backend());
}

#[test]
fn first_run_reads_the_welcome_tour() {
    let mut app = first_run().app(120, 40);
    keys(&mut app, "jjl⏎");
    insta::assert_snapshot!(screen(&app).backend());
}

#[test]
fn feed_and_article_lists() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl");
    insta::assert_snapshot!(screen(&app).backend());
}

const RICH_ARTICLE: &str = r#"
<h2>Why a cache</h2>
<p>A reader that <em>never waits</em> keeps <strong>everything</strong> it fetched in
<a href="https://sqlite.org/">SQLite</a>, and searches it with
<a href="https://sqlite.org/fts5.html">FTS5</a>.</p>
<blockquote><p>Offline is a feature, not an error.</p></blockquote>
<h3>Setup</h3>
<ol><li>Install it.</li><li>Import your <code>urls</code> file.</li></ol>
<pre><code>tidings import ~/.newsboat/urls --and-a-very-long-option-that-keeps-going-past-the-edge-of-the-pane
tidings refresh</code></pre>
<table>
  <tr><th>Reader</th><th>First screen</th></tr>
  <tr><td>tidings</td><td>fast</td></tr>
  <tr><td>others</td><td>slower</td></tr>
</table>
<p>More at <a href="https://sqlite.org/">the SQLite site</a>.</p>
"#;

#[test]
fn an_article_with_headings_code_table_and_links() {
    let mut f = Fixture::new();
    f.feed(
        "Notes",
        &[],
        vec![article_with_body(
            "n1",
            "Caching for readers",
            45,
            RICH_ARTICLE,
        )],
    );
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎");
    insta::assert_snapshot!(screen(&app).backend());
}

#[test]
fn the_seed_blog_article_reads_with_headings_code_and_numbered_links() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/seed/articles.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIPPED the_seed_blog_article_reads_with_headings_code_and_numbered_links: {} not found",
            path.display()
        );
        return;
    };
    let seed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let posts = seed["articles"].as_array().unwrap();
    // The FHIR post has headings, code blocks and many links.
    let post = posts
        .iter()
        .find(|p| p["description"].as_str().unwrap().contains("<pre"))
        .unwrap();
    let title = post["title"].as_str().unwrap();
    let html = post["description"].as_str().unwrap();
    let mut f = Fixture::new();
    f.feed(
        "AWS Open Source Blog",
        &[],
        vec![article_with_body("seed", title, 60, html)],
    );
    let mut app = f.app(200, 50);
    keys(&mut app, "jjl⏎");
    let open = app.open.as_ref().unwrap();
    let first_words: String = title.chars().take(30).collect();
    let shown = text_of(&screen(&app));
    assert!(
        shown.contains(&first_words),
        "the title is on screen:\n{shown}"
    );
    let body: Vec<String> = open.rendered.lines.iter().map(|l| l.to_string()).collect();
    assert!(body.iter().any(|l| l.contains("[1]")), "links are numbered");
    let link_count = open.rendered.links.len();
    assert!(link_count >= 10, "{link_count} links listed");
    let heading_style = app.theme.article.heading;
    assert!(
        open.rendered.lines.iter().any(|l| l
            .spans
            .iter()
            .any(|s| s.style == heading_style || l.style == heading_style)),
        "a heading carries the heading style"
    );
    // Scroll through the whole article: every screen draws.
    for _ in 0..200 {
        keys(&mut app, " ");
        screen(&app);
    }
}

#[test]
fn refresh_in_progress_shows_running_totals() {
    let (f, [rust, quiet, _]) = three_feeds();
    let mut app = f.app(120, 40);
    app.update(Msg::Progress(Progress::Started {
        total: 120,
        skipped: 0,
        resting: None,
    }));
    for (feed_id, record) in [
        (
            rust,
            FetchRecord {
                new_articles: 41,
                bytes_wire: 1_800_000,
                ..Default::default()
            },
        ),
        (
            quiet,
            FetchRecord {
                error_kind: Some(ErrorKind::Timeout),
                ..Default::default()
            },
        ),
    ] {
        app.update(Msg::Progress(Progress::FeedDone(FeedDone {
            feed_id,
            title: String::new(),
            record,
        })));
    }
    app.now_ms = NOW_MS + 3_200;
    insta::assert_snapshot!(screen(&app).backend());
}

#[test]
fn once_the_feeds_are_in_the_status_line_counts_images_and_hosts_found_down() {
    let (f, [rust, ..]) = three_feeds();
    let mut app = f.app(120, 40);
    app.update(Msg::Progress(Progress::Started {
        total: 1,
        skipped: 0,
        resting: None,
    }));
    app.update(Msg::Progress(Progress::FeedDone(FeedDone {
        feed_id: rust,
        title: String::new(),
        record: FetchRecord::default(),
    })));
    for progress in [
        Progress::Images {
            done: 0,
            total: 500,
            deferred: 0,
        },
        Progress::HostDown {
            host: "images.example:443".into(),
        },
        Progress::Images {
            done: 123,
            total: 500,
            deferred: 120,
        },
    ] {
        app.update(Msg::Progress(progress));
    }
    let text = text_of(&screen(&app));
    let status = text
        .lines()
        .find(|l| l.contains("refreshing"))
        .expect("the refresh is still running while images download");
    assert!(status.contains("refreshing 1/1"), "{status}");
    assert!(status.contains("images 123/500"), "{status}");
    assert!(status.contains("1 host unreachable"), "{status}");
}

#[test]
fn a_failed_feed_is_marked_and_says_why() {
    let (mut f, [_, quiet, _]) = three_feeds();
    f.fail(
        quiet,
        ErrorKind::Http,
        Some(503),
        "HTTP 503 Service Unavailable",
    );
    let mut app = f.app(120, 40);
    keys(&mut app, "jjj");
    insta::assert_snapshot!(screen(&app).backend());
}

#[test]
fn the_statistics_view() {
    let (mut f, [rust, quiet, _]) = three_feeds();
    f.fetch(rust, "Rust Blog", vec![article("r4", "Later", 1)], 1);
    f.fail(quiet, ErrorKind::Timeout, None, "no answer within 20 s");
    let mut app = f.app(160, 40);
    keys(&mut app, "jjS");
    insta::assert_snapshot!(screen(&app).backend());
}

#[test]
fn the_statistics_view_marks_and_counts_warnings_apart_from_errors() {
    let mut app = a_warning_and_a_failure().app(160, 40);
    let (warning, error) = (app.theme.warning.fg, app.theme.error.fg);
    assert_ne!(warning, error);
    keys(&mut app, "jjS");
    let screen = screen(&app);
    let (title, _) = shown(&screen, " Statistics · 3 feeds");
    assert!(
        title.contains("3 feeds · 1 read with a warning · sorted by"),
        "{title}"
    );
    let (row, colour) = shown(&screen, "Daily ");
    assert!(row.contains(&format!("⚠ {}", &RECOVERED[..40])), "{row}");
    assert_eq!(colour, warning, "{row}");
    let (row, colour) = shown(&screen, "Quiet ");
    assert!(row.contains("timeout: no answer within 20 s"), "{row}");
    assert!(!row.contains('⚠'), "{row}");
    assert_eq!(colour, error, "{row}");

    // Daily's own fetches: the one read with a warning says which.
    keys(&mut app, "kk");
    let screen = self::screen(&app);
    shown(&screen, "Recent fetches of Daily");
    let (row, colour) = shown(&screen, "11:59   200 ");
    assert!(row.contains(&format!("⚠ {}", &RECOVERED[..40])), "{row}");
    assert_eq!(colour, warning, "{row}");
    let (row, colour) = shown(&screen, "11:55   200 ");
    assert!(!row.contains('⚠'), "the fetch before read cleanly: {row}");
    assert_ne!(colour, warning, "{row}");
}

#[test]
fn the_expanded_status_panel_lists_warnings_after_failures() {
    let mut app = a_warning_and_a_failure().app(120, 40);
    let (warning, error) = (app.theme.warning.fg, app.theme.error.fg);
    keys(&mut app, "!");
    let screen = screen(&app);
    let (title, _) = shown(&screen, "─ 1 feeds failed their last fetch");
    assert!(title.contains("· 1 read with a warning ─"), "{title}");
    let (failed, colour) = shown(&screen, "✗ Quiet · 1 min ago · no answer within 20 s");
    assert_eq!(colour, error, "{failed}");
    let (warned, colour) = shown(&screen, "⚠ Daily · 1 min ago · recovered: ");
    assert!(
        warned.contains("read 8 entries before byte 12345"),
        "{warned}"
    );
    assert_eq!(colour, warning, "{warned}");
    let text = text_of(&screen);
    assert!(
        text.find("✗ Quiet") < text.find("⚠ Daily"),
        "failures first:\n{text}"
    );
}

#[test]
fn a_fetch_read_with_a_warning_is_marked_among_the_latest_fetches() {
    let (f, [_, _, daily]) = three_feeds();
    let mut app = f.app(120, 40);
    app.update(Msg::Progress(Progress::Started {
        total: 1,
        skipped: 0,
        resting: None,
    }));
    app.update(Msg::Progress(Progress::FeedDone(FeedDone {
        feed_id: daily,
        title: "Daily".into(),
        record: FetchRecord {
            http_status: Some(200),
            new_articles: 1,
            warning: Some(RECOVERED.into()),
            ..Default::default()
        },
    })));
    keys(&mut app, "!");
    let screen = screen(&app);
    let (row, colour) = shown(&screen, "⚠ Daily · 200 · ");
    assert!(row.contains(&format!("1 new · {RECOVERED}")), "{row}");
    assert_eq!(colour, app.theme.warning.fg, "{row}");
}

#[test]
fn the_help_overlay() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 50);
    keys(&mut app, "?");
    insta::assert_snapshot!(screen(&app).backend());
}

#[test]
fn small_terminal_80_by_24() {
    let (f, _) = three_feeds();
    let mut app = f.app(80, 24);
    keys(&mut app, "jjl");
    insta::assert_snapshot!("80x24_lists", screen(&app).backend());
    keys(&mut app, "⏎");
    insta::assert_snapshot!("80x24_reading", screen(&app).backend());
}

#[test]
fn wide_terminal_200_by_50() {
    let mut f = Fixture::new();
    f.feed(
        "Notes",
        &["tech"],
        vec![article_with_body(
            "n1",
            "Caching for readers",
            45,
            RICH_ARTICLE,
        )],
    );
    f.feed(
        "Daily",
        &["news"],
        vec![article("d1", "Morning edition", 60)],
    );
    let mut app = f.app(200, 50);
    // Starred, the "news" heading, Daily.
    keys(&mut app, "jjjl⏎");
    insta::assert_snapshot!(screen(&app).backend());
}

#[test]
fn unread_articles_are_bold_and_read_ones_are_not() {
    let (f, _) = three_feeds();
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎h");
    let terminal = screen(&app);
    let buffer = terminal.backend().buffer();
    let list = app.panes().articles.unwrap();
    let bold_at = |row: u16| {
        buffer[(list.x + 12, list.y + 1 + row)]
            .modifier
            .contains(ratatui::style::Modifier::BOLD)
    };
    assert!(!bold_at(0), "the article just read");
    assert!(bold_at(1), "an unread one");
}

#[test]
fn escape_sequences_in_titles_never_reach_the_screen() {
    let mut f = Fixture::new();
    // Ingestion strips control characters; even a title that skipped it
    // (stored raw here) must not put one on the screen.
    let hostile = "Hi\u{1b}[2J\u{1b}]52;c;aGk=\u{7}there\u{9b}31m";
    f.feed("Odd", &[], vec![article("o1", hostile, 5)]);
    let mut app = f.app(120, 40);
    keys(&mut app, "jjl⏎");
    let title = app.open.as_ref().unwrap().article.title.clone().unwrap();
    assert!(title.contains('\u{1b}'), "the title reached the reader raw");
    let shown = text_of(&screen(&app));
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
    assert!(shown.contains("Hi"), "{shown}");
}

#[test]
fn the_expanded_status_panel_lists_the_latest_fetches() {
    let (f, [rust, quiet, daily]) = three_feeds();
    let mut app = f.app(120, 40);
    app.update(Msg::Progress(Progress::Started {
        total: 3,
        skipped: 0,
        resting: None,
    }));
    let fetches = [
        (
            rust,
            "Rust Blog",
            FetchRecord {
                http_status: Some(200),
                ms_headers: 90,
                ms_body: 30,
                bytes_wire: 48_000,
                new_articles: 2,
                ..Default::default()
            },
        ),
        (
            quiet,
            "Quiet",
            FetchRecord {
                error_kind: Some(ErrorKind::Dns),
                error_message: Some("no such host: quiet.example".into()),
                ..Default::default()
            },
        ),
        (
            daily,
            "Daily",
            FetchRecord {
                http_status: Some(200),
                not_modified: true,
                ms_headers: 45,
                ..Default::default()
            },
        ),
    ];
    for (feed_id, title, record) in fetches {
        app.update(Msg::Progress(Progress::FeedDone(FeedDone {
            feed_id,
            title: title.into(),
            record,
        })));
    }
    keys(&mut app, "!");
    insta::assert_snapshot!(screen(&app).backend());
    keys(&mut app, "!");
    assert_eq!(app.panes().status.height, 2);
}

#[test]
fn image_lines_say_what_the_cache_holds() {
    use crate::model::ImageStatus;
    let html = r#"<p>Three pictures.</p>
        <img src="/diagram.png" alt="The architecture">
        <p>Between them, text.</p>
        <img src="https://cdn.example.org/gone.gif" alt="An old chart">
        <img src="https://cdn.example.org/later.png" alt="">"#;
    let mut f = Fixture::new();
    let (article, images) = f.article_showing("With images", html);
    assert_eq!(images.len(), 3);
    assert_eq!(images[0].url, "https://example.org/diagram.png");
    let cached = image_outcome(
        images[0].id,
        ImageStatus::Cached,
        Some("x.png"),
        (900, 566),
        200,
    );
    let failed = image_outcome(images[1].id, ImageStatus::Failed, None, (0, 0), 404);
    f.store
        .save_images(&[&cached, &failed], crate::app::testing::NOW)
        .unwrap();
    let mut app = f.app(120, 40);
    let effects = keys(&mut app, "jjl⏎");
    // The one not downloaded yet is asked for at once.
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, crate::app::Effect::Worker(crate::refresh::Command::CacheImages(id)) if *id == article)),
        "{effects:?}"
    );
    insta::assert_snapshot!(screen(&app).backend());
}

/// A 120×40 reader drawing pictures with `picker`, with one article showing
/// one cached 200×100 picture (blue on top, orange below) between two
/// paragraphs; nothing selected yet.
fn reader_with_a_picture(dir: &std::path::Path, picker: &ratatui_image::picker::Picker) -> App {
    use crate::app::Pictures;
    use crate::model::ImageStatus;
    let picture = image::RgbImage::from_fn(200, 100, |_, y| {
        if y < 50 {
            image::Rgb([30, 60, 200])
        } else {
            image::Rgb([240, 140, 20])
        }
    });
    picture.save(dir.join("pic.png")).unwrap();
    let html = r#"<p>Before the picture.</p><img src="/pic.png" alt="Two bands"><p>After it.</p>"#;
    let mut f = Fixture::new();
    let (_, images) = f.article_showing("A picture", html);
    let image = &images[0];
    let mut cached = image_outcome(
        image.id,
        ImageStatus::Cached,
        Some("pic.png"),
        (200, 100),
        200,
    );
    cached.source_bytes = 700;
    f.store
        .save_images(&[&cached], crate::app::testing::NOW)
        .unwrap();
    let mut app = f.app(120, 40);
    app.image_dir = dir.to_path_buf();
    app.pictures = Some(Pictures::new(picker.clone()));
    app
}

/// [`reader_with_a_picture`] with its article open; returns the picture it
/// asked for, prepared as the loop does.
fn open_article_with_a_picture(
    dir: &std::path::Path,
    picker: ratatui_image::picker::Picker,
) -> (
    App,
    crate::app::PictureKey,
    Option<ratatui_image::protocol::Protocol>,
) {
    use crate::app::Effect;
    let mut app = reader_with_a_picture(dir, &picker);
    let effects = keys(&mut app, "jjl⏎");
    let Some(Effect::PreparePicture { key, path }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::PreparePicture { .. }))
    else {
        panic!("the picture is asked for");
    };
    // What the loop does with the effect, off the UI thread:
    let prepared = crate::graphics::prepare_picture(&picker, &path, key);
    (app, key, prepared)
}

/// The pictures of the article under the cursor are made once the cursor
/// rests on it (a tick with no key since), so that Enter draws them in its
/// first frame; a key before the rest makes none.
#[test]
fn the_article_under_the_cursor_has_its_pictures_made_while_it_rests_there() {
    use crate::app::{Effect, Prepared};
    let dir = tempfile::tempdir().unwrap();
    let picker = ratatui_image::picker::Picker::halfblocks();
    let mut app = reader_with_a_picture(dir.path(), &picker);
    let asked = |effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::PreparePicture { key, path } => Some((*key, path.clone())),
            _ => None,
        })
    };
    // Each key with what follows its frame: the article is read ahead.
    let effects = keys(&mut app, "jjl");
    assert_eq!(asked(&effects), None, "not at once");
    assert!(app.has_pictures_ahead());
    // A key before the tick (its frame not drawn yet): the cursor moved on.
    let j = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('j'));
    app.update(Msg::Key(j));
    assert_eq!(asked(&app.update(Msg::Tick)), None);
    app.after_frame();
    let (key, path) = asked(&app.update(Msg::Tick)).expect("asked for at the tick");
    assert!(!app.has_pictures_ahead());
    let prepared = crate::graphics::prepare_picture(&picker, &path, key);
    app.update(Msg::PicturePrepared(key, Prepared(prepared)));
    app.after_frame();
    let effects = keys(&mut app, "⏎");
    assert_eq!(asked(&effects), None, "ready before Enter");
    let shown = text_of(&screen(&app));
    assert!(
        shown.contains(['▀', '▄']),
        "drawn in the first frame: {shown}"
    );
}

#[test]
fn pictures_are_drawn_in_half_blocks_at_their_place() {
    use crate::app::Prepared;
    let dir = tempfile::tempdir().unwrap();
    let picker = ratatui_image::picker::Picker::halfblocks();
    let (mut app, key, prepared) = open_article_with_a_picture(dir.path(), picker);
    // 200×100 px at 10×20 px cells: 20 columns, 5 rows.
    assert_eq!((key.cols, key.rows), (20, 5));
    // Until it is ready, its block shows the placeholder.
    let waiting = text_of(&screen(&app));
    assert!(
        waiting.contains("[image 1: Two bands · 200×100 · 1 KB]"),
        "{waiting}"
    );
    assert!(prepared.is_some());
    app.update(Msg::PicturePrepared(key, Prepared(prepared)));
    insta::assert_snapshot!(screen(&app).backend());
    // I shows placeholders instead.
    keys(&mut app, "I");
    let plain = text_of(&screen(&app));
    assert!(plain.contains("[image 1: Two bands"), "{plain}");
    assert!(!plain.contains('▀'));
}

/// Kitty, iTerm2 and sixel pictures are escape sequences that ratatui-image
/// writes into the block's first cell: the sequence each terminal reads is
/// there, in place of the placeholder, and the text around it stays.
#[test]
fn pictures_reach_the_terminal_in_the_protocol_chosen() {
    use crate::app::Prepared;
    use ratatui_image::picker::{Picker, ProtocolType};
    let cases = [
        (ProtocolType::Kitty, "\x1b_G"),
        (ProtocolType::Iterm2, "\x1b]1337;File="),
        (ProtocolType::Sixel, "\x1bP"),
    ];
    for (protocol, introducer) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut picker = Picker::halfblocks();
        picker.set_protocol_type(protocol);
        let (mut app, key, prepared) = open_article_with_a_picture(dir.path(), picker);
        assert!(prepared.is_some(), "{protocol:?}");
        app.update(Msg::PicturePrepared(key, Prepared(prepared)));
        let terminal = screen(&app);
        let buffer = terminal.backend().buffer();
        let cells: Vec<(u16, u16, &str)> = (0..buffer.area.height)
            .flat_map(|y| (0..buffer.area.width).map(move |x| (x, y)))
            .map(|(x, y)| (x, y, buffer[(x, y)].symbol()))
            .filter(|(_, _, symbol)| symbol.contains(introducer))
            .collect();
        assert_eq!(cells.len(), 1, "{protocol:?}: one sequence, in one cell");
        let text = text_of(&terminal);
        assert!(!text.contains("[image 1: Two bands"), "{protocol:?}");
        let before = text.lines().position(|l| l.contains("Before the picture."));
        let after = text.lines().position(|l| l.contains("After it."));
        let (_, y, _) = cells[0];
        let (before, after) = (before.unwrap() as u16, after.unwrap() as u16);
        assert!(
            before < y && y + key.rows <= after,
            "{protocol:?}: between the paragraphs"
        );
        assert!(!text.contains('▀'), "{protocol:?}: no half-blocks");
    }
}

#[test]
fn an_image_cached_from_its_srcset_or_picture_is_the_one_shown_at_its_src() {
    use crate::model::ImageStatus;
    // No alt text to match by: only the addresses tie the text to the cache.
    let html = r#"<img src="/small.jpg" srcset="/small.jpg 400w, /large.jpg 1200w">
        <picture><source type="image/webp" srcset="/photo.webp"><img src="/photo.jpg"></picture>"#;
    let mut f = Fixture::new();
    let (_, images) = f.article_showing("Responsive", html);
    let urls: Vec<&str> = images.iter().map(|i| i.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://example.org/large.jpg",
            "https://example.org/photo.webp"
        ]
    );
    let large = image_outcome(
        images[0].id,
        ImageStatus::Cached,
        Some("l.jpg"),
        (1200, 800),
        200,
    );
    let photo = image_outcome(images[1].id, ImageStatus::Failed, None, (0, 0), 404);
    f.store
        .save_images(&[&large, &photo], crate::app::testing::NOW)
        .unwrap();
    let mut app = f.app(120, 40);
    app.show_images = false;
    keys(&mut app, "jjl⏎");
    let open = app.open.as_ref().unwrap();
    assert_eq!(open.image_for(0).map(|i| i.id), Some(images[0].id));
    assert_eq!(open.image_for(1).map(|i| i.id), Some(images[1].id));
    let screen = text_of(&screen(&app));
    assert!(screen.contains("[image 1 · 1200×800 · 53 KB]"), "{screen}");
    assert!(screen.contains("[image 2 · failed: 404]"), "{screen}");
}

/// On a light terminal (found at start, or `[theme] background = "light"`)
/// nothing is drawn in a colour that does not show on white; on either
/// background the titles a reader reads are in the terminal's own colour.
#[test]
fn the_light_palette_never_draws_in_colours_white_swallows() {
    let unreadable = [
        Color::White,
        Color::Gray,
        Color::Yellow,
        Color::LightYellow,
        Color::LightGreen,
        Color::LightBlue,
        Color::LightCyan,
        Color::Cyan,
    ];
    for background in [Background::Light, Background::Dark] {
        let (f, _) = three_feeds();
        let mut config = crate::config::Config::default();
        config.theme.background = background;
        let mut app = f.app_with(&config, 120, 40);
        // The first screen, then an article open.
        let mut screens = vec![screen(&app)];
        keys(&mut app, "jjl⏎");
        screens.push(screen(&app));
        for terminal in &screens {
            let buffer = terminal.backend().buffer();
            let cells: Vec<_> = buffer
                .content()
                .iter()
                .filter(|c| c.symbol() != " ")
                .collect();
            let unread_title = cells.iter().find(|c| {
                c.modifier.contains(ratatui::style::Modifier::BOLD) && c.fg == Color::Reset
            });
            assert!(
                unread_title.is_some(),
                "{background:?}: unread text in the terminal's colour"
            );
            if background == Background::Light {
                let bad: Vec<_> = cells
                    .iter()
                    .filter(|c| unreadable.contains(&c.fg))
                    .collect();
                assert!(bad.is_empty(), "{} cells in {:?}", bad.len(), bad[0].fg);
            }
        }
    }
}

#[test]
fn painted_lines_are_what_a_paragraph_draws() {
    use ratatui::buffer::Buffer;
    use ratatui::style::{Color, Modifier, Style};
    use ratatui::text::{Line, Span};
    use ratatui::widgets::{Paragraph, Widget};
    let area = ratatui::layout::Rect::new(0, 0, 12, 5);
    let lines = vec![
        Line::from(vec![
            Span::styled("plain ascii text", Style::new().fg(Color::Red)),
            Span::raw("cut off"),
        ]),
        Line::from(vec![
            Span::raw("a tab\t, a bell\x07, ESC\x1b[31m"),
            Span::styled("!", Style::new().fg(Color::Green)),
        ]),
        Line::from(vec![
            Span::raw("wide 日本 ok"),
            Span::styled("é", Style::new().add_modifier(Modifier::BOLD)),
        ]),
        // A wide character that does not fit at the edge is left out.
        Line::from(vec![Span::raw("abcdefghijk日"), Span::raw("x")]),
        Line::from(vec![Span::styled("selected", Style::new().fg(Color::Blue))])
            .patch_style(Style::new().bg(Color::Yellow)),
    ];
    let mut painted = Buffer::empty(area);
    super::paint_lines(&mut painted, area, &lines);
    let mut drawn = Buffer::empty(area);
    Paragraph::new(lines).render(area, &mut drawn);
    assert_eq!(painted, drawn);
}
