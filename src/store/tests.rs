//! Store tests over in-memory and temp-file databases: migrations, upserts,
//! unread counts, retention, search and the statistics derived from fetches.

use super::*;
use crate::config::RetentionConfig;
use crate::model::{
    ArticleId, ArticleSource, ArticleSummary, ErrorKind, FetchRecord, ParsedArticle,
};

pub(super) fn sub(url: &str) -> NewSubscription {
    NewSubscription {
        url: url.into(),
        ..Default::default()
    }
}

pub(super) fn article(key: &str, title: &str, published: i64) -> ParsedArticle {
    crate::parse::finish_article(ParsedArticle {
        guid_key: format!("id:{key}"),
        guid: Some(key.into()),
        title: Some(title.into()),
        link: Some(format!("http://example.test/{key}")),
        published: Some(published),
        content: Some(format!("<p>Body of <b>{title}</b></p>")),
        ..Default::default()
    })
}

pub(super) fn feed_of(articles: Vec<ParsedArticle>) -> FeedUpdate {
    FeedUpdate {
        parsed: Some(ParsedFeed {
            title: Some("Example".into()),
            articles,
            ..Default::default()
        }),
        etag: Some("\"v1\"".into()),
        ..Default::default()
    }
}

pub(super) fn save(
    store: &mut Store,
    feed: FeedId,
    update: &FeedUpdate,
    now: i64,
    retention: &RetentionConfig,
) -> SaveCounts {
    let mut record = FetchRecord {
        http_status: Some(200),
        ..Default::default()
    };
    store
        .save_fetch(feed, None, update, &mut record, now, retention)
        .unwrap()
}

#[test]
fn migrations_applied_twice_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut store = Store::open(&path).unwrap();
    store.add_feed(&sub("http://a.test/feed")).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    store.migrate().unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    assert_eq!(store.feeds().unwrap().len(), 1);
}

#[test]
fn a_newer_schema_is_refused_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}

#[test]
fn a_file_that_is_not_a_database_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    std::fs::write(
        &path,
        b"this is not sqlite at all, just some text that fills the header",
    )
    .unwrap();
    let err = Store::open(&path).err().expect("must fail");
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("damaged"));
}

