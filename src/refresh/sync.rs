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

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::images::{self, ImageDone, ImageTask};
use super::{Progress, Refresher};
use crate::images::ImagesToFind;
use crate::model::{FeedId, ImageStats};
use crate::store::{ImageOutcome, StoreError, SyncRecord};
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

    /// Downloads the images of the synced feeds' new articles: each host's
    /// images at most `refresh.per_host` at a time, `images.concurrency` in
    /// all; a host that fails to answer twice in a row has the rest of its
    /// images deferred to a later run, as a refresh does.
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
            let feed_url = store.fetch_url_of(*feed)?.unwrap_or_default();
            wanted.push((feed_url, store.images_to_fetch(*feed, now)?));
        }
        let mut by_host: HashMap<String, VecDeque<ImageTask>> = HashMap::new();
        let mut total = 0;
        for (feed_url, jobs) in wanted {
            let public_only = !crate::fetch::address::feed_is_private(&feed_url).await;
            for job in jobs {
                let host = url::Url::parse(&job.url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_default();
                by_host.entry(host).or_default().push_back(ImageTask {
                    fetch_id: None,
                    job,
                    public_only,
                });
                total += 1;
            }
        }
        if total == 0 {
            return Ok(ImageStats::default());
        }
        let started = Instant::now();
        let all = Arc::new(Semaphore::new(plan.concurrency.max(1)));
        let mut hosts = JoinSet::new();
        for (host, tasks) in by_host {
            let queue = Arc::new(std::sync::Mutex::new(HostQueue {
                tasks,
                unreached_in_a_row: 0,
            }));
            for _ in 0..self.config.refresh.per_host.max(1) {
                let (queue, all, plan) = (queue.clone(), all.clone(), plan.clone());
                let (fetcher, host) = (self.fetcher.clone(), host.clone());
                hosts.spawn(async move {
                    let mut done = Vec::new();
                    loop {
                        let (task, down) = {
                            let mut q = queue.lock().expect("not poisoned");
                            (q.tasks.pop_front(), q.unreached_in_a_row >= 2)
                        };
                        let Some(task) = task else { break };
                        if down {
                            done.push(ImageDone::deferred(task, &host));
                            continue;
                        }
                        let _slot = all.clone().acquire_owned().await.expect("never closed");
                        let fetched = images::fetch(fetcher.clone(), &plan, task).await;
                        {
                            let mut q = queue.lock().expect("not poisoned");
                            q.unreached_in_a_row = if fetched.reached {
                                0
                            } else {
                                q.unreached_in_a_row + 1
                            };
                        }
                        done.push(images::check_and_write(plan.clone(), fetched).await);
                    }
                    done
                });
            }
        }
        let mut stats = ImageStats::default();
        let mut outcomes: Vec<ImageDone> = Vec::new();
        while let Some(joined) = hosts.join_next().await {
            if let Ok(done) = joined {
                outcomes.extend(done);
                let _ = progress.send(Progress::Images {
                    done: outcomes.len(),
                    total,
                    deferred: 0,
                });
            }
        }
        for done in &outcomes {
            done.count_in(&mut stats);
        }
        stats.found = outcomes.len() as u64;
        stats.ms = started.elapsed().as_millis() as u64;
        let saved: Vec<&ImageOutcome> = outcomes.iter().map(|d| &d.outcome).collect();
        if let Some(store) = self.store.as_mut() {
            store.save_images(&saved, self.clock.now_secs())?;
        }
        Ok(stats)
    }
}

/// One host's images still to download, and whether it stopped answering.
struct HostQueue {
    tasks: VecDeque<ImageTask>,
    unreached_in_a_row: u32,
}
