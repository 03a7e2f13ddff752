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