#[test]
fn adding_twice_keeps_one_subscription_and_merges_tags() {
    let mut store = Store::open_in_memory().unwrap();
    let (a, new_a) = store
        .add_feed(&NewSubscription {
            url: "http://a.test/f".into(),
            tags: vec!["news".into()],
            ..Default::default()
        })
        .unwrap();
    let (b, new_b) = store
        .add_feed(&NewSubscription {
            url: "http://a.test/f".into(),
            title: Some("Mine".into()),
            tags: vec!["news".into(), "daily".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!((a, new_a, new_b), (b, true, false));
    let feeds = store.feeds().unwrap();
    assert_eq!(feeds.len(), 1);
    assert_eq!(feeds[0].tags, ["news", "daily"]);
    assert_eq!(feeds[0].title.as_deref(), Some("Mine"));
}

#[test]
fn upsert_deduplicates_and_counts_new_updated_unchanged() {
    let mut store = Store::open_in_memory().unwrap();
    let (feed, _) = store.add_feed(&sub("http://a.test/f")).unwrap();
    let none = RetentionConfig::default();
    let first = save(
        &mut store,
        feed,
        &feed_of(vec![article("1", "One", 100), article("2", "Two", 200)]),
        1000,
        &none,
    );
    assert_eq!(
        (first.new, first.updated, first.unchanged, first.total),
        (2, 0, 0, 2)
    );

    let again = save(
        &mut store,
        feed,
        &feed_of(vec![article("1", "One", 100), article("2", "Two", 200)]),
        2000,
        &none,
    );
    assert_eq!(
        (again.new, again.updated, again.unchanged, again.total),
        (0, 0, 2, 2)
    );

    let a1 = store
        .articles(feed, 0, 10)
        .unwrap()
        .into_iter()
        .find(|a| a.title.as_deref() == Some("One"))
        .unwrap();
    store.set_read(a1.id, true).unwrap();
    let changed = save(
        &mut store,
        feed,
        &feed_of(vec![
            article("1", "One, corrected", 100),
            article("3", "Three", 300),
        ]),
        3000,
        &none,
    );
    assert_eq!(
        (
            changed.new,
            changed.updated,
            changed.unchanged,
            changed.total
        ),
        (1, 1, 0, 3)
    );

    let list = store.articles(feed, 0, 10).unwrap();
    let titles: Vec<_> = list.iter().map(|a| a.title.clone().unwrap()).collect();
    assert_eq!(titles, ["Three", "Two", "One, corrected"], "newest first");
    assert!(list[2].read, "an update keeps the read state");
    let row = &store.feed_list().unwrap()[0];
    assert_eq!((row.unread, row.total), (2, 3));
    assert_eq!(store.feeds().unwrap()[0].title.as_deref(), Some("Example"));
}

#[test]
fn retention_never_drops_starred_unread_or_listed_articles() {
    let mut store = Store::open_in_memory().unwrap();
    let (feed, _) = store.add_feed(&sub("http://a.test/f")).unwrap();
    let none = RetentionConfig::default();
    let old: Vec<_> = (0..6)
        .map(|i| article(&format!("old{i}"), &format!("Old {i}"), 1000 + i))
        .collect();
    save(&mut store, feed, &feed_of(old), 10_000, &none);
    let ids: Vec<_> = store.articles(feed, 0, 10).unwrap();
    // old5 .. old0, newest first: read all but old4 and old3; star old2
    for a in &ids {
        let t = a.title.as_deref().unwrap();
        if t != "Old 4" && t != "Old 3" {
            store.set_read(a.id, true).unwrap();
        }
        if t == "Old 2" {
            store.set_starred(a.id, true).unwrap();
        }
    }
    let keep_one = RetentionConfig {
        keep_articles: 1,
        ..Default::default()
    };
    // The new document lists only "new" and old0: old0 stays because the feed still lists it.
    let counts = save(
        &mut store,
        feed,
        &feed_of(vec![
            article("new", "New", 5000),
            article("old0", "Old 0", 1000),
        ]),
        20_000,
        &keep_one,
    );
    let left: Vec<_> = store
        .articles(feed, 0, 20)
        .unwrap()
        .into_iter()
        .map(|a| a.title.unwrap())
        .collect();
    assert_eq!(left, ["New", "Old 4", "Old 3", "Old 2", "Old 0"]);
    assert_eq!(
        counts.removed, 2,
        "Old 5 and Old 1 were read, unstarred and out of the feed"
    );
    assert!(
        store.search("Old 5", 10).unwrap().is_empty(),
        "removed articles leave the search index"
    );
}

/// A feed's own retention wins over the config's: kept whole although the
/// config keeps one, or trimmed to one although the config keeps all.
#[test]
fn a_feeds_own_retention_wins_over_the_configs() {
    let mut store = Store::open_in_memory().unwrap();
    let (all_kept, _) = store.add_feed(&sub("http://a.test/keeps-all")).unwrap();
    let (one_kept, _) = store.add_feed(&sub("http://a.test/keeps-one")).unwrap();
    store
        .update_feed_settings(all_kept, |s| s.keep_articles = Some(0))
        .unwrap();
    store
        .update_feed_settings(one_kept, |s| s.keep_articles = Some(1))
        .unwrap();
    let keep_one = RetentionConfig {
        keep_articles: 1,
        ..Default::default()
    };
    let keep_all = RetentionConfig::default();
    for (feed, config) in [(all_kept, &keep_one), (one_kept, &keep_all)] {
        let old: Vec<_> = (0..4)
            .map(|i| article(&format!("old{i}"), &format!("Old {i}"), 1000 + i))
            .collect();
        save(&mut store, feed, &feed_of(old), 10_000, config);
        for a in store.articles(feed, 0, 10).unwrap() {
            store.set_read(a.id, true).unwrap();
        }
        save(
            &mut store,
            feed,
            &feed_of(vec![article("new", "New", 5000)]),
            20_000,
            config,
        );
    }
    assert_eq!(store.articles(all_kept, 0, 20).unwrap().len(), 5);
    assert_eq!(store.articles(one_kept, 0, 20).unwrap().len(), 1);
}

#[test]
fn search_finds_words_in_bodies_ranks_titles_first_and_quotes_syntax() {
    let mut store = Store::open_in_memory().unwrap();
    let (feed, _) = store.add_feed(&sub("http://a.test/f")).unwrap();
    let mut body_only = article("1", "Unrelated", 100);
    body_only.content = Some("<p>all about <em>ferrous</em> oxide</p>".into());
    let body_only = crate::parse::finish_article(body_only);
    let titled = article("2", "Ferrous metals", 50);
    // Words found in every article rank nothing: the others make "ferrous" rare.
    let others = (3..8).map(|i| article(&i.to_string(), "Gardening", i));
    let mut articles = vec![body_only, titled];
    articles.extend(others);
    save(
        &mut store,
        feed,
        &feed_of(articles),
        1000,
        &RetentionConfig::default(),
    );

    let hits = store.search("ferrous", 10).unwrap();
    let titles: Vec<_> = hits
        .iter()
        .map(|h| h.article.title.clone().unwrap())
        .collect();
    assert_eq!(titles, ["Ferrous metals", "Unrelated"]);
    assert_eq!(hits[0].feed_title, "Example");
    assert!(
        store.search("em", 10).unwrap().is_empty(),
        "markup is not indexed"
    );
    for hostile in ["\"", "AND OR NOT", "title:x*", "(", "NEAR(a b)"] {
        store.search(hostile, 10).unwrap();
    }
}

#[test]
fn search_follows_articles_that_change_in_a_batch_of_feeds() {
    let mut store = Store::open_in_memory().unwrap();
    let retention = RetentionConfig::default();
    let (a, _) = store.add_feed(&sub("http://a.test/f")).unwrap();
    let (b, _) = store.add_feed(&sub("http://b.test/f")).unwrap();
    save(
        &mut store,
        a,
        &feed_of(vec![article("1", "Gizmo", 1)]),
        10,
        &retention,
    );
    assert_eq!(store.search("gizmo", 10).unwrap().len(), 1);
    // One batch: the first feed's article is rewritten, the second feed's is new.
    let (changed, new) = (
        feed_of(vec![article("1", "Widget", 1)]),
        feed_of(vec![article("2", "Sprocket", 2)]),
    );
    let mut records = [FetchRecord::default(), FetchRecord::default()];
    let [first, second] = &mut records;
    let mut batch = [
        FetchToSave {
            feed: a,
            update: &changed,
            record: first,
        },
        FetchToSave {
            feed: b,
            update: &new,
            record: second,
        },
    ];
    let counts = store
        .save_fetches(&mut batch, None, 20, &retention)
        .unwrap();
    assert_eq!((counts[0].updated, counts[1].new), (1, 1));
    assert!(store.search("gizmo", 10).unwrap().is_empty());
    assert_eq!(store.search("widget", 10).unwrap().len(), 1);
    assert_eq!(store.search("sprocket", 10).unwrap().len(), 1);
}

#[test]
fn removing_a_feed_removes_its_articles_and_index_rows() {
    let mut store = Store::open_in_memory().unwrap();
    let (feed, _) = store.add_feed(&sub("http://a.test/f")).unwrap();
    save(
        &mut store,
        feed,
        &feed_of(vec![article("1", "Gizmo", 1)]),
        10,
        &RetentionConfig::default(),
    );
    assert_eq!(store.search("gizmo", 10).unwrap().len(), 1);
    assert_eq!(store.remove_feed(feed, true).unwrap(), Removed::Deleted);
    assert!(store.search("gizmo", 10).unwrap().is_empty());
    assert!(store.feeds().unwrap().is_empty());
}

#[test]
fn validators_survive_a_304_and_stats_derive_from_history() {
    let mut store = Store::open_in_memory().unwrap();
    let (feed, _) = store.add_feed(&sub("http://a.test/f")).unwrap();
    save(
        &mut store,
        feed,
        &feed_of(vec![article("1", "One", 1)]),
        10,
        &RetentionConfig::default(),
    );
    let mut not_modified = FetchRecord {
        http_status: Some(304),
        not_modified: true,
        ms_headers: 30,
        ..Default::default()
    };
    store
        .save_fetch(
            feed,
            None,
            &FeedUpdate::default(),
            &mut not_modified,
            20,
            &RetentionConfig::default(),
        )
        .unwrap();
    let target = &store.fetch_targets(None).unwrap()[0];
    assert_eq!(target.etag.as_deref(), Some("\"v1\""));
    for _ in 0..2 {
        let mut failed = FetchRecord {
            error_kind: Some(ErrorKind::Timeout),
            error_message: Some("no answer".into()),
            ..Default::default()
        };
        store
            .save_fetch(
                feed,
                None,
                &FeedUpdate::default(),
                &mut failed,
                30,
                &RetentionConfig {
                    fetch_history: 3,
                    ..Default::default()
                },
            )
            .unwrap();
    }
    assert_eq!(
        store.fetch_history(feed, 10).unwrap().len(),
        3,
        "history is capped per feed"
    );
    let stats = &store.feed_stats(40).unwrap()[0];
    assert_eq!(stats.failure_streak, 2);
    assert_eq!(stats.not_modified_share, Some(1.0));
    assert_eq!(stats.last_error.as_deref(), Some("timeout: no answer"));
    let row = &store.feed_list().unwrap()[0];
    assert_eq!(
        row.last_fetch.as_ref().unwrap().error_kind,
        Some(ErrorKind::Timeout)
    );
}

#[test]
fn the_last_fetchs_warning_shows_in_stats_and_the_list_until_a_clean_fetch() {
    let mut store = Store::open_in_memory().unwrap();
    let (feed, _) = store.add_feed(&sub("http://a.test/f")).unwrap();
    let warning = "recovered: an unclosed element; read 1 entry before byte 456";
    let mut recovered = FetchRecord {
        http_status: Some(200),
        warning: Some(warning.into()),
        ..Default::default()
    };
    store
        .save_fetch(
            feed,
            None,
            &feed_of(vec![article("1", "One", 1)]),
            &mut recovered,
            10,
            &RetentionConfig::default(),
        )
        .unwrap();
    let stats = &store.feed_stats(20).unwrap()[0];
    assert_eq!(stats.last_warning.as_deref(), Some(warning));
    assert_eq!(stats.last_error, None, "a warning is no failure");
    assert_eq!(stats.failure_streak, 0);
    let row = &store.feed_list().unwrap()[0];
    assert_eq!(
        row.last_fetch.as_ref().unwrap().warning.as_deref(),
        Some(warning)
    );

    save(
        &mut store,
        feed,
        &feed_of(vec![article("1", "One", 1)]),
        30,
        &RetentionConfig::default(),
    );
    assert_eq!(store.feed_stats(40).unwrap()[0].last_warning, None);
    assert_eq!(
        store.feed_list().unwrap()[0]
            .last_fetch
            .as_ref()
            .unwrap()
            .warning,
        None
    );
}

#[test]
fn a_second_connection_reads_while_the_first_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut writer = Store::open(&path).unwrap();
    let reader = Store::open(&path).unwrap();
    let (feed, _) = writer.add_feed(&sub("http://a.test/f")).unwrap();
    let tx = writer.conn.transaction().unwrap();
    tx.execute(
        "UPDATE feeds SET feed_title = 'pending' WHERE id = ?1",
        [feed.0],
    )
    .unwrap();
    // WAL: the reader sees the last committed state while a write is open.
    assert_eq!(reader.feeds().unwrap()[0].title, None);
    tx.commit().unwrap();
    assert_eq!(reader.feeds().unwrap()[0].title.as_deref(), Some("pending"));
}

#[test]
fn a_writer_that_never_pauses_keeps_the_wal_small() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut store = Store::open(&path).unwrap();
    // As the refresh's writer runs: no automatic checkpoints of its own.
    store
        .conn
        .pragma_update(None, "wal_autocheckpoint", 0)
        .unwrap();
    store
        .conn
        .execute_batch("CREATE TABLE filler(x BLOB)")
        .unwrap();
    let wal = || {
        std::fs::metadata(dir.path().join("t.db-wal"))
            .unwrap()
            .len()
    };
    let write_200_kb = |store: &mut Store| {
        let tx = store.conn.transaction().unwrap();
        for _ in 0..10 {
            tx.execute("INSERT INTO filler VALUES (zeroblob(20000))", [])
                .unwrap();
        }
        tx.commit().unwrap();
    };
    for _ in 0..20 {
        write_200_kb(&mut store);
    }
    assert!(
        wal() > 4_000_000,
        "without it the log only grows: {}",
        wal()
    );
    let limit = 1_000_000;
    for _ in 0..20 {
        write_200_kb(&mut store);
        store.keep_wal_under(limit).unwrap();
        assert!(wal() <= limit + 300_000, "{}", wal());
    }
    // A reader holding an old snapshot makes it give up, not wait or fail.
    let reader = Connection::open(&path).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM filler;")
        .unwrap();
    for _ in 0..10 {
        write_200_kb(&mut store);
    }
    let started = std::time::Instant::now();
    store.keep_wal_under(limit).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    reader.execute_batch("COMMIT").unwrap();
    store.keep_wal_under(limit).unwrap();
    assert!(wal() <= limit, "{}", wal());
    let rows: i64 = store
        .conn
        .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 500);
}

