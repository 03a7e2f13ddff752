//! The reader's hot paths over a 100,000-article cache (200 feeds × 500
//! articles of ~3 KB, one feed of 5,000): the first screen (open the store,
//! build the App, draw 200×50), moving in a list, switching feeds, opening
//! the 5,000-article feed, opening an article, and a search. The cache is
//! built once in a temp dir (about half a minute).

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use tidings::app::{App, Msg};
use tidings::config::{Config, RetentionConfig};
use tidings::model::{FetchRecord, ParsedArticle, ParsedFeed};
use tidings::parse::finish_article;
use tidings::store::{FeedUpdate, NewSubscription, Store};

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

fn build_cache(path: &std::path::Path) {
    let mut store = Store::open(path).unwrap();
    let mut add = |name: &str, articles: usize, tag: Option<&str>| {
        let (feed, _) = store
            .add_feed(&NewSubscription {
                url: format!("https://bench.test/{name}.xml"),
                tags: tag.map(|t| vec![t.to_string()]).unwrap_or_default(),
                ..Default::default()
            })
            .unwrap();
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
        let update = FeedUpdate {
            parsed: Some(ParsedFeed {
                title: Some(format!("Feed {name}")),
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
    key(&mut app, KeyCode::Char('l'));
    group.bench_function("move_in_5000_article_list", |b| {
        b.iter(|| {
            key(&mut app, KeyCode::Char('j'));
            if app.articles.cursor + 1 >= app.articles.total {
                key(&mut app, KeyCode::Char('g'));
            }
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
        })
    });
    group.bench_function("open_and_close_article", |b| {
        b.iter(|| {
            key(&mut app, KeyCode::Enter);
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
            key(&mut app, KeyCode::Char('q'));
            key(&mut app, KeyCode::Char('j'));
            terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
        })
    });
    let store = Store::open(&path).unwrap();
    group.bench_function("search", |b| {
        b.iter(|| store.search("terminals number 4999", 1000).unwrap())
    });
    group.finish();
}

criterion_group!(benches, reader);
criterion_main!(benches);
