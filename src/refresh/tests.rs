//! The progress fold, fed a sequence as a run reports it.

use super::*;

#[test]
fn refresh_stats_fold_a_progress_sequence() {
    let mut stats = RefreshStats::default();
    let done = |failed: bool, not_modified: bool, new: u64, bytes: u64| {
        Progress::FeedDone(FeedDone {
            feed_id: FeedId(1),
            title: "t".into(),
            record: FetchRecord {
                error_kind: failed.then_some(crate::model::ErrorKind::Timeout),
                not_modified,
                new_articles: new,
                bytes_wire: bytes,
                ..Default::default()
            },
        })
    };
    stats.apply(&Progress::Started {
        total: 3,
        skipped: 1,
        resting: None,
    });
    assert!(stats.running());
    stats.apply(&done(false, false, 5, 100));
    stats.apply(&done(false, true, 0, 0));
    stats.apply(&done(true, false, 0, 0));
    assert_eq!(
        (stats.done, stats.ok, stats.not_modified, stats.failed),
        (3, 2, 1, 1)
    );
    assert_eq!((stats.new_articles, stats.bytes_wire), (5, 100));
    stats.apply(&Progress::Finished(RunStats::default()));
    assert!(!stats.running());
    stats.apply(&Progress::Started {
        total: 1,
        skipped: 0,
        resting: None,
    });
    assert_eq!((stats.done, stats.ok), (0, 0), "a new run starts from zero");
}

#[test]
fn a_subscription_that_joins_a_run_counts_towards_its_total() {
    let mut stats = RefreshStats::default();
    stats.apply(&Progress::Started {
        total: 2,
        skipped: 0,
        resting: None,
    });
    stats.apply(&Progress::Joined { feeds: 1 });
    assert_eq!(stats.total, 3);
    assert!(stats.running());
}

/// When the reader's timer syncs: at once the first time, then each interval;
/// a push alone when a change waits and the last sync is a minute old; after
/// failures, only when the backoff (1, 2, 4 … minutes) is over.
#[test]
fn a_sync_is_due_by_interval_waiting_changes_and_backoff() {
    use crate::store::SyncRecord;
    use std::time::Duration;
    let clock = Clock::manual(1_800_000_000_000);
    let config = Config {
        sync: Some(
            toml::from_str(
                "backend = \"ttrss\"\nurl = \"http://s/\"\nuser = \"u\"\ninterval_minutes = 15",
            )
            .unwrap(),
        ),
        ..Config::default()
    };
    let refresher = |store: Store| {
        Refresher::new(store, config.clone())
            .unwrap()
            .with_clock(clock.clone())
    };
    let mut store = Store::open_in_memory().unwrap();
    assert_eq!(
        refresher(Store::open_in_memory().unwrap())
            .sync_due()
            .unwrap(),
        Some(false)
    );
    let record = |error: bool| SyncRecord {
        started_at: clock.now_secs(),
        error_kind: error.then(|| "unreachable".to_string()),
        error: error.then(|| "down".to_string()),
        ..SyncRecord::default()
    };
    store.save_sync_record(&record(false)).unwrap();
    let mut worker = refresher(store);
    assert_eq!(worker.sync_due().unwrap(), None);
    clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(worker.sync_due().unwrap(), Some(false));

    // Two failures in a row: the next try waits two minutes.
    let store = worker.store.as_mut().unwrap();
    store.save_sync_record(&record(true)).unwrap();
    store.save_sync_record(&record(true)).unwrap();
    clock.advance(Duration::from_secs(119));
    assert_eq!(worker.sync_due().unwrap(), None);
    clock.advance(Duration::from_secs(1));
    assert_eq!(worker.sync_due().unwrap(), Some(false));

    // A subscription waits to be pushed: a push alone, a minute after the last sync.
    let store = worker.store.as_mut().unwrap();
    store.save_sync_record(&record(false)).unwrap();
    store
        .add_feed(&crate::store::NewSubscription {
            url: "https://example.org/feed.xml".into(),
            ..Default::default()
        })
        .unwrap();
    clock.advance(Duration::from_secs(59));
    assert_eq!(worker.sync_due().unwrap(), None);
    clock.advance(Duration::from_secs(1));
    assert_eq!(worker.sync_due().unwrap(), Some(true));
}