#[test]
fn a_write_held_by_another_process_fails_clearly_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut store = Store::open(&path).unwrap();
    store.add_feed(&sub("http://a.test/first")).unwrap();
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    store.set_busy_timeout(Duration::from_millis(50)).unwrap();
    let err = store.add_feed(&sub("http://a.test/second")).unwrap_err();
    assert!(matches!(err, StoreError::Locked), "{err:?}");
    assert!(err.to_string().contains("locked by another process"));
    other.execute_batch("ROLLBACK").unwrap();
    store.add_feed(&sub("http://a.test/second")).unwrap();
    let urls: Vec<_> = store.feeds().unwrap().into_iter().map(|f| f.url).collect();
    assert_eq!(urls, ["http://a.test/first", "http://a.test/second"]);
    assert!(store.check_integrity().is_ok());
}

#[test]
fn a_damaged_page_is_reported_as_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let mut store = Store::open(&path).unwrap();
        let (feed, _) = store.add_feed(&sub("http://a.test/f")).unwrap();
        let many: Vec<_> = (0..300)
            .map(|i| article(&i.to_string(), &format!("Title {i}"), i))
            .collect();
        save(
            &mut store,
            feed,
            &feed_of(many),
            10,
            &RetentionConfig::default(),
        );
        store
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    // Scribble over the middle third of the file, where the article pages are.
    let mut bytes = std::fs::read(&path).unwrap();
    let third = bytes.len() / 3;
    bytes[third..2 * third].fill(0xAB);
    std::fs::write(&path, bytes).unwrap();
    let outcome = Store::open(&path).and_then(|s| s.check_integrity());
    let err = outcome.expect_err("damage must be found");
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

