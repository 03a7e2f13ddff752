//! Sync in the worker: the sync itself (`sync::sync`, with this worker's
//! store), then what any refresh does after new articles arrive: their images
//! from their own hosts, their pages for the feeds that want full text. Runs
//! under the refresh lock, so a cron `tidings sync` and a refresh never write
//! at once.
//!
//! When a sync is due: `tidings sync` and `r` always sync; the reader's timer
//! asks every minute ([`Command::SyncDue`](super::Command)), and the worker
//! syncs when the interval has passed since the last one, pushes alone when
//! changes made here wait (so a read reaches the server within a minute or
//! two), or, after failures, tries again when the backoff is over (1, 2, 4
//! … 60 minutes). A subscription made in the reader is pushed at once.

use std::collections::HashSet;
use std::time::Instant;

use tokio::sync::mpsc;

use super::images::ImageTask;
use super::{Progress, Refresher};
use crate::images::ImagesToFind;
use crate::model::{FeedId, ImageStats};
use crate::store::{StoreError, SyncRecord};
use crate::sync::{Pulling, SyncError};

/// Longest wait between two attempts after failures.
const MOST_BACKOFF_SECS: i64 = 3600;

impl Refresher {
    /// Whether the reader's timer should sync now, and how: a full sync when
    /// the interval since the last one has passed; only a push when changes
    /// made here wait and the last sync is a minute old (so that a read
    /// reaches the other devices soon); after failures, nothing until the
    /// backoff is over. `None`: not now.
    pub(super) fn sync_due(&self) -> Result<Option<bool>, StoreError> {
        let (Some(sync), Some(store)) = (&self.config.sync, self.store.as_ref()) else {
            return Ok(None);
        };
        let Some(last) = store.recent_syncs(1)?.pop() else {
            return Ok(Some(false));
        };
        let now = self.clock.now_secs();
        let failures = store.sync_failures_in_a_row()?;
        if failures > 0 {
            let backoff = (60_i64 << (failures - 1).min(6)).min(MOST_BACKOFF_SECS);
            return Ok((now >= last.started_at + backoff).then_some(false));
        }
        let minutes = sync
            .interval_minutes
            .unwrap_or(self.config.refresh.interval_minutes);
        if minutes > 0 && now >= last.started_at + minutes as i64 * 60 {
            return Ok(Some(false));
        }
        let waiting = now >= last.started_at + 60 && store.sync_changes_waiting()? > 0;
        Ok(waiting.then_some(true))
    }

    /// Syncs with the configured server, then caches the new articles'
    /// images and pages; reports [`Progress::Synced`]. Nothing to do
    /// without a `[sync]` section. `push_only`: only the changes made here
    /// go to the server (a new subscription), nothing is pulled.
    pub(super) async fn sync_now(
        &mut self,
        push_only: bool,
        progress: &mpsc::UnboundedSender<Progress>,
    ) {
        let Some(config) = self.config.sync.clone() else {
            return;
        };
        let started = self.clock.now_secs();
        let _ = progress.send(Progress::Syncing);
        let record = match crate::sync::connect(&config, &self.config.refresh) {
            Ok(mut backend) => {
                let Some(store) = self.store.as_mut() else {
                    let busy = SyncError::Protocol("the database is busy with a refresh".into());
                    let record = self.record_unstarted(&config, started, busy);
                    let _ = progress.send(Progress::Synced(Box::new(record)));
                    return;
                };
                let pulling = Pulling {
                    push_only,
                    retention: &self.config.retention,
                    images: ImagesToFind::when_caching(self.config.images.cache),
                    clock: &self.clock,
                };
                let account = crate::sync::account(&config);
                let synced =
                    crate::sync::sync(&mut backend, store, &account, &config.server(), &pulling)
                        .await;
                let mut record = synced.record;
                let images_started = Instant::now();
                match self
                    .cache_synced_images(&synced.feeds_with_new, progress)
                    .await
                {
                    Ok(stats) if stats.found > 0 => {
                        let _ = progress.send(Progress::ImagesDone {
                            feed_id: FeedId(0),
                            stats,
                        });
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("caching synced articles' images failed: {e}"),
                }
                if let Err(e) = self.fetch_new_pages(started, progress).await {
                    tracing::warn!("fetching synced articles' pages failed: {e}");
                }
                record.ms_images = images_started.elapsed().as_millis() as u64;
                record.ms_total += record.ms_images;
                if let Some(store) = self.store.as_mut()
                    && let Err(e) = store.save_sync_record(&record)
                {
                    tracing::warn!("cannot record the sync: {e}");
                }
                record
            }
            Err(e) => self.record_unstarted(&config, started, e),
        };
        let _ = progress.send(Progress::Synced(Box::new(record)));
    }

    /// The record of a sync that could not start (no password): kept like
    /// any other, so that `tidings stats` and the reader show it.
    fn record_unstarted(
        &mut self,
        config: &crate::config::SyncConfig,
        started: i64,
        error: SyncError,
    ) -> SyncRecord {
        let record = SyncRecord {
            started_at: started,
            backend: config.backend.name().to_string(),
            server: config.server(),
            error_kind: Some(error.kind().to_string()),
            error: Some(error.to_string()),
            ..SyncRecord::default()
        };
        if let Some(store) = self.store.as_mut()
            && let Err(e) = store.save_sync_record(&record)
        {
            tracing::warn!("cannot record the sync: {e}");
        }
        record
    }

    /// Downloads the images of the synced feeds' new articles (see
    /// `image_downloads`).
    async fn cache_synced_images(
        &mut self,
        feeds: &HashSet<FeedId>,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<ImageStats, StoreError> {
        let (Some(plan), Some(store)) = (self.images.clone(), self.store.as_ref()) else {
            return Ok(ImageStats::default());
        };
        let now = self.clock.now_secs();
        let mut wanted = Vec::new();
        for feed in feeds {
            let own = store.feed_settings(*feed)?.and_then(|s| s.images);
            if !super::run::feed_caches_images(&self.config, own) {
                continue;
            }
            let feed_url = store.fetch_url_of(*feed)?.unwrap_or_default();
            wanted.push((feed_url, store.images_to_fetch(*feed, now)?));
        }
        let mut tasks = Vec::new();
        for (feed_url, jobs) in wanted {
            let public_only = !crate::fetch::address::feed_is_private(&feed_url).await;
            tasks.extend(jobs.into_iter().map(|job| ImageTask {
                fetch_id: None,
                job,
                public_only,
            }));
        }
        self.download_images(plan, tasks, Some(progress)).await
    }
}
