//! Parse + store of one large feed: a 20,000-item RSS document (about 4 KB of
//! HTML per item, like the bench corpus) parsed through the refresher's path
//! (the parse, then the image finder) and saved in one transaction into a
//! fresh database, then saved again unchanged (what a refresh of an unchanged
//! feed without validators costs). Beside the parse: feed-rs alone, and the
//! parse without the passes around feed-rs (what those cost). And the cover
//! images of 2,000 articles whose first image comes after 2 KB of text (the
//! bench corpus's median), as a refresh finds them when images are not cached.

use criterion::{Criterion, criterion_group, criterion_main};
use tidings::config::RetentionConfig;
use tidings::images::{find_covers, find_in_feed};
use tidings::model::{FetchRecord, ParsedFeed};
use tidings::parse::parse_feed;
use tidings::store::{FeedUpdate, NewSubscription, Store};

/// A paragraph of an article body, with emphasis and a link.
const PARAGRAPH: &str = "<p>Lorem ipsum dolor sit amet, <em>consectetur</em> adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. <a href=\"http://bench.test/x\">Ut enim</a> ad minim veniam.</p>";

fn large_feed(items: usize) -> Vec<u8> {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Big</title><link>http://bench.test/</link>"#,
    );
    for i in 0..items {
        xml.push_str(&format!(
            "<item><title>Item {i} &amp; more</title><link>http://bench.test/posts/{i}</link><guid>http://bench.test/posts/{i}</guid><pubDate>Mon, 02 Jan 2006 15:04:05 GMT</pubDate><description>Summary {i}</description><content:encoded><![CDATA[<h2>Post {i}</h2>{}]]></content:encoded></item>",
            PARAGRAPH.repeat(20)
        ));
    }
    xml.push_str("</channel></rss>");
    xml.into_bytes()
}

/// What the refresher's parse stage does: the parse, then the image finder.
fn parse(doc: &[u8]) -> ParsedFeed {
    let mut parsed = parse_feed(doc, None, FEED_URL).unwrap();
    find_in_feed(&mut parsed, FEED_URL);
    parsed
}

const FEED_URL: &str = "http://bench.test/feed.xml";

fn parse_and_store(c: &mut Criterion) {
    let doc = large_feed(20_000);
    let mut group = c.benchmark_group("large_feed_20k");
    group.sample_size(10);
    group.bench_function("feed_rs_alone", |b| {
        b.iter(|| feed_rs::parser::parse(doc.as_slice()).unwrap())
    });
    group.bench_function("parse", |b| b.iter(|| parse(&doc)));
    group.bench_function("parse_without_passes", |b| {
        b.iter(|| {
            let mut parsed =
                tidings::parse::parse_feed_without_passes(&doc, None, FEED_URL).unwrap();
            find_in_feed(&mut parsed, FEED_URL);
            parsed
        })
    });
    group.bench_function("parse_and_store_new", |b| {
        b.iter_with_setup(
            || {
                let dir = tempfile::tempdir().unwrap();
                let mut store = Store::open(&dir.path().join("bench.db")).unwrap();
                let (feed, _) = store
                    .add_feed(&NewSubscription {
                        url: FEED_URL.into(),
                        ..Default::default()
                    })
                    .unwrap();
                (dir, store, feed)
            },
            |(_dir, mut store, feed)| {
                let parsed = parse(&doc);
                let update = FeedUpdate {
                    parsed: Some(parsed),
                    ..Default::default()
                };
                let mut record = FetchRecord::default();
                let counts = store
                    .save_fetch(
                        feed,
                        None,
                        &update,
                        &mut record,
                        1,
                        &RetentionConfig::default(),
                    )
                    .unwrap();
                assert_eq!(counts.new, 20_000);
            },
        )
    });
    group.finish();
}

fn covers(c: &mut Criterion) {
    let articles = (0..2_000)
        .map(|i| tidings::model::ParsedArticle {
            link: Some(format!("http://bench.test/posts/{i}")),
            content: Some(format!(
                "{}<figure><img src=\"/img/{i}.png\" alt=\"A picture\" width=\"640\"></figure>{}",
                PARAGRAPH.repeat(10),
                PARAGRAPH.repeat(10)
            )),
            ..Default::default()
        })
        .collect();
    let feed = ParsedFeed {
        articles,
        ..Default::default()
    };
    c.bench_function("covers_of_2000_articles", |b| {
        b.iter_batched(
            || feed.clone(),
            |mut feed| {
                find_covers(&mut feed, FEED_URL);
                assert!(feed.articles[1_999].image.is_some());
                feed
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, parse_and_store, covers);
criterion_main!(benches);