/// A feed of `n` articles published one minute apart (article 0 the oldest).
fn feed_with(store: &mut Store, url: &str, n: i64) -> FeedId {
    let (id, _) = store.add_feed(&sub(url)).unwrap();
    let articles = (0..n)
        .map(|i| {
            article(
                &format!("{url}/{i}"),
                &format!("{url} #{i}"),
                1_000_000 + i * 60,
            )
        })
        .collect();
    save(
        store,
        id,
        &feed_of(articles),
        2_000_000,
        &RetentionConfig::default(),
    );
    id
}

fn titles(page: &[ArticleSummary]) -> Vec<String> {
    page.iter().map(|a| a.title.clone().unwrap()).collect()
}

#[test]
fn unread_counts_follow_inserts_reads_and_deletes() {
    let mut store = Store::open_in_memory().unwrap();
    let a = feed_with(&mut store, "a", 5);
    let b = feed_with(&mut store, "b", 3);
    let counts = |store: &Store| {
        store
            .feed_list()
            .unwrap()
            .iter()
            .map(|r| (r.unread, r.total))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&store), [(5, 5), (3, 3)]);
    let first = store.articles(a, 0, 1).unwrap()[0].id;
    store.set_read(first, true).unwrap();
    store.set_read(first, true).unwrap(); // twice: counted once
    assert_eq!(counts(&store), [(4, 5), (3, 3)]);
    assert_eq!(
        store.count_articles(ArticleSource::Unread, false).unwrap(),
        7
    );
    let marked = store.mark_all_read(ArticleSource::Feed(b)).unwrap();
    assert_eq!(marked.len(), 3);
    assert_eq!(counts(&store), [(4, 5), (0, 3)]);
    store.set_read_many(&marked, false).unwrap();
    assert_eq!(counts(&store), [(4, 5), (3, 3)]);
    store.remove_feed(a, false).unwrap();
    assert_eq!(counts(&store), [(3, 3)]);
    assert_eq!(
        store.count_articles(ArticleSource::Unread, false).unwrap(),
        3
    );
}

