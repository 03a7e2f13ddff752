//! The one writer of a refresh run: a thread that owns the store for the run,
//! saves each fetched feed (articles, HTTP state and fetch record together)
//! and each finished image download, reports [`Progress::FeedDone`], and
//! tells the run loop which images a saved feed needs. Nothing else writes
//! fetch results, so a subscription made while a run is in progress joins
//! that run rather than opening a writer of its own.

use tokio::sync::mpsc;

use super::images::{ImageBatch, ImageDone, ImageLedger};
use super::stages::Fetched;
use super::{FeedDone, Progress, RefreshStats};
use crate::clock::Clock;
use crate::config::RetentionConfig;
use crate::model::{ErrorKind, RunStats};
use crate::store::{FetchToSave, ImageOutcome, Store, StoreError};

/// What the writer is handed: a fetched feed, finished image downloads, or
/// (in a bulk first refresh, once every feed is in) the indexes to build.
pub(super) enum WriterJob {
    Feed(Box<Fetched>),
    Image(Box<ImageDone>),
    BuildDateIndexes,
}

/// The one writer of a run, on a thread of its own so that the dispatch loop
/// never waits for SQLite: saves the fetched feeds in the order they come,
/// reports each, and counts the run's totals. Feeds that queued up while it
/// was writing go into one transaction together (group commit: each feed, and
/// the batch, is all or nothing), since a commit's fixed cost (the search
/// index flush) is most of a small feed's. WAL checkpoints run beside it on
/// another thread.
pub(super) fn write_fetched(
    store: &mut Store,
    run_id: i64,
    retention: &RetentionConfig,
    mut queue: mpsc::UnboundedReceiver<WriterJob>,
    progress: &mpsc::UnboundedSender<Progress>,
    image_batches: Option<&mpsc::UnboundedSender<ImageBatch>>,
    clock: &Clock,
) -> Result<RunStats, StoreError> {
    let _checkpoints = store.background_checkpoints()?;
    let mut totals = RefreshStats::default();
    let mut ledger = ImageLedger::default();
    let mut feeds: Vec<Fetched> = Vec::new();
    let mut images: Vec<ImageDone> = Vec::new();
    let mut build_indexes = false;
    while let Some(first) = queue.blocking_recv() {
        // Whatever queued up while the last batch was being written goes in this one.
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                WriterJob::Feed(fetched) => feeds.push(*fetched),
                WriterJob::Image(done) => images.push(*done),
                WriterJob::BuildDateIndexes => build_indexes = true,
            }
            if feeds.len() < MAX_BATCH && images.len() < MAX_IMAGE_BATCH {
                next = queue.try_recv().ok();
            }
        }
        let now = clock.now_secs();
        // Articles first: images never hold a feed back.
        if !feeds.is_empty() {
            for fetched in &mut feeds {
                back_off_unreachable(store, fetched, now)?;
            }
            let mut to_save: Vec<FetchToSave> = feeds
                .iter_mut()
                .map(|f| FetchToSave {
                    feed: f.target.id,
                    update: &f.update,
                    record: &mut f.record,
                })
                .collect();
            let counts = store.save_fetches(&mut to_save, Some(run_id), now, retention)?;
            for (fetched, counts) in feeds.drain(..).zip(counts) {
                let batch = match image_batches {
                    // A feed whose images are not cached answers with none.
                    Some(_) if fetched.target.images == Some(false) => Some(ImageBatch {
                        fetch_id: Some(counts.fetch_id),
                        feed_url: fetched.target.fetch_url.clone(),
                        jobs: Vec::new(),
                    }),
                    Some(_) => Some(ledger.plan(
                        store,
                        now,
                        fetched.target.id,
                        Some(counts.fetch_id),
                        &fetched.target.fetch_url,
                        fetched.update.parsed.as_ref(),
                    )?),
                    None => None,
                };
                let done = Progress::FeedDone(FeedDone {
                    feed_id: fetched.target.id,
                    title: fetched.target.title.clone(),
                    record: fetched.record,
                });
                totals.apply(&done);
                let _ = progress.send(done);
                if let (Some(to_loop), Some(batch)) = (image_batches, batch) {
                    let _ = to_loop.send(batch);
                }
            }
        }
        if !images.is_empty() {
            let outcomes: Vec<&ImageOutcome> = images.iter().map(|d| &d.outcome).collect();
            store.save_images(&outcomes, now)?;
            for done in ledger.record(store, &images)? {
                let _ = progress.send(done);
            }
            images.clear();
        }
        if std::mem::take(&mut build_indexes) {
            let building = std::time::Instant::now();
            store.build_date_indexes()?;
            tracing::info!("built the indexes by date in {:?}", building.elapsed());
        }
        store.keep_wal_under(WAL_LIMIT_BYTES)?;
    }
    Ok(totals.totals())
}

/// The writer has the WAL checkpointed and truncated between two batches once
/// it is larger than this.
const WAL_LIMIT_BYTES: u64 = 256 << 20;

/// Most feeds saved in one transaction. The writer takes what queued up while
/// it was busy, so batches are this large only when it has fallen behind, and
/// then a larger transaction is what lets it catch up: the indexes ordered by
/// date take new rows all over their trees, and a transaction writes each
/// page it touched once. With at most 16, storing a feed took twice as long at
/// the twentieth thousand feeds of a cold refresh as at the first; with 128
/// it grows by a tenth (`benches/load.py`).
const MAX_BATCH: usize = 128;
/// Most image outcomes saved in one transaction (each is one small row).
const MAX_IMAGE_BATCH: usize = 64;

/// Longest wait a feed whose host cannot be reached is given before the
/// reader's timer asks again (an interval longer than this is kept).
const LONGEST_UNREACHABLE_WAIT_SECS: i64 = 24 * 3600;

/// A feed whose host could not be reached (or was found down in the run)
/// waits its interval doubled for each earlier time in a row, up to a day,
/// before the reader's timer asks again: a host that is gone is not asked
/// every hour for ever. `tidings refresh` and `r` still ask at once.
fn back_off_unreachable(store: &Store, fetched: &mut Fetched, now: i64) -> Result<(), StoreError> {
    let unreachable = fetched
        .record
        .error_kind
        .is_some_and(ErrorKind::host_unreached);
    let Some(next) = fetched.update.next_fetch_at.filter(|_| unreachable) else {
        return Ok(());
    };
    let interval = (next - now).max(60);
    let earlier = store.unreachable_streak(fetched.target.id, 8)?;
    let wait = interval
        .saturating_mul(1 << earlier)
        .min(LONGEST_UNREACHABLE_WAIT_SECS.max(interval));
    fetched.update.next_fetch_at = Some(now + wait);
    Ok(())
}
