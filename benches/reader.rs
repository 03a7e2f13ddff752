//! The reader's hot paths over a 100,000-article cache (200 feeds × 500
//! articles of ~3 KB, one feed of 5,000): the first screen (open the store,
//! build the App, draw 200×50), moving in a list, switching feeds, opening
//! the 5,000-article feed, opening an article, and a search. The cache is
//! built once in a temp dir (about half a minute).

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tidings::app::{App, Msg};
use tidings::config::{Config, RetentionConfig};
use tidings::model::{FetchRecord, ParsedArticle, ParsedFeed};
use tidings::parse::finish_article;
use tidings::store::{FeedUpdate, NewSubscription, Store};
use tidings::tui::GapFilling;

const NOW: i64 = 1_795_867_200;

fn body(i: usize) -> String {
    let paragraph = format!(
        "<p>Paragraph of post {i} with <a href=\"https://bench.test/{i}\">a link</a>, some \
         <em>emphasis</em> and <code>code</code>, long enough to wrap a few times in a pane.</p>"
    );
    format!(
        "<h2>Post {i}</h2>{}<pre><code>let x = {i};</code></pre>",
        paragraph.repeat(12)
    )
}

/// Subscribes to `url` and stores one fetch of it bringing `articles`.
fn save_feed(
    store: &mut Store,
    url: &str,
    tags: &[String],
    title: &str,
    articles: Vec<ParsedArticle>,
) -> tidings::model::FeedId {
    let (feed, _) = store
        .add_feed(&NewSubscription {
            url: url.into(),
            tags: tags.to_vec(),
            ..Default::default()
        })
        .unwrap();
    let update = FeedUpdate {
        parsed: Some(ParsedFeed {
            title: Some(title.into()),
            articles,
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut record = FetchRecord {
        started_at_ms: NOW * 1000,
        http_status: Some(200),
        ..Default::default()
    };
    store
        .save_fetch(
            feed,
            None,
            &update,
            &mut record,
            NOW,
            &RetentionConfig::default(),
        )
        .unwrap();
    feed
}

fn build_cache(path: &std::path::Path) {
    let mut store = Store::open(path).unwrap();
    let mut add = |name: &str, articles: usize, tag: Option<&str>| {
        let articles: Vec<ParsedArticle> = (0..articles)
            .map(|i| {
                finish_article(ParsedArticle {
                    guid_key: format!("{name}/{i}"),
                    title: Some(format!(
                        "{name}: article number {i} about rust and terminals"
                    )),
                    link: Some(format!("https://bench.test/{name}/{i}")),
                    published: Some(NOW - i as i64 * 3600),
                    content: Some(body(i)),
                    ..Default::default()
                })
            })
            .collect();
        let tags: Vec<String> = tag.map(|t| vec![t.to_string()]).unwrap_or_default();
        save_feed(
            &mut store,
            &format!("https://bench.test/{name}.xml"),
            &tags,
            &format!("Feed {name}"),
            articles,
        );
    };
    add("big", 5_000, None);
    for i in 0..190 {
        add(
            &format!("f{i:03}"),
            500,
            [None, Some("news"), Some("tech")][i % 3],
        );
    }
}

fn key(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn reader(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tidings.db");
    build_cache(&path);
    let config = Config::default();
    let size = Rect::new(0, 0, 200, 50);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let mut group = c.benchmark_group("reader_100k");
    group.bench_function("first_screen", |b| {
        b.iter(|| {
            let store = Store::open(&path).unwrap();
            let app = App::new(store, &config, NOW * 1000, size).unwrap();
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
        })
    });
    let mut app = App::new(Store::open(&path).unwrap(), &config, NOW * 1000, size).unwrap();
    group.bench_function("switch_feed", |b| {
        // Down through the feed list, back to the top at the end.
        b.iter(|| {
            key(&mut app, KeyCode::Char('j'));
            if app.feeds.cursor + 1 >= app.feeds.entries.len() {
                key(&mut app, KeyCode::Char('g'));
            }
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
        })
    });
    group.bench_function("open_5000_article_feed", |b| {
        b.iter(|| {
            key(&mut app, KeyCode::Char('g'));
            key(&mut app, KeyCode::Char('j'));
            key(&mut app, KeyCode::Char('j'));
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
        })
    });
    // Into the 5,000-article feed's list, whichever benchmarks ran before
    // (a filter skips some): g, two down, l.
    for code in ['h', 'h', 'g', 'j', 'j', 'l'] {
        key(&mut app, KeyCode::Char(code));
    }
    group.bench_function("move_in_5000_article_list", |b| {
        b.iter(|| {
            key(&mut app, KeyCode::Char('j'));
            if app.articles.cursor + 1 >= app.articles.total {
                key(&mut app, KeyCode::Char('g'));
            }
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
        })
    });
    // Each key as the event loop takes it: the message, its frame, then what
    // waits for the frame (writes, reading the next article ahead).
    let press = |app: &mut App, terminal: &mut Terminal<TestBackend>, code| {
        key(app, code);
        terminal.draw(|f| tidings::ui::draw(f, app)).unwrap();
        app.after_frame();
    };
    group.bench_function("open_and_close_article", |b| {
        b.iter(|| {
            press(&mut app, &mut terminal, KeyCode::Enter);
            press(&mut app, &mut terminal, KeyCode::Char('q'));
            press(&mut app, &mut terminal, KeyCode::Char('j'));
        })
    });
    // Only what a reader waits for: Enter on the next article, to its frame
    // written as the reader writes it to a terminal.
    let mut screen = Terminal::with_options(
        GapFilling::new(std::io::sink()),
        TerminalOptions {
            viewport: Viewport::Fixed(size),
        },
    )
    .unwrap();
    let left_alone = screen.backend().left_alone();
    let mut draw_to_screen = |app: &App| {
        screen
            .draw(|f| {
                tidings::ui::draw(f, app);
                left_alone.note(f.buffer_mut());
            })
            .unwrap();
    };
    group.bench_function("open_article_to_its_frame", |b| {
        b.iter_custom(|iterations| {
            let mut waited = std::time::Duration::ZERO;
            for _ in 0..iterations {
                for code in [KeyCode::Char('q'), KeyCode::Char('j')] {
                    key(&mut app, code);
                    draw_to_screen(&app);
                    app.after_frame();
                }
                let started = std::time::Instant::now();
                key(&mut app, KeyCode::Enter);
                draw_to_screen(&app);
                waited += started.elapsed();
                app.after_frame();
            }
            waited
        })
    });
    let store = Store::open(&path).unwrap();
    group.bench_function("search", |b| {
        b.iter(|| store.search("terminals number 4999", 1000).unwrap())
    });
    group.finish();
}

criterion_group!(benches, reader, article_with_pictures);
criterion_main!(benches);

/// An article showing a cover and ten cached 900×566 images: opening it (text and
/// placeholders, what the first frame shows), and until all ten pictures are
/// made (decoded and encoded as half-blocks, which the reader does on blocking
/// threads) and drawn; then scrolling through it a line at a time.
fn article_with_pictures(c: &mut Criterion) {
    use tidings::app::{Effect, Pictures, Prepared};
    use tidings::model::{FoundImage, ImageStatus};
    use tidings::store::ImageOutcome;

    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    let mut store = Store::open(&dir.path().join("tidings.db")).unwrap();
    let mut html = String::new();
    let mut found = Vec::new();
    for i in 0..10 {
        html.push_str(&format!("<p>Paragraph {i} before picture {i}.</p><img src=\"https://bench.test/{i}.png\" alt=\"Picture {i}\">"));
        found.push(FoundImage {
            url: format!("https://bench.test/{i}.png"),
            alt: format!("Picture {i}"),
        });
        let picture = image::RgbImage::from_fn(900, 566, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, (i * 20) as u8])
        });
        picture.save(images.join(format!("{i}.png"))).unwrap();
    }
    // The cover (a thumbnail the body does not show), drawn above the text.
    found.push(FoundImage {
        url: "https://bench.test/cover.png".into(),
        alt: String::new(),
    });
    let cover = image::RgbImage::from_fn(900, 566, |x, y| {
        image::Rgb([(y % 256) as u8, (x % 256) as u8, 7])
    });
    cover.save(images.join("10.png")).unwrap();
    let article = finish_article(ParsedArticle {
        guid_key: "p".into(),
        title: Some("Ten pictures".into()),
        link: Some("https://bench.test/p".into()),
        published: Some(NOW),
        content: Some(html),
        image: Some("https://bench.test/cover.png".into()),
        images: found,
        ..Default::default()
    });
    let feed = save_feed(
        &mut store,
        "https://bench.test/pictures.xml",
        &[],
        "Pictures",
        vec![article],
    );
    let id = store.feed_articles(feed).unwrap()[0].id;
    let outcomes: Vec<ImageOutcome> = store
        .article_images(id)
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, image)| ImageOutcome {
            id: image.id,
            status: ImageStatus::Cached,
            file: Some(format!("{i}.png")),
            http_status: Some(200),
            content_type: None,
            source_bytes: 50_000,
            stored_bytes: 50_000,
            width: 900,
            height: 566,
            stored_width: 900,
            stored_height: 566,
            fetch_ms: 1,
            convert_ms: 1,
            error: None,
            etag: None,
            last_modified: None,
            not_modified: false,
        })
        .collect();
    store
        .save_images(&outcomes.iter().collect::<Vec<_>>(), NOW)
        .unwrap();
    drop(store);

    let size = Rect::new(0, 0, 200, 50);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let picker = ratatui_image::picker::Picker::halfblocks();
    let fresh_app = || {
        let mut app = App::new(
            Store::open(&dir.path().join("tidings.db")).unwrap(),
            &Config::default(),
            NOW * 1000,
            size,
        )
        .unwrap();
        app.image_dir = images.clone();
        app.pictures = Some(Pictures::new(picker.clone()));
        key(&mut app, KeyCode::Char('j'));
        key(&mut app, KeyCode::Char('j'));
        key(&mut app, KeyCode::Char('l'));
        app
    };
    let mut group = c.benchmark_group("article_with_a_cover_and_10_pictures");
    group.sample_size(20);
    group.bench_function("open_and_first_draw", |b| {
        b.iter_with_setup(fresh_app, |mut app| {
            app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
        })
    });
    // As the reader does it: the pictures are made on blocking threads (as
    // many at once as there are cores), each delivered as it is ready.
    group.bench_function("all_pictures_made_and_drawn", |b| {
        b.iter_with_setup(fresh_app, |mut app| {
            let effects = app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
            let jobs: Vec<_> = effects
                .into_iter()
                .filter_map(|e| match e {
                    Effect::PreparePicture { key, path } => Some((key, path)),
                    _ => None,
                })
                .collect();
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let made: Vec<_> = std::thread::scope(|scope| {
                let handles: Vec<_> = jobs
                    .chunks(jobs.len().div_ceil(cores).max(1))
                    .map(|chunk| {
                        let picker = &picker;
                        scope.spawn(move || {
                            chunk
                                .iter()
                                .map(|(key, path)| {
                                    let picture =
                                        tidings::graphics::prepare_picture(picker, path, *key);
                                    (*key, picture)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap())
                    .collect()
            });
            for (key, picture) in made {
                app.update(Msg::PicturePrepared(key, Prepared(picture)));
            }
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
        })
    });
    // Scrolling once every picture is made: a key and the frame it draws,
    // pictures moving with the text. Down through the article, then up.
    let mut app = fresh_app();
    for effect in app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))) {
        if let Effect::PreparePicture { key, path } = effect {
            let picture = tidings::graphics::prepare_picture(&picker, &path, key);
            app.update(Msg::PicturePrepared(key, Prepared(picture)));
        }
    }
    let rows = app.open.as_ref().unwrap().rows.len();
    let mut step = 0usize;
    group.bench_function("scroll_a_line", |b| {
        b.iter(|| {
            let down = (step / rows).is_multiple_of(2);
            step += 1;
            key(&mut app, KeyCode::Char(if down { 'j' } else { 'k' }));
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
        })
    });
    group.finish();
}