#[test]
fn pages_read_from_either_end_give_the_same_rows() {
    let mut store = Store::open_in_memory().unwrap();
    let a = feed_with(&mut store, "a", 50);
    feed_with(&mut store, "b", 20);
    for (source, total) in [(ArticleSource::Feed(a), 50), (ArticleSource::Unread, 70)] {
        for newest_first in [true, false] {
            let all = store
                .article_page(source, false, newest_first, (0, total), total)
                .unwrap();
            assert_eq!(all.len() as u64, total);
            let dates: Vec<i64> = all.iter().map(|a| a.date).collect();
            let mut sorted = dates.clone();
            sorted.sort();
            if newest_first {
                sorted.reverse();
            }
            assert_eq!(dates, sorted, "{source:?} in date order");
            for offset in [0, 10, total / 2, total / 2 + 1, total - 7] {
                let page = store
                    .article_page(source, false, newest_first, (offset, 10), total)
                    .unwrap();
                let end = (offset + 10).min(total) as usize;
                assert_eq!(titles(&page), titles(&all[offset as usize..end]));
                let here = &page[0];
                let position = store
                    .article_position(source, false, newest_first, here)
                    .unwrap();
                assert_eq!(position, offset, "{source:?} newest_first={newest_first}");
            }
        }
    }
}

