//! Query feeds over a cache of 1,000,000 articles (1,000 feeds × 1,000, short
//! bodies, a tenth of them unread): opening a query feed in the reader (from
//! All unread: its matches counted and the first page listed, drawn at
//! 200×50, after another connection wrote, so nothing is remembered),
//! for a common match, a rare one, and one on tags and age; and `tidings
//! filter test`'s count. The cache is built once under
//! /tmp/tidings-bench/queries-1m (a few minutes) and reused.
//!
//!     cargo bench --bench queries

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use tidings::app::{App, FeedEntry};
use tidings::config::{Config, RetentionConfig};
use tidings::model::{FetchRecord, ParsedArticle, ParsedFeed};
use tidings::parse::finish_article;
use tidings::store::{FeedUpdate, NewSubscription, Store};

const NOW: i64 = 1_795_867_200;
const FEEDS: usize = 1_000;
const PER_FEED: usize = 1_000;

fn build(path: &std::path::Path) {
    let mut store = Store::open(path).unwrap();
    let retention = RetentionConfig::default();
    for f in 0..FEEDS {
        let name = format!("f{f:04}");
        let (feed, _) = store
            .add_feed(&NewSubscription {
                url: format!("https://bench{}.test/{name}.xml", f % 50),
                tags: vec![["news", "tech", "life", "dev"][f % 4].to_string()],
                ..Default::default()
            })
            .unwrap();
        let articles: Vec<ParsedArticle> = (0..PER_FEED)
            .map(|i| {
                let topic = ["rust", "terminals", "gardening", "bread", "zig"][(f + i) % 5];
                finish_article(ParsedArticle {
                    guid_key: format!("{name}/{i}"),
                    title: Some(format!("{name}: post {i} about {topic}")),
                    link: Some(format!("https://bench{}.test/{name}/{i}", f % 50)),
                    published: Some(NOW - (i * FEEDS + f) as i64 * 60),
                    content: Some(format!("<p>Post {i} of {name}, on {topic}.</p>")),
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
        let mut record = FetchRecord::default();
        store
            .save_fetch(feed, None, &update, &mut record, NOW, &retention)
            .unwrap();
        // A tenth of each feed unread: the newest hundred.
        let source = tidings::model::ArticleSource::Feed(feed);
        let total = PER_FEED as u64;
        let old: Vec<_> = store
            .article_page(source, false, true, (100, total - 100), total)
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        store.set_read_many(&old, true).unwrap();
    }
}

fn queries(c: &mut Criterion) {
    let dir = std::path::Path::new("/tmp/tidings-bench/queries-1m");
    let path = dir.join("tidings.db");
    if !path.exists() {
        std::fs::create_dir_all(dir).unwrap();
        let building = path.with_extension("building");
        let _ = std::fs::remove_file(&building);
        build(&building);
        std::fs::rename(&building, &path).unwrap();
    }
    let cases = [
        ("common_title_regex", "title =~ 'rust|zig'"),
        ("rare_title_regex", "title =~ 'f0042: post 99[0-9] '"),
        (
            "tag_and_age",
            "tag = dev and age < 30d and not content contains bread",
        ),
    ];
    let config = Config::default();
    let size = Rect::new(0, 0, 200, 50);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let mut group = c.benchmark_group("query_feed_1m");
    group.sample_size(10);
    for (name, query) in cases {
        {
            let mut store = Store::open(&path).unwrap();
            for q in store.query_feeds().unwrap() {
                store.remove_query_feed(q.id).unwrap();
            }
            store.save_query_feed(name, query).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let mut app = App::new(store, &config, NOW * 1000, size).unwrap();
        // The query feed is the entry after Starred.
        assert!(matches!(app.feeds.entries[2], FeedEntry::Query { .. }));
        let key = |app: &mut App, c: char| {
            app.update(tidings::app::Msg::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(c),
                crossterm::event::KeyModifiers::NONE,
            )));
        };
        // From All unread to the query feed: its matches counted, its first
        // page read and drawn.
        // Another connection writes before each opening, as a refresh would:
        // the query feed's matches are found afresh, not taken from memory.
        let mut writer = Store::open(&path).unwrap();
        group.bench_function(format!("open/{name}"), |b| {
            b.iter_custom(|iterations| {
                let mut spent = std::time::Duration::ZERO;
                for i in 0..iterations {
                    writer.set_setting("bench", &i.to_string()).unwrap();
                    key(&mut app, 'g');
                    let started = std::time::Instant::now();
                    key(&mut app, 'j');
                    key(&mut app, 'j');
                    terminal.draw(|f| tidings::ui::draw(f, &app)).unwrap();
                    spent += started.elapsed();
                    assert!(app.articles.total > 0);
                }
                spent
            })
        });
        let store = Store::open(&path).unwrap();
        let parsed = tidings::query::parse(query).unwrap();
        group.bench_function(format!("count/{name}"), |b| {
            b.iter(|| store.query_counts(&parsed, NOW).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