#[test]
fn unread_only_lists_and_starred_list() {
    let mut store = Store::open_in_memory().unwrap();
    let a = feed_with(&mut store, "a", 4);
    let page = store.articles(a, 0, 4).unwrap();
    store.set_read(page[0].id, true).unwrap();
    store.set_starred(page[1].id, true).unwrap();
    store.set_starred(page[0].id, true).unwrap();
    let source = ArticleSource::Feed(a);
    assert_eq!(store.count_articles(source, true).unwrap(), 3);
    let unread = store.article_page(source, true, true, (0, 10), 3).unwrap();
    assert_eq!(titles(&unread), ["a #2", "a #1", "a #0"]);
    let starred = ArticleSource::Starred;
    assert_eq!(store.count_articles(starred, false).unwrap(), 2);
    assert_eq!(store.count_articles(starred, true).unwrap(), 1);
    let rows = store
        .article_page(starred, false, true, (0, 10), 2)
        .unwrap();
    assert_eq!(titles(&rows), ["a #3", "a #2"]);
}

#[test]
fn titles_tags_settings_and_one_article_with_its_body() {
    let mut store = Store::open_in_memory().unwrap();
    let a = feed_with(&mut store, "a", 1);
    store.set_feed_title(a, Some("Mine")).unwrap();
    store
        .set_feed_tags(a, &["news".to_string(), "tech".to_string()])
        .unwrap();
    let row = &store.feed_list().unwrap()[0];
    assert_eq!(row.feed.display_name(), "Mine");
    assert_eq!(row.feed.tags, ["news", "tech"]);
    store.set_feed_title(a, None).unwrap();
    assert_eq!(store.feed_list().unwrap()[0].feed.display_name(), "Example");

    let id = store.articles(a, 0, 1).unwrap()[0].id;
    let body = store.article(id).unwrap().unwrap();
    assert_eq!(body.content.as_deref(), Some("<p>Body of <b>a #0</b></p>"));
    assert!(store.article(ArticleId(9999)).unwrap().is_none());

    assert_eq!(store.setting("welcome").unwrap(), None);
    store.set_setting("welcome", "added").unwrap();
    store.set_setting("welcome", "again").unwrap();
    assert_eq!(store.setting("welcome").unwrap().as_deref(), Some("again"));
}

#[test]
fn data_version_moves_when_another_connection_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let reader = Store::open(&path).unwrap();
    let before = reader.data_version().unwrap();
    let mut writer = Store::open(&path).unwrap();
    writer.add_feed(&sub("http://a.test/feed")).unwrap();
    assert_ne!(reader.data_version().unwrap(), before);
}

#[test]
fn image_failures_are_counted_by_a_short_reason() {
    use super::images::failure_reason;
    use crate::model::ImageStatus::{Failed, Refused};
    let cases = [
        (Failed, Some("HTTP 404 Not Found"), "HTTP 404"),
        (Failed, Some("timed out: reading the body"), "timeout"),
        (
            Failed,
            Some("cannot connect: connection refused"),
            "cannot connect",
        ),
        (
            Refused,
            Some("larger than the limit of 10485760 bytes"),
            "refused: too large",
        ),
        (
            Refused,
            Some("9000×9000 pixels is over the limit"),
            "refused: too many pixels",
        ),
        (
            Refused,
            Some("not an image (no PNG, JPEG, GIF, WebP or SVG signature)"),
            "refused: not an image",
        ),
        (Failed, None, "unknown"),
    ];
    for (status, error, reason) in cases {
        assert_eq!(failure_reason(status, error), reason, "{error:?}");
    }
}

/// A feed that dates nothing lists its articles newest first: the list
/// shows them in the feed's order, and a later fetch's new ones above.
#[test]
fn undated_articles_keep_the_feeds_order() {
    let mut store = Store::open_in_memory().unwrap();
    let (feed, _) = store.add_feed(&sub("http://undated.test/feed")).unwrap();
    let undated = |key: &str| ParsedArticle {
        published: None,
        ..article(key, key, 0)
    };
    let retention = RetentionConfig::default();
    let first = feed_of(["third", "second", "first"].map(undated).to_vec());
    save(&mut store, feed, &first, 5_000_000, &retention);
    assert_eq!(
        titles(&store.articles(feed, 0, 10).unwrap()),
        ["third", "second", "first"]
    );
    let later = feed_of(
        ["fifth", "fourth", "third", "second", "first"]
            .map(undated)
            .to_vec(),
    );
    save(&mut store, feed, &later, 5_000_100, &retention);
    assert_eq!(
        titles(&store.articles(feed, 0, 10).unwrap()),
        ["fifth", "fourth", "third", "second", "first"]
    );
}
